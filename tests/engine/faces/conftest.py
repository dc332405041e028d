"""Fixtures for the face tests: the shipped analyzer, decoded clip frames, generated ONNX models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from layer_desktop.engine.faces import FaceAnalyzer, load_image


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer.default()


def decode_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a clip as upright RGB (rotation metadata applied)."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="rgb24")
            if frame.rotation:
                img = np.rot90(img, k=frame.rotation // 90)
            frames.append(np.ascontiguousarray(img))
    return frames


@pytest.fixture(scope="session")
def two_faces_frames(media_dir: Path) -> list[np.ndarray]:
    return decode_frames(media_dir / "clips" / "talk_two_faces_4s.mp4")


@pytest.fixture(scope="session")
def astronaut(media_dir: Path) -> np.ndarray:
    return load_image(media_dir / "faces" / "astronaut.png")


@pytest.fixture(scope="session")
def hopper(media_dir: Path) -> np.ndarray:
    return load_image(media_dir / "faces" / "grace_hopper.jpg")


# ------------------------------------------------------------------ generated ONNX models


def save_model(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def const(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name=name)


def scrfd_graph(
    size: int = 640, *, box_dist: float = 2.0, kps_dist: tuple[float, ...] = ()
) -> onnx.GraphProto:
    """A tiny SCRFD lookalike: ``input.1`` [1,3,S,S] → 9 outputs (scores/bboxes/kps × strides 8/16/32).

    Each stride's score is sigmoid(8 × mean of the normalised pixels in the cell), so a bright patch on a
    dark image lights up; box distances are the constant ``box_dist`` (× stride after decoding) and
    keypoint offsets the constants ``kps_dist`` (10 values).
    """
    kps = np.asarray(kps_dist or (-0.5, -0.5, 0.5, -0.5, 0.0, 0.0, -0.4, 0.5, 0.4, 0.5), dtype=np.float32)
    nodes, inits, outputs = [], [], []
    names = {"score": [], "bbox": [], "kps": []}
    for stride in (8, 16, 32):
        cells = size // stride
        n = cells * cells * 2
        for kind, channels in (("score", 2), ("bbox", 8), ("kps", 20)):
            w = np.zeros((channels, 3, stride, stride), dtype=np.float32)
            bias = np.zeros(channels, dtype=np.float32)
            if kind == "score":
                w[:] = 8.0 / (3 * stride * stride)
            elif kind == "bbox":
                bias[:] = box_dist
            else:
                bias[:] = np.tile(kps, 2)
            tag = f"{kind}_{stride}"
            inits += [
                const(f"w_{tag}", w),
                const(f"b_{tag}", bias),
                const(f"shape_{tag}", np.array([n, channels // 2])),
            ]
            conv_out = f"conv_{tag}"
            nodes.append(
                helper.make_node(
                    "Conv", ["input.1", f"w_{tag}", f"b_{tag}"], [conv_out], strides=[stride, stride]
                )
            )
            nodes.append(helper.make_node("Transpose", [conv_out], [f"t_{tag}"], perm=[0, 2, 3, 1]))
            reshaped = f"r_{tag}" if kind == "score" else f"out_{tag}"
            nodes.append(helper.make_node("Reshape", [f"t_{tag}", f"shape_{tag}"], [reshaped]))
            if kind == "score":
                nodes.append(helper.make_node("Sigmoid", [reshaped], [f"out_{tag}"]))
            names[kind].append((f"out_{tag}", [n, channels // 2]))
    for kind in ("score", "bbox", "kps"):
        outputs += [helper.make_tensor_value_info(nm, TensorProto.FLOAT, shape) for nm, shape in names[kind]]
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, size, size])
    return helper.make_graph(nodes, "scrfd_lookalike", [inp], outputs, inits)


def pooled_linear_graph(
    input_name: str,
    output_name: str,
    size: int,
    out_dim: int,
    weights: np.ndarray,
    bias: np.ndarray,
    pool: int,
) -> onnx.GraphProto:
    """``input`` [1,3,size,size] → AveragePool(pool) → Flatten → MatMul(weights) + bias → [1,out_dim]."""
    inp = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, size, size])
    out = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, out_dim])
    nodes = [
        helper.make_node(
            "AveragePool", [input_name], ["pooled"], kernel_shape=[pool, pool], strides=[pool, pool]
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "B"], [output_name]),
    ]
    inits = [const("W", weights.astype(np.float32)), const("B", bias.astype(np.float32).reshape(1, -1))]
    return helper.make_graph(nodes, "pooled_linear", [inp], [out], inits)


@pytest.fixture
def make_onnx(tmp_path: Path) -> Callable[[str, onnx.GraphProto], Path]:
    def _make(name: str, graph: onnx.GraphProto) -> Path:
        return save_model(graph, tmp_path / f"{name}.onnx")

    return _make
