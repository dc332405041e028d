"""Fixtures for personas: a store in the per-test app home, real photos, a generated identity model."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from layer_desktop.engine.faces import SFaceEmbedder
from layer_desktop.engine.personas import ConsentInput, FaceInput, Persona, PersonaStore, create_persona
from tests.clips import make_two_faces_photo


@pytest.fixture
def store() -> PersonaStore:
    return PersonaStore()


@pytest.fixture
def faces_dir(media_dir: Path) -> Path:
    return media_dir / "faces"


@pytest.fixture
def astronaut(media_dir: Path) -> Path:
    return media_dir / "faces" / "astronaut.png"


@pytest.fixture
def hopper(media_dir: Path) -> Path:
    return media_dir / "faces" / "grace_hopper.jpg"


@pytest.fixture
def voice(media_dir: Path) -> Path:
    return media_dir / "audio" / "arctic_a0009_female.wav"


@pytest.fixture
def two_faces(tmp_path: Path) -> Path:
    """One photo holding two people: the astronaut (smaller) left, Grace Hopper (larger) right."""
    return make_two_faces_photo(tmp_path / "two.png")


@pytest.fixture
def embedder(tmp_path: Path) -> SFaceEmbedder:
    """SFace's signature ([1,3,112,112] → fc1 [1,128]) on a generated model: 8×16 block means of the
    aligned face, mean removed. Crude, but crops of one photo agree and two people differ."""
    nodes = [
        helper.make_node("ReduceMean", ["data"], ["gray"], axes=[1], keepdims=1),
        helper.make_node("AveragePool", ["gray"], ["pooled"], kernel_shape=[14, 7], strides=[14, 7]),
        helper.make_node("Reshape", ["pooled", "shape"], ["flat"]),
        helper.make_node("ReduceMean", ["flat"], ["mu"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["flat", "mu"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "blocks",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 128])],
        initializer=[helper.make_tensor("shape", TensorProto.INT64, [2], [1, 128])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "sface_like.onnx"
    onnx.save(model, str(path))
    return SFaceEmbedder(path, model_id="sface_2021dec")


@pytest.fixture
def make_persona(store: PersonaStore, astronaut: Path, voice: Path):  # type: ignore[no-untyped-def]
    def make(name: str = "Eileen", **kw: object) -> Persona:
        return create_persona(
            store,
            name,
            [FaceInput(astronaut)],
            ConsentInput("Eileen Collins", "I agree to my likeness being used for tests."),
            [voice],
            **kw,  # type: ignore[arg-type]
        )

    return make
