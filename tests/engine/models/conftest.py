"""Fixtures for the model manager: a real local HTTP server and a manifest pointing at it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from range_server import PAYLOAD, WRONG, RangeServer

from layer_desktop.engine.models import Licence, Manifest, ModelSpec, ModelStore
from layer_desktop.paths import app_paths


@pytest.fixture
def server() -> Iterator[RangeServer]:
    srv = RangeServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def make_spec(model_id: str, urls: list[str], payload: bytes = PAYLOAD, **kw: object) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        task="face_identity",
        backend="onnx",
        filename=f"{model_id}.onnx",
        sha256=hashlib.sha256(payload).hexdigest(),
        licence=Licence("Test licence", commercial_use=False),
        urls=tuple(urls),
        size=len(payload),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(server: RangeServer) -> ModelStore:
    server.files["m/good.onnx"] = PAYLOAD
    server.files["m/wrong.onnx"] = WRONG
    manifest = Manifest(
        [
            make_spec("good", [server.url("m/good.onnx")]),
            make_spec("wrong", [server.url("m/wrong.onnx")]),
            make_spec("mirrored", [server.url("m/missing.onnx"), server.url("m/good.onnx")]),
        ]
    )
    return ModelStore(manifest, app_paths().models_dir)
