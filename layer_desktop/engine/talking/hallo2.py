"""The ``hallo2`` talking-head backend: Hallo2 (Fudan, diffusers/PyTorch) on a CUDA GPU.

Hallo2 pins its own PyTorch/diffusers versions, which conflict with the app's, so it lives in a separate
Python environment (on the rented GPU box, typically) and is driven as a subprocess: ``LAYER_HALLO2_PYTHON``
names that environment's interpreter (default: this one) and ``LAYER_HALLO2_DIR`` a checkout of
``fudan-generative-vision/hallo2``. PyTorch is never imported into the app: the environment is probed
by running its interpreter, so a missing PyTorch, a PyTorch without CUDA or a missing interpreter is a
clear error before anything is rendered.

Status: the checks (environment, GPU, models, checkout) are complete; the runner that writes Hallo2's
inference config and reads its video back is not part of this build, and says so.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from layer_desktop.engine.models.store import ModelStore
from layer_desktop.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)

NAME = "hallo2"
LABEL = "hallo2 (Hallo2 diffusion model on a CUDA GPU, in its own environment)"
PYTHON_ENV = "LAYER_HALLO2_PYTHON"
DIR_ENV = "LAYER_HALLO2_DIR"
MODEL_IDS = ("hallo2_net", "hallo2_motion_module", "hallo2_sd15_unet", "hallo2_wav2vec", "sd_vae_ft_mse")
OPTIONAL_MODEL_IDS = ("hallo2_net_g",)  # the high-resolution pass only
INFERENCE_SCRIPT = "scripts/inference_long.py"
PROBE_TIMEOUT_S = 120.0
_PROBE = """
import json
try:
    import torch
except Exception as exc:
    print(json.dumps({"torch": None, "error": repr(exc)}))
else:
    cuda = bool(torch.cuda.is_available())
    print(json.dumps({"torch": str(torch.__version__), "cuda": cuda,
                      "device": torch.cuda.get_device_name(0) if cuda else None}))
"""
_HINT = (
    "Render talking heads with the offline `animate` or the `liveportrait` backend, or connect a GPU "
    f"engine whose Hallo2 environment is set up ({PYTHON_ENV}, {DIR_ENV})."
)


@dataclass(frozen=True)
class Hallo2Runtime:
    """The probed Hallo2 environment: its interpreter, PyTorch version and GPU."""

    python: Path
    torch: str
    device: str


def hallo2_python() -> Path:
    """The Hallo2 environment's interpreter: ``$LAYER_HALLO2_PYTHON``, else this one (a packaged app has
    no interpreter of its own to offer, so there the variable is required)."""
    configured = os.environ.get(PYTHON_ENV)
    if configured:
        return Path(configured)
    if getattr(sys, "frozen", False):
        raise ModelError(
            f"Hallo2 runs in its own Python environment, and {PYTHON_ENV} does not name one.",
            hint=f"Set {PYTHON_ENV} to the interpreter of the environment made for Hallo2. {_HINT}",
        )
    return Path(sys.executable)


def probe_runtime(python: Path | None = None, timeout_s: float = PROBE_TIMEOUT_S) -> Hallo2Runtime:
    """Run the environment's interpreter to ask for PyTorch and a CUDA GPU. Raises ``ModelError`` saying
    which is missing (the interpreter, PyTorch, CUDA)."""
    python = python or hallo2_python()
    if not python.is_file():
        raise ModelError(
            f"The Hallo2 environment's Python {python} does not exist.",
            hint=f"Set {PYTHON_ENV} to the interpreter of the environment made for Hallo2. {_HINT}",
            path=python,
        )
    try:
        done = subprocess.run(  # a fixed probe script, run by the configured interpreter
            [str(python), "-c", _PROBE], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(
            f"The Hallo2 environment's Python {python} could not be run: {exc}", hint=_HINT
        ) from exc
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (done.stderr or done.stdout).strip()[-300:]
        raise ModelError(
            f"The Hallo2 environment's Python {python} did not answer the PyTorch probe "
            f"(exit {done.returncode}): {tail or 'no output'}",
            hint=_HINT,
        ) from None
    if report.get("torch") is None:
        raise ModelError(
            f"Hallo2 needs PyTorch with a CUDA GPU; PyTorch is not installed in {python}.",
            hint=f"Install Hallo2's requirements into its own environment and set {PYTHON_ENV}. {_HINT}",
        )
    if not report.get("cuda"):
        raise ModelError(
            f"Hallo2 needs a CUDA GPU; PyTorch {report['torch']} in {python} sees none.",
            hint=f"Run it on a machine with an NVIDIA GPU (a rented GPU engine). {_HINT}",
        )
    log.info("hallo2 environment %s: torch %s on %s", python, report["torch"], report.get("device"))
    return Hallo2Runtime(python, str(report["torch"]), str(report.get("device") or "cuda"))


def require_models(store: ModelStore) -> None:
    """Raise ``ModelNotFoundError`` naming ``layer models fetch <id>`` for each missing Hallo2 model."""
    missing = [m for m in MODEL_IDS if m not in store.manifest or not store.status(m).present]
    if missing:
        commands = "; ".join(f"`layer models fetch {m}`" for m in missing)
        raise ModelNotFoundError(
            f"The hallo2 backend needs {len(missing)} model(s) that are not installed: {', '.join(missing)}.",
            hint=f"Run {commands} on the GPU engine.",
        )


def hallo2_checkout(repo: Path | None = None) -> Path:
    """The Hallo2 checkout (``$LAYER_HALLO2_DIR``); raises ``ModelError`` when it is not there."""
    raw = repo or os.environ.get(DIR_ENV)
    if not raw:
        raise ModelError(f"The Hallo2 code is not configured: {DIR_ENV} is not set.", hint=_HINT)
    path = Path(raw)
    if not (path / INFERENCE_SCRIPT).is_file():
        raise ModelError(f"{path} is not a Hallo2 checkout (no {INFERENCE_SCRIPT}).", hint=_HINT, path=path)
    return path


class Hallo2Animator:
    """Hallo2 on a CUDA GPU in its own environment. The constructor checks, in order, the environment's
    PyTorch and GPU, the models and the checkout, and raises a clear ``ModelError`` for the first that
    is missing."""

    name = NAME
    label = LABEL

    def __init__(self, store: ModelStore, *, python: Path | None = None, repo: Path | None = None) -> None:
        self.runtime = probe_runtime(python)
        require_models(store)
        self.repo = hallo2_checkout(repo)
        self.models = {m: store.resolve(m) for m in MODEL_IDS}
        raise ModelError(
            f"Hallo2 is ready on {self.runtime.device}, but its runner is not part of this build yet.",
            hint="Use the `animate` or `liveportrait` backend.",
        )
