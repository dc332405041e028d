"""SCRFD, 2d106det, ArcFace and SFace run end to end on generated ONNX models with the real signatures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import pooled_linear_graph, scrfd_graph

from layer_desktop.engine.faces import (
    ArcFaceEmbedder,
    Embedder,
    Face,
    FaceAnalyzer,
    Landmark106,
    ScrfdConfig,
    ScrfdDetector,
    SFaceEmbedder,
    five_points,
    norm_crop,
)
from layer_desktop.errors import ModelError, ModelNotFoundError

MakeOnnx = Callable[[str, onnx.GraphProto], Path]


def _scene() -> np.ndarray:
    img = np.zeros((400, 800, 3), dtype=np.uint8)  # letterboxed at 0.8 into 640x640
    img[120:200, 300:380] = 255
    return img


def test_scrfd_decodes_nine_outputs_into_boxes_and_keypoints(make_onnx: MakeOnnx) -> None:
    path = make_onnx("det_10g", scrfd_graph())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input.1"] and len(session.get_outputs()) == 9
    detector = ScrfdDetector(session, ScrfdConfig(min_score=0.9))  # an injected session, as a pool would
    faces = detector.detect(_scene())
    assert faces
    for face in faces:
        cx, cy = face.center
        assert 300 - 40 <= cx <= 380 and 120 - 40 <= cy <= 200  # at the bright patch (anchor = cell corner)
        stride = face.width * 0.8 / 4  # boxes are 2 strides each side of the anchor
        assert min(abs(stride - s) for s in (8, 16, 32)) < 0.5
        assert face.score > 0.99 and face.keypoints.shape == (5, 2)
        # keypoint offsets (-0.5, -0.5) and (0.4, 0.5) strides from the anchor
        assert np.allclose(face.keypoints[0] - face.center, [-0.125 * face.width] * 2, atol=0.5)
        assert np.allclose(face.keypoints[4] - face.center, [0.1 * face.width, 0.125 * face.width], atol=0.5)
    boxes = [f.bbox for f in faces]
    assert len(set(boxes)) == len(boxes)  # NMS left no duplicates
    assert ScrfdDetector(path).detect(np.zeros((300, 300, 3), dtype=np.uint8)) == []  # from a path too


def test_scrfd_refuses_a_model_with_another_signature(make_onnx: MakeOnnx, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="expected"):
        ScrfdDetector(make_onnx("small", scrfd_graph(size=320)))
    with pytest.raises(ModelNotFoundError):
        ScrfdDetector(tmp_path / "missing.onnx")
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"garbage\.onnx"):
        ScrfdDetector(bad)


def test_2d106_maps_crop_points_back_to_the_frame(make_onnx: MakeOnnx) -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(-0.9, 0.9, size=(106, 2)).astype(np.float32)
    graph = pooled_linear_graph("data", "fc1", 192, 212, np.zeros((3 * 12 * 12, 212)), pts.reshape(-1), 16)
    landmarker = Landmark106(make_onnx("2d106det", graph))
    face = Face((100.0, 50.0, 180.0, 150.0), 0.9, np.zeros((5, 2), np.float32))
    fitted = landmarker.fit(np.full((300, 400, 3), 128, np.uint8), face)
    assert fitted is not None and fitted.landmarks is not None and fitted.landmarks.shape == (106, 2)
    side = 1.5 * 100  # longer box side x 1.5
    expected = np.array([140.0, 100.0]) + pts * side / 2
    assert np.allclose(fitted.landmarks, expected, atol=1e-3)
    again = landmarker.fit(np.full((300, 400, 3), 128, np.uint8), fitted)  # tracking: crop from landmarks
    assert again is not None and again.landmarks is not None and again.landmarks.shape == (106, 2)


def _pool_project(crop: np.ndarray, mean: float, std: float, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = (crop.astype(np.float64) - mean) / std
    pooled = x.reshape(14, 8, 14, 8, 3).mean(axis=(1, 3)).transpose(2, 0, 1).reshape(-1)
    v = pooled @ w + b
    return v / np.linalg.norm(v)


@pytest.mark.parametrize(
    ("cls", "in_name", "out_name", "dim", "mean", "std"),
    [(ArcFaceEmbedder, "input.1", "683", 512, 127.5, 127.5), (SFaceEmbedder, "data", "fc1", 128, 0.0, 1.0)],
)
def test_embedders_align_normalise_and_project(
    make_onnx: MakeOnnx,
    analyzer: FaceAnalyzer,
    hopper: np.ndarray,
    cls: type[ArcFaceEmbedder] | type[SFaceEmbedder],
    in_name: str,
    out_name: str,
    dim: int,
    mean: float,
    std: float,
) -> None:
    rng = np.random.default_rng(7)
    w, b = rng.normal(size=(588, dim)), rng.normal(size=dim)
    embedder = cls(make_onnx(f"emb{dim}", pooled_linear_graph(in_name, out_name, 112, dim, w, b, 8)))
    assert isinstance(embedder, Embedder) and embedder.model_id
    (face,) = analyzer.detect(hopper)
    vec = embedder.embed(hopper, face)
    assert vec.dtype == np.float32 and vec.shape == (dim,)
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)
    crop, _ = norm_crop(hopper, five_points(face))
    assert np.allclose(vec, _pool_project(crop, mean, std, w, b), atol=1e-4)  # RGB order and scaling


def test_embedder_output_size_is_checked(
    make_onnx: MakeOnnx, analyzer: FaceAnalyzer, hopper: np.ndarray
) -> None:
    graph = pooled_linear_graph("data", "fc1", 112, 64, np.ones((588, 64)), np.zeros(64), 8)
    embedder = SFaceEmbedder(make_onnx("wrong", graph))
    with pytest.raises(ModelError, match="64 values"):
        embedder.embed(hopper, analyzer.detect(hopper)[0])
