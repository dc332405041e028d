"""The hallo2 backend's checks: its own environment is probed by a real subprocess, PyTorch never enters
the app, and each missing piece (interpreter, PyTorch, CUDA, models, checkout) is a clear error."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from layer_desktop.engine.models import ModelStore, load_manifest
from layer_desktop.engine.talking.hallo2 import (
    DIR_ENV,
    MODEL_IDS,
    OPTIONAL_MODEL_IDS,
    PYTHON_ENV,
    Hallo2Animator,
    probe_runtime,
)
from layer_desktop.errors import ModelError, ModelNotFoundError

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _torch_package(root: Path, cuda: bool) -> Path:
    """A stand-in ``torch`` package on PYTHONPATH for the probe's subprocess (the real one is not
    installed here and must not be)."""
    pkg = root / "torch"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        '__version__ = "9.9.9+stand-in"\n'
        "class cuda:\n"
        f"    is_available = staticmethod(lambda: {cuda})\n"
        '    get_device_name = staticmethod(lambda i: "Stand-in GPU")\n'
    )
    return root


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(load_manifest(), models_dir=tmp_path / "models")


def test_the_manifest_lists_hallo2_with_licences() -> None:
    manifest = load_manifest()
    for model_id in (*MODEL_IDS, *OPTIONAL_MODEL_IDS):
        spec = manifest.get(model_id)
        assert spec.licence.name and spec.urls
    assert manifest.get("hallo2_net").backend == "torch"
    assert "huggingface.co/fudan-generative-ai/hallo2" in manifest.get("hallo2_net").urls[0]
    assert "OpenRAIL" in manifest.get("hallo2_sd15_unet").licence.name
    assert "non-commercial" in (manifest.get("hallo2_net").licence.note or "")  # InsightFace parts


@pytest.mark.skipif(HAS_TORCH, reason="PyTorch is installed in this environment")
def test_without_pytorch_the_error_says_so(store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PYTHON_ENV, raising=False)
    with pytest.raises(ModelError) as info:
        Hallo2Animator(store)
    assert "PyTorch is not installed" in str(info.value) and sys.executable in str(info.value)
    assert "animate" in info.value.hint and PYTHON_ENV in info.value.hint
    assert "torch" not in sys.modules  # the probe ran in a subprocess


def test_a_missing_interpreter_is_a_clear_error(store: ModelStore, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv(PYTHON_ENV, str(tmp_path / "no-env" / "bin" / "python"))
    with pytest.raises(ModelError, match="does not exist") as info:
        Hallo2Animator(store)
    assert PYTHON_ENV in info.value.hint


def test_pytorch_without_cuda_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(_torch_package(tmp_path / "site", cuda=False)))
    with pytest.raises(ModelError, match=r"needs a CUDA GPU; PyTorch 9\.9\.9") as info:
        probe_runtime(Path(sys.executable))
    assert "NVIDIA" in info.value.hint


def test_with_a_gpu_missing_models_then_the_checkout_are_named(
    store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(_torch_package(tmp_path / "site", cuda=True)))
    runtime = probe_runtime(Path(sys.executable))
    assert runtime.device == "Stand-in GPU" and runtime.torch.startswith("9.9.9")
    with pytest.raises(ModelNotFoundError) as info:
        Hallo2Animator(store)
    for model_id in MODEL_IDS:
        assert f"`layer models fetch {model_id}`" in info.value.hint
    store.models_dir.mkdir(parents=True)
    for model_id in MODEL_IDS:
        (store.models_dir / store.manifest.get(model_id).filename).write_bytes(b"weights")
    monkeypatch.setenv(DIR_ENV, str(tmp_path / "hallo2"))
    with pytest.raises(ModelError, match="not a Hallo2 checkout"):
        Hallo2Animator(store)
    (tmp_path / "hallo2" / "scripts").mkdir(parents=True)
    (tmp_path / "hallo2" / "scripts" / "inference_long.py").write_text("")
    with pytest.raises(ModelError, match="runner is not part of this build") as done:
        Hallo2Animator(store)
    assert "Stand-in GPU" in str(done.value)


def test_a_packaged_app_needs_the_environment_named(
    store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PYTHON_ENV, raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # as in the PyInstaller build
    with pytest.raises(ModelError, match="its own Python environment") as info:
        Hallo2Animator(store)
    assert PYTHON_ENV in info.value.hint
