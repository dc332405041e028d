"""Occlusion: what is in front of the face (a microphone across the mouth) stays in front of the swap.

The occluder is drawn into the kit's astronaut close-up, so its pixels are known exactly; the swapped
image must leave them as they were (within 3 levels mean), while the face around them changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from layer_desktop.engine.faces import FaceAnalyzer
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.swap import LandmarkSwapper, PersonaFace, SwapOptions
from layer_desktop.engine.swap.occlusion import SkinOccluder, occlusion_weight
from layer_desktop.engine.swap.occlusion_model import OnnxOccluder
from layer_desktop.errors import ModelError


def microphone(rgb: np.ndarray, face: Face, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A hand-held microphone: a handle from the lower left up to a ball head over the mouth's corner.
    Returns the image and the occluder's pixel mask."""
    mask = np.zeros(rgb.shape[:2], np.uint8)
    (cx, cy), w = face.center, face.width
    head = (int(cx + 0.05 * w), int(cy + 0.28 * w))
    cv2.line(mask, (int(cx - 0.5 * w), int(cy + 1.0 * w)), head, 255, max(3, int(0.1 * w)))
    cv2.circle(mask, head, int(0.11 * w), 255, -1)
    out = rgb.copy()
    body = np.array(colour, np.float32)
    shade = 0.8 + 0.2 * np.sin(np.arange(rgb.shape[1]) / 3.0)[None, :, None]  # the head's mesh grille
    paint = np.broadcast_to(np.clip(body * shade, 0, 255).astype(np.uint8), rgb.shape)
    out[mask > 0] = paint[mask > 0]
    return out, mask > 0


@pytest.mark.parametrize("colour", [(52, 52, 58), (178, 178, 184)], ids=["black", "silver"])
def test_a_microphone_across_the_mouth_stays_in_front(
    close_up: np.ndarray, analyzer: FaceAnalyzer, grace: list[PersonaFace], colour: tuple[int, int, int],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    img, occ = microphone(close_up, analyzer.detect_one(close_up), colour)
    face = analyzer.detect_one(img)
    out = img.copy()
    result = LandmarkSwapper(grace, SwapOptions()).swap(out, face)
    diff = np.abs(out.astype(int) - img.astype(int)).mean(axis=2)
    bare = img.copy()
    LandmarkSwapper(grace, SwapOptions(occlusion="none")).swap(bare, face)
    bare_diff = np.abs(bare.astype(int) - img.astype(int)).mean(axis=2)
    with capsys.disabled():
        sys.stdout.write(f"\noccluder ({colour}): {diff[occ].mean():.2f} levels mean "
                         f"(no occlusion check: {bare_diff[occ].mean():.2f})\n")  # fmt: skip
    assert diff[occ].mean() <= 3.0
    assert bare_diff[occ].mean() > 6.0  # without the check the swap paints over it
    swapped = np.zeros(img.shape[:2], bool)
    swapped[result.rect.slices()] = result.mask > 0.9
    assert diff[swapped].mean() > 4.0  # and the face around it was swapped


def test_shadows_hair_free_skin_and_lips_are_not_occluders(
    side_lit: tuple[np.ndarray, Face],
) -> None:
    img, face = side_lit
    assert face.landmarks is not None
    pts = face.landmarks[:, :2].astype(np.float64)
    found = SkinOccluder().occlusion(img, pts, max(face.width, face.height))
    x0, y0, x1, y1 = (int(v) for v in face.bbox)
    inner = found[y0 + (y1 - y0) // 3 : y1 - (y1 - y0) // 10, x0 + (x1 - x0) // 8 : x1 - (x1 - x0) // 8]
    assert (inner > 0.5).mean() < 0.01  # the dark cheek, the lips, the nostrils: all face


def test_occlusion_weight_keeps_the_occluder_and_feathers_onto_the_face() -> None:
    occ = np.zeros((100, 100), np.float32)
    occ[40:60, 40:60] = 1.0
    w = occlusion_weight(occ, 100.0)
    assert w[38:62, 40:60].max() == 0.0 and w[40:60, 38:62].max() == 0.0  # the object and a 2 % margin
    assert w[50, 90] == 1.0 and 0.0 < w[50, 65] < 1.0


# ---------------------------------------------------------------- XSeg-class model hook


def make_xseg(path: Path) -> Path:
    """An XSeg lookalike of the real signature: ``in_face:0`` [N,256,256,3] BGR [0,1] → ``out_mask:0``
    [N,256,256,1], face = 1. It calls a pixel face unless it is much bluer than red (a blue object)."""
    nodes = [
        helper.make_node("Slice", ["in_face:0", "b0", "b1", "axes"], ["blue"]),
        helper.make_node("Slice", ["in_face:0", "r0", "r1", "axes"], ["red"]),
        helper.make_node("Sub", ["blue", "red"], ["bluer"]),
        helper.make_node("Sub", ["thresh", "bluer"], ["d"]),
        helper.make_node("Mul", ["d", "gain"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["out_mask:0"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "b0"),
        numpy_helper.from_array(np.array([1], np.int64), "b1"),
        numpy_helper.from_array(np.array([2], np.int64), "r0"),
        numpy_helper.from_array(np.array([3], np.int64), "r1"),
        numpy_helper.from_array(np.array([3], np.int64), "axes"),
        numpy_helper.from_array(np.array([0.3], np.float32), "thresh"),
        numpy_helper.from_array(np.array([40.0], np.float32), "gain"),
    ]
    graph = helper.make_graph(
        nodes, "xseg_lookalike",
        [helper.make_tensor_value_info("in_face:0", TensorProto.FLOAT, ["n", 256, 256, 3])],
        [helper.make_tensor_value_info("out_mask:0", TensorProto.FLOAT, ["n", 256, 256, 1])],
        inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_an_xseg_model_keeps_what_it_segments_in_front(
    close_up: np.ndarray, analyzer: FaceAnalyzer, grace: list[PersonaFace], tmp_path: Path
) -> None:
    img, occ = microphone(close_up, analyzer.detect_one(close_up), (30, 60, 250))
    face = analyzer.detect_one(img)
    model = OnnxOccluder(make_xseg(tmp_path / "xseg.onnx"))
    assert face.landmarks is not None
    found = model.occlusion(img, face.landmarks[:, :2].astype(np.float64), face.width)
    inner = cv2.erode(occ.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    x0, y0, x1, y1 = (int(v) for v in face.bbox)
    seen = np.zeros_like(occ)
    seen[y0:y1, x0:x1] = True  # the model sees the face's square, not the handle's far end
    assert found[inner & seen].mean() > 0.9 and found[~occ].mean() < 0.02
    out = img.copy()
    LandmarkSwapper(grace, SwapOptions(), occluders=[model]).swap(out, face)  # the model alone
    diff = np.abs(out.astype(int) - img.astype(int)).mean(axis=2)
    assert diff[occ].mean() <= 3.0


def test_a_model_of_another_signature_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 256, 256])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "wrong.onnx"))
    with pytest.raises(ModelError, match="occlusion"):
        OnnxOccluder(tmp_path / "wrong.onnx")


def test_the_occlusion_option_loads_the_model_from_the_store(tmp_path: Path) -> None:
    import hashlib

    from layer_desktop.engine.models import Licence, Manifest, ModelSpec, ModelStore, load_manifest
    from layer_desktop.engine.swap.registry import make_occluders
    from layer_desktop.errors import ModelNotFoundError

    shipped = load_manifest().get("xseg")  # the real entry: its signature and licence are on record
    assert shipped.inputs[0].name == "in_face:0" and shipped.outputs[0].shape[1:] == (256, 256, 1)
    assert "GPL" in shipped.licence.name
    models = tmp_path / "models"
    models.mkdir()
    path = make_xseg(models / "XSeg_model.onnx")
    spec = ModelSpec(
        id="xseg", task="face_occlusion", backend="onnx", filename="XSeg_model.onnx",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), licence=Licence("GPL-3.0", True),
        urls=("http://127.0.0.1:9/XSeg_model.onnx",),  # never fetched: the file is already there
    )  # fmt: skip
    store = ModelStore(Manifest([spec]), models)
    found = make_occluders(SwapOptions(occlusion="xseg"), store)
    assert [o.name for o in found] == ["skin", "xseg"] and isinstance(found[1], OnnxOccluder)
    assert [o.name for o in make_occluders(SwapOptions(), store)] == ["skin"]
    assert make_occluders(SwapOptions(occlusion="none"), store) == ()
    path.unlink()
    with pytest.raises(ModelNotFoundError) as err:
        make_occluders(SwapOptions(occlusion="xseg"), store)
    assert "layer models fetch xseg" in err.value.hint
