"""The generated real-footage clip: its encoding, and ground truth that matches its pixels."""

from __future__ import annotations

import av
import numpy as np

from layer_desktop.engine.faces.analyzer import FaceAnalyzer
from tests.clips import decode
from tests.footage import CUTS, N_FRAMES, Footage


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_footage_is_long_gop_with_b_frames(real_footage: Footage) -> None:
    for path, size in ((real_footage.path, (1280, 720)), (real_footage.small_path, (640, 360))):
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            assert (stream.width, stream.height, stream.average_rate) == (*size, 25)
            packets = [p for p in c.demux(stream) if p.size]
        assert len(packets) == N_FRAMES
        assert sum(p.is_keyframe for p in packets) == 1  # one GOP: no keyframe at the cuts
        assert any(p.pts != p.dts for p in packets)  # reordered frames: B-frames


def test_truth_describes_the_shots(real_footage: Footage) -> None:
    shots = real_footage.shot_ranges()
    assert [r.start for r in shots] == [0, CUTS[0], CUTS[1], 207]
    wide = [real_footage.face(i, "main") for i in shots[0]]
    widths = [b[2] - b[0] for b in wide if b]
    assert min(widths) >= 29 and max(widths) <= 51
    assert all(real_footage.face(i, "main") is None for i in shots[2] if i < 200)
    mic = [i for i, t in enumerate(real_footage.frames) if t.occluder]
    assert mic[0] >= CUTS[0] and mic[-1] < CUTS[1] and 20 <= len(mic) <= 30


def test_truth_matches_the_pixels(real_footage: Footage) -> None:
    """The kit's detector finds each drawn face where the truth puts it, and the microphone covers the
    mouth of the close-up in the decoded frames (it is dark where the face was bright)."""
    frames = decode(real_footage.path)
    analyzer = FaceAnalyzer.default(detector_range="full")
    for i, roles in ((59, ["main"]), (100, ["main"]), (170, ["bystander_a", "bystander_b"]), (240, ["main"])):
        for role in roles:
            truth = real_footage.face(i, role)
            assert truth is not None
            # a crop 3x the face around the truth: checks the truth, not how small a face the detector finds
            side = int(3 * (truth[2] - truth[0]))
            x0, y0 = max(0, int(truth[0]) - side // 3), max(0, int(truth[1]) - side // 3)
            found = [
                f.bbox
                for f in analyzer.detect(np.ascontiguousarray(frames[i][y0 : y0 + side, x0 : x0 + side]))
            ]
            shifted = [(b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0) for b in found]
            assert max((_iou(truth, b) for b in shifted), default=0.0) > 0.5, (i, role, shifted)
    mask = real_footage.occluder_mask(107)
    assert mask is not None and real_footage.occluder_mask(50) is None
    box = real_footage.face(107, "main")
    assert box is not None
    lower_face = np.zeros_like(mask)
    lower_face[int((box[1] + box[3]) / 2) : int(box[3]), int(box[0]) : int(box[2])] = True
    on_face = mask & lower_face
    assert on_face.sum() > 0.05 * lower_face.sum()

    def chroma(rgb: np.ndarray) -> float:
        return float((rgb.max(axis=-1).astype(int) - rgb.min(axis=-1)).mean())

    # the grey microphone where frame 80 showed warm-lit skin
    assert chroma(frames[107][on_face]) < 30 < 45 < chroma(frames[80][on_face])
    small = real_footage.occluder_mask(107, (640, 360))
    assert small is not None and small.shape == (360, 640)
