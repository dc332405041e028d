"""Running the shipped ``.tflite`` face models with LiteRT.

An ``Interpreter`` is not thread-safe: each backend object owns its own and must be used from one
thread at a time (the engine runs face work on its single inference worker).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from layer_desktop.errors import ModelError, ModelNotFoundError
from layer_desktop.paths import resources_dir

log = logging.getLogger(__name__)

SHORT_RANGE_FILE = "face_detection_short_range.tflite"
FULL_RANGE_FILE = "face_detection_full_range_sparse.tflite"
FACE_MESH_FILE = "face_landmark.tflite"


def shipped_model(filename: str) -> Path:
    """Path of a model shipped in ``resources/models``; ``ModelNotFoundError`` when it is missing."""
    path = resources_dir() / "models" / filename
    if not path.is_file():
        raise ModelNotFoundError(
            f"The shipped face model {filename} is missing from {path.parent}.",
            hint="Reinstall Layer Desktop: this file comes with the app.",
            path=path,
        )
    return path


class TfliteModel:
    """One LiteRT interpreter with named access to its input and outputs."""

    def __init__(self, path: str | Path, *, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter  # heavy import, only when a model loads

        self.path = Path(path)
        try:
            self._interp: Any = Interpreter(model_path=str(self.path), num_threads=num_threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"Cannot load the face model {self.path.name}: {exc}", path=self.path) from exc
        inp = self._interp.get_input_details()[0]
        self.input_index: int = int(inp["index"])
        self.input_shape: tuple[int, ...] = tuple(int(d) for d in inp["shape"])
        self.outputs: dict[str, int] = {d["name"]: int(d["index"]) for d in self._interp.get_output_details()}
        self.output_shapes: dict[str, tuple[int, ...]] = {
            d["name"]: tuple(int(x) for x in d["shape"]) for d in self._interp.get_output_details()
        }
        log.debug("loaded %s: input %s outputs %s", self.path.name, self.input_shape, self.output_shapes)

    def run(self, tensor: NDArray[np.float32]) -> dict[str, NDArray[np.float32]]:
        """Run on one input tensor; returns a copy of every output by name."""
        self._interp.set_tensor(self.input_index, np.ascontiguousarray(tensor, dtype=np.float32))
        self._interp.invoke()
        return {name: np.array(self._interp.get_tensor(idx)) for name, idx in self.outputs.items()}
