"""Model manager: manifest, verified resumable downloads, local import, and the inference pool."""

from __future__ import annotations

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.engine.models.download import ProgressCallback, download_model
from layer_desktop.engine.models.manifest import (
    Licence,
    Manifest,
    ModelSpec,
    TensorSpec,
    load_manifest,
    spec_from_dict,
)
from layer_desktop.engine.models.pool import (
    CPU,
    CUDA,
    InferencePool,
    PooledSession,
    ProviderReport,
    SessionKey,
    requested_providers,
)
from layer_desktop.engine.models.store import ModelStatus, ModelStore

__all__ = [
    "CPU",
    "CUDA",
    "InferencePool",
    "Licence",
    "Manifest",
    "ModelSpec",
    "ModelStatus",
    "ModelStore",
    "PooledSession",
    "ProgressCallback",
    "ProviderReport",
    "SessionKey",
    "TensorSpec",
    "download_model",
    "load_manifest",
    "requested_providers",
    "sha256_file",
    "spec_from_dict",
]
