"""Face analysis split into ranges (a cluster's workers, run here one after another): on the generated
real footage (cuts, a dissolve, bystanders, a face entering mid-shot) the linked result equals one
engine's analysis interrupted at the same chunks and resumed, track ids and boxes in every frame, and so
its shots and shot-split tracks."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import AnalysisKey, analyse_video, chunk_file, load_chunk
from layer_desktop.engine.pipeline.analysis_split import analyse_range, link_ranges, split_ranges

pytestmark = pytest.mark.slow
KEY = AnalysisKey("footage", "auto", 25)  # 250 frames: 10 analysis chunks


def _faces(folder: Path) -> list[list[tuple[int | None, tuple[float, ...]]]]:
    frames = []
    for i in range(10):
        frames += [[(f.track_id, f.bbox) for f in faces] for faces in load_chunk(chunk_file(folder, i))[2]]
    return frames


def test_split_ranges_cover_every_chunk_once_in_order() -> None:
    assert split_ranges(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert split_ranges(2, 8) == [(0, 1), (1, 2)]
    assert split_ranges(1, 4) == [(0, 1)]
    for chunks in range(1, 30):
        for parts in range(1, 9):
            ranges = split_ranges(chunks, parts)
            assert [a for a, _ in ranges] == [0, *(b for _, b in ranges[:-1])] and ranges[-1][1] == chunks


def test_ranges_linked_equal_one_engine_resumed_at_the_same_chunks(real_footage: Any, tmp_path: Path) -> None:
    ranges = split_ranges(10, 3)  # (0, 3), (3, 7), (7, 10): boundaries at frames 75 and 175
    split = tmp_path / "split"
    for first, stop in reversed(ranges):  # in any order, as workers finish
        with FrameReader(str(real_footage.small_path)) as reader:
            written = analyse_range(reader, split, KEY, first, stop)
        assert [p.name for p in written] == [f"faces_{i:05d}.npz" for i in range(first, stop)]
    link_ranges(split, ranges)

    resumed = tmp_path / "resumed"
    for boundary in (75, 175, None):  # interrupted where each range starts, then resumed
        cancel = threading.Event()

        def stop(done: int, total: int, at: int | None = boundary, event: threading.Event = cancel) -> None:
            if done == at:
                event.set()

        with FrameReader(str(real_footage.small_path)) as reader:
            if boundary is None:
                reference = analyse_video(reader, resumed, KEY)
            else:
                with pytest.raises(RenderCancelled):
                    analyse_video(reader, resumed, KEY, progress=stop, cancel=cancel)

    ours, theirs = _faces(split), _faces(resumed)
    assert len(ours) == len(theirs) == 250 and ours == theirs
    ids = {t for faces in ours for t, _ in faces}
    assert len(ids) >= 3  # the astronaut and the bystanders, through cuts
    with FrameReader(str(real_footage.small_path)) as reader:
        linked = analyse_video(reader, split, KEY)  # every chunk there: shots and shot-split tracks
    assert linked.shots == reference.shots and len(linked.shots) >= 3
    assert [[f.track_id for f in fs] for fs in linked.frames] == [
        [f.track_id for f in fs] for fs in reference.frames
    ]
