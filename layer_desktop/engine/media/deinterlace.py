"""Deinterlacing with FFmpeg's yadif, one progressive frame out per frame in (frame numbers unchanged).

yadif builds each frame from its neighbours, so a frame's result depends on the frames before and after
it. Runs are therefore decoded with one frame of context on each side (``context_run``) and the context
frames dropped: a chunk then comes out the same whether it is rendered alone (a resume, a re-render of a
range) or in one pass with its neighbours.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import av
import av.filter

YADIF = "mode=send_frame:parity=auto:deint=interlaced"  # frames flagged progressive pass untouched


def context_run(start: int, stop: int, total: int) -> tuple[int, int]:
    """The frames to decode for ``start`` .. ``stop - 1``: one more on each side, inside the video."""
    return max(start - 1, 0), min(stop + 1, total)


def deinterlaced(frames: Iterable[tuple[int, av.VideoFrame]]) -> Iterator[tuple[int, av.VideoFrame]]:
    """``frames`` (consecutive, numbered) deinterlaced; pts and numbers are kept."""
    graph: av.filter.Graph | None = None
    waiting: deque[tuple[int, av.VideoFrame]] = deque()
    for index, frame in frames:
        if graph is None:
            graph = _graph(frame)
        waiting.append((index, frame))
        graph.push(frame)
        yield from _pulled(graph, waiting)
    if graph is not None:
        graph.push(None)
        yield from _pulled(graph, waiting)


def _graph(frame: av.VideoFrame) -> av.filter.Graph:
    graph = av.filter.Graph()
    source = graph.add_buffer(
        width=frame.width, height=frame.height, format=frame.format, time_base=frame.time_base
    )
    yadif = graph.add("yadif", YADIF)
    sink = graph.add("buffersink")
    source.link_to(yadif)
    yadif.link_to(sink)
    graph.configure()
    return graph


def _pulled(
    graph: av.filter.Graph, waiting: deque[tuple[int, av.VideoFrame]]
) -> Iterator[tuple[int, av.VideoFrame]]:
    while waiting:
        try:
            out = graph.vpull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return
        index, source = waiting.popleft()
        out.pts, out.time_base = source.pts, source.time_base
        yield index, out
