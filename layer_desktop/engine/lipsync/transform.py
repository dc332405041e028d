"""Hooking the lip-sync stage into a transform job: its driving audio, and the output's audio."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from layer_desktop.engine.lipsync.audio import fit_audio
from layer_desktop.engine.lipsync.stage import LipSyncStage, build_stage, script_audio
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice.speech import Timing
from layer_desktop.errors import InputError

if TYPE_CHECKING:  # the pipeline imports this module: no runtime import back
    from layer_desktop.engine.pipeline.plan import FramePlan
    from layer_desktop.engine.pipeline.spec import TransformSpec


class _Processor(Protocol):
    plan: Sequence[FramePlan]
    lipsync: LipSyncStage | None


def lipsync_wanted(spec: TransformSpec) -> bool:
    return spec.lipsync.enabled or any(s.lipsync is not None and s.lipsync.enabled for s in spec.segments)


def attach_lipsync(
    spec: TransformSpec,
    folder: Path,
    processor: _Processor,
    audio: str,
    models: ModelStore | None = None,
    personas: PersonaStore | None = None,
) -> str:
    """Give ``processor`` the job's lip-sync stage (when any frame has lip-sync on) and return the
    output's audio: ``audio`` as it was, a replacement track fitted to the source (the voice stage's
    length rules), or the spec's script spoken by the persona. Raises ``InputError`` when lip-sync has
    no audio to follow, model errors as ``make_lipsyncer`` does."""
    if not lipsync_wanted(spec):
        return audio
    phonemes: tuple[Timing, ...] = ()
    if spec.lipsync.script:
        audio, phonemes = script_audio(spec.lipsync.script, spec.persona, folder, spec.source, personas)
    elif audio not in ("source", "none") and audio == spec.audio:
        audio = str(fit_audio(audio, spec.source, folder / "audio.wav"))
    if audio == "none":
        raise InputError(
            "Lip-sync needs audio to follow, but the output has none.", hint="Give --audio FILE."
        )
    with FrameReader(spec.source) as reader:
        fps = float(reader.stream.average_rate or 25)
    segments = [(s.start, s.stop, s.lipsync) for s in spec.segments]
    driving = spec.source if audio == "source" else audio
    processor.lipsync = build_stage(
        spec.lipsync, segments, processor.plan, driving, fps, phonemes=phonemes, models=models
    )
    return audio
