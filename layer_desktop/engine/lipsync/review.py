"""The review flags of the lip-sync stage (kept apart so the job's records can use them cheaply)."""

from __future__ import annotations

OUT_OF_SYNC_FRAMES = 2  # |offset| above this is visible to most viewers (80 ms at 25 fps)
SYNC_CONFIDENT = 0.2  # below this the measure cannot tell (a still mouth, music, noise)


def sync_flags(av_offset: int | None, confidence: float | None, open_in_silence: bool | None) -> list[str]:
    """``out_of_sync`` when a confident measure puts the sound more than 2 frames off the mouth;
    ``mouth_in_silence`` when the mouth is open inside a silence longer than 350 ms."""
    flags = []
    if (
        av_offset is not None
        and abs(av_offset) > OUT_OF_SYNC_FRAMES
        and (confidence or 0.0) >= SYNC_CONFIDENT
    ):
        flags.append("out_of_sync")
    if open_in_silence:
        flags.append("mouth_in_silence")
    return flags
