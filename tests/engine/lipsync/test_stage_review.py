"""The review side of the lip-sync stage: per-frame offsets, silences, and the flags they raise."""

from __future__ import annotations

import numpy as np
import pytest

from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.lipsync.review import sync_flags
from layer_desktop.engine.lipsync.stage import options_at, review_sync, silent_frames
from layer_desktop.engine.pipeline.records import FrameRecord, flag


def _speech(frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(np.convolve(rng.normal(size=frames), np.hanning(5), mode="same"), np.float64)


def test_a_late_sound_and_an_open_mouth_in_silence_are_flagged() -> None:
    fps, n = 25.0, 150
    mouth = _speech(n, 1) * 0.05 + 0.15
    loud = np.roll(_speech(n, 1), 5) - 2.0  # the sound 5 frames after the mouth
    loud[100:] = np.log(1e-4)  # 2 s of silence at the end, with the mouth left open
    review = review_sync(mouth, loud, fps)
    assert review.at(10)[0] == 5 and (review.at(10)[1] or 0) > 0.3
    silent = silent_frames(loud, fps)
    assert not silent[:101].any() and silent[101:149].all() and not silent[149]
    offset, confidence, open_in_silence = review.at(120)
    record = FrameRecord(120, 1, 0, 0.9, 0.99, 0.0, True, None, "landmark", av_offset=offset,
                         sync_confidence=confidence, mouth_open_in_silence=open_in_silence)  # fmt: skip
    record = flag(record, True, False)
    assert record.flags == ("out_of_sync", "mouth_in_silence")


def test_flags_need_a_confident_offset_over_two_frames() -> None:
    assert sync_flags(2, 0.9, False) == []
    assert sync_flags(-3, 0.9, None) == ["out_of_sync"]
    assert sync_flags(-3, 0.1, None) == []
    assert sync_flags(None, None, True) == ["mouth_in_silence"]


def test_segments_switch_lipsync_per_frame() -> None:
    base = LipSyncOptions(enabled=True)
    off = LipSyncOptions(enabled=False)
    segments = [(10, 20, off), (15, 30, None)]
    assert options_at(base, segments, 5) is base
    assert options_at(base, segments, 12) is off
    assert options_at(base, segments, 18) is off  # a segment without lip-sync settings keeps the frame's


def test_a_rerender_segment_turns_lipsync_off_or_picks_a_backend() -> None:
    from layer_desktop.engine.pipeline.spec import TransformSpec
    from layer_desktop.errors import InputError

    spec = TransformSpec(source="in.mp4", output="out.mp4", persona="p", lipsync=LipSyncOptions(enabled=True))
    off = spec.with_segment(10, 20, {"lipsync": "off"})
    assert off.segments[-1].lipsync == LipSyncOptions(enabled=False)
    wav = spec.with_segment(0, 5, {"lipsync": "wav2lip", "smoothing": "1"})
    assert wav.segments[-1].lipsync is not None and wav.segments[-1].lipsync.backend == "wav2lip"
    assert spec.with_segment(0, 5, {"smoothing": "1"}).segments[-1].lipsync is None  # keeps the job's
    with pytest.raises(InputError, match="lip-sync setting"):
        spec.with_segment(0, 5, {"lipsync": "loud"})
    segments = [(s.start, s.stop, s.lipsync) for s in off.segments]
    assert [options_at(off.lipsync, segments, f).enabled for f in (9, 10, 20, 21)] == [
        True,
        False,
        False,
        True,
    ]
