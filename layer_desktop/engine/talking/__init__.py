"""Talking heads: one photo (or a persona) and a script or a recording become a video of the face speaking.

    TalkSpec (``talking.spec``)          photo | persona, script | script file | audio, voice, size, motion
    render_talk(spec) (``talking.render``)  speech → visemes, blinks, head motion → encode + disclosure + C2PA

The offline animator ``animate`` (``talking.animate``) needs no model weights; model backends live beside it.
"""
