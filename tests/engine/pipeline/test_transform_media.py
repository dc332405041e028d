"""A persona transform on the awkward files cameras write: interlaced MPEG-2 in MPEG-TS with B-frames
(an "Internal error" before the frame timeline) runs to a progressive output with every frame."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from .conftest import SHARED, Studio

TALK = SHARED / "clips" / "talk_astronaut_4s.mp4"


def interlaced_ts(src: Path, dst: Path, frames: int) -> Path:
    """``frames`` of ``src`` as interlaced MPEG-2 with B-frames in MPEG-TS, as a broadcast capture."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("mpeg2video", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 512, 512, "yuv420p"
        stream.options = {"bf": "2", "g": "12", "qscale": "2", "flags": "+ildct+ilme"}
        for i, frame in enumerate(inp.decode(video=0)):
            if i == frames:
                break
            picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return dst


@pytest.mark.slow
def test_interlaced_mpeg2_ts_transforms_to_a_progressive_output(studio: Studio) -> None:
    src = interlaced_ts(TALK, studio.home / "broadcast.ts", 40)
    out = studio.home / "broadcast_out.mp4"
    job = studio.run(studio.spec(src, out, output_settings={"preset": "veryfast", "chunk_frames": 16}))
    report = json.loads((job.folder / "state.json").read_text())["report"]
    assert any("deinterlaced to progressive" in note for note in report["notes"])
    with av.open(str(src)) as c:
        source = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(out)) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == len(source) == 40
    assert not any(f.interlaced_frame for f in frames)
    changed = np.abs(frames[20].to_ndarray(format="rgb24").astype(int) - source[20].astype(int)).max(axis=2)
    assert (changed > 40).mean() > 0.005  # the face was swapped
