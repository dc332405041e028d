"""Test clips built from the media kit, shared by the pipeline and studio tests."""

from __future__ import annotations

import io
from pathlib import Path

import av
import cv2
import numpy as np

from tests.conftest import SHARED_MEDIA


def decode(path: str | Path) -> list[np.ndarray]:
    """Every frame of ``path`` as RGB arrays."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def reencode(frames: list[np.ndarray], crf: int) -> list[np.ndarray]:
    """``frames`` through an H.264 encode at ``crf`` (veryfast, in memory) and back: what a platform's
    re-encode does to them."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"crf": str(crf), "preset": "veryfast"}
        for a in frames:
            out.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
        out.mux(s.encode())
    with av.open(io.BytesIO(buf.getvalue())) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def make_face_gap_clip(path: Path, media: Path = SHARED_MEDIA) -> Path:
    """30 frames of the talking astronaut, 20 of the coffee cup (no face), 25 of the astronaut again
    (75 frames, 512×512, 25 fps, no audio)."""
    talk, cup = (
        decode(media / "clips" / "talk_astronaut_4s.mp4"),
        decode(media / "clips" / "no_face_3s.mp4"),
    )
    frames = (
        talk[:30] + [cv2.resize(f, (512, 512), interpolation=cv2.INTER_AREA) for f in cup[:20]] + talk[50:75]
    )
    _write(path, frames)
    return path


def make_covered_face_clip(path: Path, media: Path = SHARED_MEDIA) -> Path:
    """75 frames of the talking astronaut (one shot); in frames 30-49 a grey card covers her face, as a
    hand or a sheet of paper would: the face is lost inside the shot, which the review flags."""
    frames = decode(media / "clips" / "talk_astronaut_4s.mp4")[:75]
    for img in frames[30:50]:
        cv2.rectangle(img, (140, 60), (380, 330), (128, 124, 118), thickness=-1)
    _write(path, frames)
    return path


def _write(path: Path, frames: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "12", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 512, 512, "yuv420p"
        for img in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))


def make_two_faces_photo(path: Path, media: Path = SHARED_MEDIA) -> Path:
    """One photo holding two people: the astronaut (smaller) left, Grace Hopper (larger) right."""
    left = cv2.imread(str(media / "faces" / "astronaut.png"))[30:290, 100:360]
    right = cv2.imread(str(media / "faces" / "grace_hopper.jpg"))[60:420, 90:450]
    canvas = np.full((360, 620, 3), 255, np.uint8)
    canvas[:260, :260] = left
    canvas[:360, 260:620] = right
    cv2.imwrite(str(path), canvas)
    return path
