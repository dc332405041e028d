"""Reference equivalence: our ``inswapper`` backend against insightface's own ``INSwapper`` (2.1) on the
same generated model, the same frame and the same 5 points: the aligned crop, its affine and the
swapped crop agree within 1 level (insightface truncates the output to uint8, we round)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from layer_desktop.engine.faces import FaceAnalyzer, load_image
from layer_desktop.engine.faces.align import five_points
from layer_desktop.engine.faces.embedders import l2_normalise
from layer_desktop.engine.swap import InswapperSwapper, SwapOptions
from tests.conftest import require_component
from tests.engine.swap.test_inswapper import inswapper_model

RNG = np.random.default_rng(11)


def make_model(path: Path) -> Path:
    """inswapper_128's signature (``target`` [1,3,128,128] RGB 0-1, ``source`` [1,512] → [1,3,128,128],
    emap 512x512 last): out = sigmoid(conv3x3(target) + source @ W), channels mixed unevenly so a
    swapped colour order or a shifted crop shows."""
    kernel = RNG.normal(0, 0.6, size=(3, 3, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["target", "K"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("MatMul", ["source", "W"], ["l"]),
        helper.make_node("Reshape", ["l", "shape"], ["l4"]),
        helper.make_node("Add", ["c", "l4"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["output"]),
    ]
    inits = [
        numpy_helper.from_array(kernel, "K"),
        numpy_helper.from_array(RNG.normal(0, 0.05, size=(512, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(np.array([1, 3, 1, 1], np.int64), "shape"),
        numpy_helper.from_array(RNG.normal(size=(512, 512)).astype(np.float32), "emap"),
    ]
    model = inswapper_model(nodes, inits, "inswapper_reference")
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def insightface_inswapper() -> type:
    try:
        from insightface.model_zoo.inswapper import INSwapper
    except ImportError as exc:
        require_component("insightface", False, f"{exc} (scripts/setup dev installs it, --no-deps)")
        raise
    return INSwapper


# insightface 2.1 calls scikit-image's deprecated SimilarityTransform.estimate: theirs, not ours
@pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")
def test_aligned_and_swapped_crops_equal_insightfaces(
    insightface_inswapper: type, media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from insightface.utils import face_align

    model = make_model(tmp_path / "inswapper.onnx")
    rgb = load_image(media_dir / "faces" / "astronaut.png")
    face = FaceAnalyzer.default().detect_one(rgb)
    kps = five_points(face).astype(np.float32)
    embedding = RNG.normal(size=512).astype(np.float32)
    ours = InswapperSwapper(model, embedding, SwapOptions(backend="inswapper"))
    crop, m = ours.aligned(rgb, face)
    swapped = ours.swapped_crop(crop)

    bgr = np.ascontiguousarray(rgb[..., ::-1])
    with capsys.disabled():  # INSwapper prints its input shape
        theirs = insightface_inswapper(model_file=str(model))
    target = SimpleNamespace(kps=kps)
    source = SimpleNamespace(normed_embedding=l2_normalise(embedding))
    bgr_fake, m_ref = theirs.get(bgr, target, source, paste_back=False)
    aimg, _ = face_align.norm_crop2(bgr, kps, 128)

    assert np.abs(m - m_ref).max() < 1e-4
    crop_diff = np.abs(crop.astype(int) - aimg[..., ::-1].astype(int))
    assert crop_diff.max() <= 1
    out_diff = np.abs(swapped.astype(int) - bgr_fake[..., ::-1].astype(int))
    assert out_diff.max() <= 1
    assert np.ptp(swapped) > 60  # the model's output really varies with the crop (not a flat colour)
