"""The model manifest: what each model is, where to get it, how to check it, and its licence.

The manifest is data (``manifest.json`` beside this module), loaded into frozen typed specs. Tests and
enterprise mirrors pass their own file (``LAYER_MODEL_MANIFEST`` or ``load_manifest(path)``) or a list of
``ModelSpec`` objects.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from layer_desktop.errors import ModelError, ModelNotFoundError

Backend = Literal["tflite", "onnx", "torch"]
BACKENDS: tuple[str, ...] = get_args(Backend)
MANIFEST_ENV = "LAYER_MODEL_MANIFEST"
DEFAULT_MANIFEST = Path(__file__).with_name("manifest.json")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Licence:
    """A model's licence as shown to the user before first use."""

    name: str
    commercial_use: bool
    note: str | None = None

    def summary(self) -> str:
        text = self.name if self.commercial_use else f"{self.name} — NON-COMMERCIAL use only"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor; ``name`` is None where the published name is not known."""

    name: str | None
    shape: tuple[int | str, ...]
    dtype: str = "float32"
    note: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry. ``shipped`` names a file in ``resources/models`` that comes with the app."""

    id: str
    task: str
    backend: Backend
    filename: str
    sha256: str
    licence: Licence
    urls: tuple[str, ...] = ()
    size: int | None = None
    shipped: str | None = None
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    stages: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()
    pairs_with: tuple[str, ...] = ()
    description: str = ""
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.sha256 and not _SHA256.match(self.sha256):  # "" = no sha256 published
            problems.append("sha256 is not 64 lowercase hex digits")
        if not _SAFE_FILENAME.match(self.filename):
            problems.append(f"filename {self.filename!r} is not a plain file name")
        if self.backend not in BACKENDS:
            problems.append(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if not self.urls and not self.shipped:
            problems.append("it has neither urls nor a shipped file")
        if self.size is not None and self.size < 0:
            problems.append("size is negative")
        if problems:
            raise ModelError(f"Manifest entry {self.id!r} is invalid: {'; '.join(problems)}.")


def _tensor(raw: Mapping[str, Any]) -> TensorSpec:
    return TensorSpec(
        name=raw.get("name"),
        shape=tuple(raw.get("shape", ())),
        dtype=str(raw.get("dtype", "float32")),
        note=raw.get("note"),
    )


def spec_from_dict(raw: Mapping[str, Any]) -> ModelSpec:
    """Build a ``ModelSpec`` from one manifest entry; raises ``ModelError`` when a field is missing."""
    try:
        lic = raw["licence"]
        return ModelSpec(
            id=str(raw["id"]),
            task=str(raw["task"]),
            backend=raw["backend"],
            filename=str(raw["filename"]),
            sha256=str(raw["sha256"] or "").lower(),
            licence=Licence(str(lic["name"]), bool(lic["commercial_use"]), lic.get("note")),
            urls=tuple(raw.get("urls") or ()),
            size=raw.get("size"),
            shipped=raw.get("shipped"),
            inputs=tuple(_tensor(t) for t in raw.get("inputs") or ()),
            outputs=tuple(_tensor(t) for t in raw.get("outputs") or ()),
            stages=tuple(raw.get("stages") or ()),
            defaults=tuple(raw.get("defaults") or ()),
            pairs_with=tuple(raw.get("pairs_with") or ()),
            description=str(raw.get("description", "")),
            source=raw.get("source"),
        )
    except (KeyError, TypeError) as exc:
        raise ModelError(f"Manifest entry {raw.get('id', '?')!r} is missing field {exc}.") from exc


class Manifest:
    """An ordered, read-only set of model specs, looked up by id."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            if spec.id in self._specs:
                raise ModelError(f"Manifest lists model {spec.id!r} twice.")
            self._specs[spec.id] = spec

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._specs

    def ids(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def get(self, model_id: str) -> ModelSpec:
        """The spec for ``model_id``; raises ``ModelNotFoundError`` for an unknown id."""
        try:
            return self._specs[model_id]
        except KeyError:
            raise ModelNotFoundError(
                f"Unknown model {model_id!r}. Known models: {', '.join(self._specs) or 'none'}."
            ) from None

    def default_for(self, stage: str) -> ModelSpec | None:
        """The model marked as the default for ``stage`` (e.g. ``face_identity`` → SFace)."""
        return next((s for s in self._specs.values() if stage in s.defaults), None)


def load_manifest(source: str | os.PathLike[str] | Iterable[ModelSpec] | None = None) -> Manifest:
    """Load a manifest from a JSON file, a list of specs, or (None) ``$LAYER_MODEL_MANIFEST`` / the
    built-in one. Raises ``ModelError`` when the file cannot be read or an entry is invalid."""
    if source is None:
        source = os.environ.get(MANIFEST_ENV) or DEFAULT_MANIFEST
    if not isinstance(source, (str, os.PathLike)):
        return Manifest(source)
    path = Path(source)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc["models"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"The model manifest {path} cannot be read: {exc}", path=path) from exc
    return Manifest(spec_from_dict(e) for e in entries)
