"""ONNX Runtime sessions for the downloadable face models: from a path, or injected.

Backends take either a model file path or an already created session (anything with
``get_inputs``/``get_outputs``/``run``), so the engine's session pool can hand them one later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from layer_desktop.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)


class SessionLike(Protocol):
    """The part of ``onnxruntime.InferenceSession`` the face backends use."""

    def get_inputs(self) -> Sequence[Any]: ...

    def get_outputs(self) -> Sequence[Any]: ...

    def run(self, output_names: Sequence[str] | None, input_feed: dict[str, Any]) -> Sequence[Any]: ...


ModelSource = str | Path | SessionLike


def open_session(model: ModelSource, *, providers: Sequence[str] | None = None) -> SessionLike:
    """A session for ``model``: returned as is when it already is one, else loaded from the path.

    Raises ``ModelNotFoundError`` for a missing file and ``ModelError`` when ONNX Runtime refuses it.
    """
    if not isinstance(model, (str, Path)):
        return model
    path = Path(model)
    if not path.is_file():
        raise ModelNotFoundError(f"The model file {path} does not exist.", path=path)
    import onnxruntime as ort  # only when a model is actually loaded

    try:
        session: SessionLike = ort.InferenceSession(
            str(path), providers=list(providers or ["CPUExecutionProvider"])
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"ONNX Runtime cannot load {path.name}: {exc}", path=path) from exc
    log.debug("loaded %s", path.name)
    return session


def check_input(session: SessionLike, shape: tuple[int, ...], what: str) -> str:
    """The session's first input name, after checking its shape (symbolic dims accepted)."""
    inputs = session.get_inputs()
    if not inputs:
        raise ModelError(f"The {what} model has no inputs.")
    declared = list(inputs[0].shape)
    ok = len(declared) == len(shape) and all(
        not isinstance(d, int) or d in (-1, 0) or d == want for d, want in zip(declared, shape, strict=True)
    )
    if not ok:
        raise ModelError(
            f"The {what} model takes input {declared}, expected {list(shape)}: is it the right file?"
        )
    return str(inputs[0].name)


def output_names(session: SessionLike) -> list[str]:
    """Names of all outputs, in the model's order."""
    return [str(o.name) for o in session.get_outputs()]


def run_single(session: SessionLike, input_name: str, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
    """Run with one input; every output as float32 numpy."""
    outs = session.run(None, {input_name: np.ascontiguousarray(blob, dtype=np.float32)})
    return [np.asarray(o, dtype=np.float32) for o in outs]


def to_blob(rgb: NDArray[np.uint8], mean: float, std: float) -> NDArray[np.float32]:
    """HWC RGB uint8 -> NCHW float32, ``(x - mean) / std``."""
    x = (rgb.astype(np.float32) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])
