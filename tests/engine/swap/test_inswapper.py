"""The inswapper backend with a generated ONNX model of the real signature (target [1,3,128,128] +
source [1,512] → [1,3,128,128], emap 512x512 as the last initializer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from layer_desktop.engine.faces import FaceAnalyzer, load_image
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.swap import InswapperSwapper, SwapOptions, latent_from, make_swapper
from layer_desktop.errors import ModelError, ModelNotFoundError
from tests.conftest import SHARED_MEDIA

RNG = np.random.default_rng(7)
W = RNG.normal(size=(512, 3)).astype(np.float32)
EMAP = RNG.normal(size=(512, 512)).astype(np.float32)


def make_model(path: Path) -> Path:
    """out = target * 0 + sigmoid(source @ W) per channel: the face colour reveals the latent used."""
    nodes = [
        helper.make_node("MatMul", ["source", "W"], ["c"]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Reshape", ["s", "shape"], ["s4"]),
        helper.make_node("Mul", ["target", "zero"], ["t0"]),
        helper.make_node("Add", ["t0", "s4"], ["output"]),
    ]
    inits = [
        numpy_helper.from_array(W, "W"),
        numpy_helper.from_array(np.array([1, 3, 1, 1], np.int64), "shape"),
        numpy_helper.from_array(np.zeros((1,), np.float32), "zero"),
        numpy_helper.from_array(EMAP, "emap"),  # last, as in the real file
    ]
    onnx.save(inswapper_model(nodes, inits, "inswapper_test"), str(path))
    return path


def inswapper_model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], name: str) -> onnx.ModelProto:
    """A model with inswapper_128's inputs and output (``target`` [1,3,128,128], ``source`` [1,512] →
    ``output`` [1,3,128,128]) computed by ``nodes``."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
         helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])],
        inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("boost", [1, 2])
def test_swap_pastes_the_models_output_for_the_persona_latent(
    media_dir: Path, tmp_path: Path, boost: int
) -> None:
    model = make_model(tmp_path / "inswapper.onnx")
    embedding = RNG.normal(size=512).astype(np.float32)
    # relight off: this checks the raw paste of the model's output (the relit one is checked below)
    options = SwapOptions(backend="inswapper", pixel_boost=boost, relight=False, colour_transfer=False)
    swapper = InswapperSwapper(model, embedding, options)
    rgb = load_image(media_dir / "faces" / "astronaut.png")
    face = FaceAnalyzer.default().detect_one(rgb)
    before = rgb.copy()
    result = swapper.swap(rgb, face)
    expected = 1.0 / (1.0 + np.exp(-(latent_from(embedding, EMAP) @ W)))[0] * 255.0
    cx, cy = (int(v) for v in face.center)
    assert np.abs(rgb[cy, cx].astype(float) - expected).max() <= 2.0  # centre: fully the model's output
    outside = np.ones(rgb.shape[:2], bool)
    outside[result.rect.slices()] = False
    assert np.array_equal(rgb[outside], before[outside])  # nothing outside the paste rectangle moves
    assert result.mask.max() == pytest.approx(1.0, abs=1e-3) and result.mask[0, 0] == 0.0


def test_the_models_face_is_put_under_the_targets_light(media_dir: Path, tmp_path: Path) -> None:
    """The model's flat face keeps no colour of its own (skin tone carry-over off): it takes the target's
    light (low frequencies) inside the face hull, and nothing outside the hull changes."""
    model = make_model(tmp_path / "inswapper.onnx")
    options = SwapOptions(backend="inswapper", skin_tone=0.0)  # tone 0: all of the colour is the light's
    swapper = InswapperSwapper(model, RNG.normal(size=512).astype(np.float32), options)
    rgb = load_image(media_dir / "faces" / "astronaut.png")
    face = FaceAnalyzer.default().detect_one(rgb)
    before = rgb.copy()
    result = swapper.swap(rgb, face)
    full = np.zeros(rgb.shape[:2], np.float32)
    full[result.rect.slices()] = result.mask
    inside, outside = full > 0.9, full == 0.0
    x = np.arange(rgb.shape[1])[None, :].repeat(rgb.shape[0], 0)
    for half in (inside & (x < face.center[0]), inside & (x >= face.center[0])):
        # each side of the face keeps the level and colour of the light that fell on it
        assert np.abs(rgb[half].mean(axis=0) - before[half].mean(axis=0)).max() < 6.0
    raw = before.copy()
    InswapperSwapper(model, RNG.normal(size=512).astype(np.float32), SwapOptions(backend="inswapper",
                     relight=False, colour_transfer=False)).swap(raw, face)  # fmt: skip
    assert np.abs(raw[inside].mean(axis=0) - before[inside].mean(axis=0)).max() > 10.0
    assert np.abs(rgb.astype(int) - before.astype(int))[inside].mean() > 3.0  # the detail is the model's
    assert np.array_equal(rgb[outside], before[outside])


def test_emap_and_inputs_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        InswapperSwapper(bad, np.ones(512, np.float32))


def test_missing_model_names_the_fetch_command(tmp_path: Path) -> None:
    store = PersonaStore(tmp_path / "db.sqlite3", tmp_path / "media")
    from layer_desktop.engine.personas import ConsentInput, FaceInput, create_persona

    persona = create_persona(
        store, "G", [FaceInput(SHARED_MEDIA / "faces" / "grace_hopper.jpg")],
        ConsentInput("PD"),
    )  # fmt: skip
    with pytest.raises(ModelNotFoundError) as err:
        make_swapper(SwapOptions(backend="inswapper"), persona, store, ModelStore(models_dir=tmp_path / "m"))
    assert "layer models fetch inswapper_128_fp16" in err.value.hint
