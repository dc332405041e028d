"""The scrub proxy: all-intra, reduced size, frame i is the source's frame i; built in parts, so a
cancelled build keeps only whole parts and the next build resumes from them."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import cv2
import numpy as np

from layer_desktop.engine.media.proxy import ProxyReader, build_proxy, part_path, proxy_size
from layer_desktop.engine.media.reader import FrameReader
from tests.conftest import SHARED_MEDIA

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"  # 100 frames, 512×512


def test_proxy_size_keeps_the_aspect_and_never_grows() -> None:
    assert proxy_size(1920, 1080) == (640, 360) and proxy_size(512, 512) == (360, 360)
    assert proxy_size(320, 240) == (320, 240) and proxy_size(321, 241) == (320, 240)


def test_cancelled_build_keeps_whole_parts_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "proxy"
    cancel = threading.Event()
    seen: list[int] = []

    def stop_after_first_part(done: int, _total: int) -> None:
        seen.append(done)
        if done >= 50:
            cancel.set()

    build_proxy(TALK, folder, progress=stop_after_first_part, cancel=cancel, part_frames=40)
    assert part_path(folder, 0).is_file() and not part_path(folder, 1).is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["part-0000.mp4"]  # no half-written part left
    first = part_path(folder, 0).stat().st_mtime_ns
    assert build_proxy(TALK, folder, part_frames=40) == 100
    assert part_path(folder, 0).stat().st_mtime_ns == first  # resumed: the finished part was kept
    assert [part_path(folder, i).is_file() for i in range(4)] == [True, True, True, False]
    with av.open(str(part_path(folder, 1))) as c:
        packets = [p for p in c.demux(video=0) if p.size]
        assert len(packets) == 40 and all(p.is_keyframe for p in packets)  # all-intra

    reader = ProxyReader(folder, part_frames=40)
    try:
        with FrameReader(TALK) as source:
            for i in (0, 39, 40, 77, 99):
                small = reader.frame_at(i)
                assert small is not None and small.shape == (360, 360, 3)
                diffs = {
                    j: np.abs(small.astype(int) - cv2.resize(source.frame_at(j).image, (360, 360),
                                                             interpolation=cv2.INTER_AREA)).mean()
                    for j in {max(i - 1, 0), i, min(i + 1, 99)}
                }  # fmt: skip
                assert diffs[i] < 6.0 and diffs[i] == min(diffs.values()), (i, diffs)  # the same frame
        assert reader.frame_at(120) is None  # past the end: no part
    finally:
        reader.close()
