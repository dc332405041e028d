"""The inference pool on a real ONNX Runtime session of a generated model."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from layer_desktop.engine.models import (
    CPU,
    CUDA,
    InferencePool,
    Licence,
    Manifest,
    ModelSpec,
    ModelStore,
    SessionKey,
)
from layer_desktop.errors import EngineError, ModelError, ModelHashMismatch, ModelNotFoundError


def _identity_model() -> bytes:
    """SFace's signature: data [1,3,112,112] → fc1 [1,128] (the mean over channels of 128 pixels)."""
    nodes = [
        helper.make_node("ReduceMean", ["data"], ["gray"], axes=[1], keepdims=0),
        helper.make_node("Reshape", ["gray", "shape"], ["flat"]),
        helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 128])],
        initializer=[
            helper.make_tensor("shape", TensorProto.INT64, [2], [1, 112 * 112]),
            helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
            helper.make_tensor("ends", TensorProto.INT64, [1], [128]),
            helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture
def model_store(tmp_path: Path) -> ModelStore:
    data = _identity_model()
    spec = ModelSpec(
        id="sface_test",
        task="face_identity",
        backend="onnx",
        filename="sface_test.onnx",
        sha256=hashlib.sha256(data).hexdigest(),
        licence=Licence("Apache-2.0", True),
        urls=("http://127.0.0.1:9/unused",),
        size=len(data),
    )
    store = ModelStore(Manifest([spec]), tmp_path / "models")
    src = tmp_path / "download.onnx"
    src.write_bytes(data)
    store.import_file("sface_test", src)
    return store


def test_same_key_same_session_and_it_runs(model_store: ModelStore) -> None:
    with InferencePool(model_store.resolve) as pool:
        first = pool.get("sface_test", "cpu")
        assert pool.get("sface_test", "cpu") is first
        assert first.key == SessionKey("sface_test", "cpu", (CPU,))
        x = np.random.default_rng(0).random((1, 3, 112, 112), dtype=np.float32)
        (out,) = first.session.run(None, {"data": x})
        assert out.shape == (1, 128)
        np.testing.assert_allclose(out[0], x[0].mean(axis=0).reshape(-1)[:128], rtol=1e-5)
        assert pool.get("sface_test", "auto") is not first  # another device is another key


def test_release_drops_the_session(model_store: ModelStore) -> None:
    pool = InferencePool(model_store.resolve)
    entry = pool.get("sface_test", "cpu")
    assert pool.release(entry.key)
    assert pool.keys() == [] and not pool.release(entry.key)
    assert pool.get("sface_test", "cpu") is not entry
    pool.close()
    assert pool.keys() == []
    with pytest.raises(EngineError, match="closed"):
        pool.get("sface_test", "cpu")


def test_provider_report_says_cpu_and_why(model_store: ModelStore) -> None:
    with InferencePool(model_store.resolve) as pool:
        cpu = pool.get("sface_test", "cpu").report
        auto = pool.get("sface_test", "auto").report
        assert cpu.granted == (CPU,) and cpu.device_used == "cpu" and not cpu.fell_back
        assert auto.requested == (CUDA, CPU) and auto.granted == (CPU,) and auto.device_used == "cpu"
        assert auto.fell_back and "no CUDA provider" in (auto.fallback_reason or "")
        assert pool.fallbacks() == [auto]


def test_cuda_asked_and_available_but_not_granted_is_a_fallback(model_store: ModelStore) -> None:
    asked: list[Sequence[str]] = []

    class CpuOnlySession:  # what onnxruntime-gpu does without cuDNN: a session that runs on the CPU
        def get_providers(self) -> list[str]:
            return [CPU]

    def factory(path: Path, providers: Sequence[str]) -> CpuOnlySession:
        asked.append(providers)
        return CpuOnlySession()

    with InferencePool(
        model_store.resolve, session_factory=factory, available_providers=lambda: [CUDA, CPU]
    ) as pool:
        report = pool.get("sface_test", "cuda").report
    assert asked == [[CUDA, CPU]]
    assert report.fell_back and "could not start CUDA" in (report.fallback_reason or "")


def test_concurrent_gets_create_one_session(model_store: ModelStore) -> None:
    with InferencePool(model_store.resolve) as pool:
        got: list[object] = []
        threads = [
            threading.Thread(target=lambda: got.append(pool.get("sface_test", "cpu"))) for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 8 and all(g is got[0] for g in got)


def test_the_pool_refuses_missing_changed_and_broken_models(model_store: ModelStore) -> None:
    path = model_store.path("sface_test")
    with InferencePool(model_store.resolve) as pool:
        with pytest.raises(ModelNotFoundError):
            pool.get("nope")
        path.write_bytes(path.read_bytes()[:-1] + b"\x00")
        with pytest.raises(ModelHashMismatch):
            pool.get("sface_test")

    broken = InferencePool(lambda _id: path.with_name("garbage.onnx"))
    path.with_name("garbage.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="could not be loaded by ONNX Runtime"):
        broken.get("x", "cpu")
