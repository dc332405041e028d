"""Face analysis split into ranges of chunks that several workers analyse at once (a long video on a
cluster). Each range is analysed as a resumed analysis starts at that chunk: a fresh tracker, reset at
the range's first frame, the cut test fed with the frames just before it. The driver then links each
range's tracks to the previous range's last frame exactly as a resume links them, in range order, and
renumbers the chunk files. The result is what one engine makes of the same job when its analysis is
interrupted at each range's first chunk and resumed: the shots, the track splits at shot boundaries and
the rest of the job follow from the chunk files as always.

    ranges = split_ranges(chunks, parts)                     # driver
    analyse_range(reader, folder, key, first, stop)          # each worker, its own range
    link_ranges(folder, ranges)                              # driver, when every range is in
"""

from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path

import numpy as np

from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.media.chunks import plan_chunks
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.analysis import (
    AnalysisKey,
    Features,
    FrameFaces,
    _analyse_rest,
    _check_key,
    _Linker,
    chunk_file,
    load_chunk,
)
from layer_desktop.engine.pipeline.shots import frame_features

log = logging.getLogger(__name__)

CUT_CONTEXT = 8  # frames before a range that the cut test looks back at
RANGE_ID_STRIDE = 1_000_000  # a range's provisional track ids start at first chunk × this
RANGES = "ranges"  # below the analysis folder: the ranges' files until they are linked


def split_ranges(chunks: int, parts: int) -> list[tuple[int, int]]:
    """``chunks`` analysis chunks as ``parts`` (at most) contiguous ranges of nearly equal size."""
    parts = max(1, min(parts, chunks))
    edges = [round(i * chunks / parts) for i in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def prepare(folder: Path, key: AnalysisKey) -> None:
    """The analysis folder for ``key`` (an analysis made for another key is discarded), before the
    workers write into it."""
    folder.mkdir(parents=True, exist_ok=True)
    _check_key(folder, key)


def analyse_range(
    reader: FrameReader, folder: Path, key: AnalysisKey, first: int, stop: int,
    cancel: threading.Event | None = None,
) -> list[Path]:  # fmt: skip
    """Analyse chunks ``first`` .. ``stop - 1`` into ``folder`` (provisional track ids); the files."""
    prepare(folder, key)
    plan = plan_chunks(reader.frame_count, key.chunk_frames)
    start = plan[first][0]
    features: Features = ([], [])
    if start > 0:
        for index, rgb in reader.iter_upright(max(0, start - CUT_CONTEXT)):
            if index >= start:
                break
            hist, thumb = frame_features(rgb)
            features[0].append(hist)
            features[1].append(thumb)
    frames: FrameFaces = []
    _analyse_rest(
        reader, folder, key, plan, first, frames, features, None, cancel, stop, first * RANGE_ID_STRIDE
    )
    return [chunk_file(folder, i) for i in range(first, stop)]


def link_ranges(folder: Path, ranges: list[tuple[int, int]]) -> None:
    """Give every range after the first the track ids a resume at its first chunk gives: each new
    track, at its first appearance, takes the id of an unclaimed face of the previous range's last
    frame that it overlaps (IoU ≥ 0.3), else the next free id. Rewrites the chunk files' ids."""
    previous: list[Face] = []
    next_id = 0
    for n, (first, stop) in enumerate(ranges):
        files = [chunk_file(folder, i) for i in range(first, stop)]
        chunks = [load_chunk(f)[2] for f in files]
        if n == 0:
            mapping = {t: t for frames in chunks for faces in frames for t in _ids(faces)}
        else:
            link = _Linker(previous, next_id)
            for frames in chunks:
                for faces in frames:
                    link(faces)
            mapping = link.mapping
        for path in files:
            _renumber(path, mapping)
        last = load_chunk(files[-1])[2]  # with the final ids now
        previous = last[-1] if last else []
        used = [mapping[t] for frames in chunks for faces in frames for t in _ids(faces)]
        next_id = max([next_id - 1, *used]) + 1
    log.info("face analysis linked across %d ranges", len(ranges))


def _ids(faces: list[Face]) -> list[int]:
    return [f.track_id for f in faces if f.track_id is not None and f.track_id >= 0]


def _renumber(path: Path, mapping: dict[int, int]) -> None:
    with np.load(path, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    arrays["track"] = np.array([mapping.get(int(t), int(t)) for t in arrays["track"]], np.int64)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
