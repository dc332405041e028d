"""Installed models: where they live, whether they are present and verified, fetch, import, remove.

Loaders get a model's path only through ``ModelStore.resolve``, which refuses a missing file and a file
whose sha256 is not the manifest's (that file is quarantined). Full hashes of large models are cached
by (size, mtime) in ``.verified.json`` so a load does not re-read hundreds of megabytes each time.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from layer_desktop.engine.models.download import (
    ProgressCallback,
    check_hash,
    download_model,
    part_path,
)
from layer_desktop.engine.models.manifest import Manifest, ModelSpec, load_manifest
from layer_desktop.errors import ModelError, ModelHashMismatch, ModelNotFoundError
from layer_desktop.paths import app_paths, resources_dir
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

Presence = Literal["shipped", "installed", "partial", "missing"]


@dataclass(frozen=True)
class ModelStatus:
    """What the user sees in `layer models list` and the Models panel."""

    spec: ModelSpec
    presence: Presence
    path: Path
    bytes_on_disk: int

    @property
    def present(self) -> bool:
        return self.presence in ("shipped", "installed")


class ModelStore:
    """The models folder (``app_paths().models_dir``) plus the models shipped in ``resources/models``."""

    def __init__(
        self,
        manifest: Manifest | None = None,
        models_dir: Path | None = None,
        shipped_dir: Path | None = None,
    ) -> None:
        self.manifest = manifest if manifest is not None else load_manifest()
        self.models_dir = models_dir if models_dir is not None else app_paths().models_dir
        self._shipped_dir = shipped_dir

    @property
    def quarantine_dir(self) -> Path:
        return self.models_dir / "quarantine"

    def shipped_dir(self) -> Path:
        return self._shipped_dir if self._shipped_dir is not None else resources_dir() / "models"

    def path(self, model_id: str) -> Path:
        """Where the model's file is (or will be) on disk."""
        spec = self.manifest.get(model_id)
        if spec.shipped:
            return self.shipped_dir() / spec.shipped
        return self.models_dir / spec.filename

    def status(self, model_id: str) -> ModelStatus:
        spec = self.manifest.get(model_id)
        path = self.path(model_id)
        if path.is_file():
            return ModelStatus(spec, "shipped" if spec.shipped else "installed", path, path.stat().st_size)
        part = part_path(spec, self.models_dir)
        if part.is_file():
            return ModelStatus(spec, "partial", path, part.stat().st_size)
        return ModelStatus(spec, "missing", path, 0)

    def statuses(self) -> list[ModelStatus]:
        return [self.status(spec.id) for spec in self.manifest]

    # ------------------------------------------------------------------ verify / resolve

    def verify(self, model_id: str, *, use_cache: bool = False) -> Path:
        """Hash the model's file against the manifest; returns its path.

        Raises ``ModelNotFoundError`` when it is not on disk and ``ModelHashMismatch`` when the hash
        differs (a downloaded or imported file is then moved to quarantine; a shipped one is left alone
        and the app must be reinstalled).
        """
        spec = self.manifest.get(model_id)
        path = self.path(model_id)
        if not path.is_file():
            raise ModelNotFoundError(
                f"Model {model_id!r} is not installed (expected at {path}).",
                hint=f"Run `layer models fetch {model_id}` or `layer models import {model_id} FILE`.",
            )
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        cache = self._read_cache()
        if use_cache and cache.get(str(path)) == [*stamp, spec.sha256]:
            return path
        try:
            check_hash(spec, path, None if spec.shipped else self.quarantine_dir)
        except ModelHashMismatch as exc:
            if spec.shipped:
                exc.hint = "A file shipped with Layer Desktop was changed: reinstall the app."
            cache.pop(str(path), None)
            self._write_cache(cache)
            raise
        cache[str(path)] = [*stamp, spec.sha256]
        self._write_cache(cache)
        return path

    def resolve(self, model_id: str) -> Path:
        """The path of a present, verified model, for loaders. Raises as ``verify`` does."""
        return self.verify(model_id, use_cache=True)

    def _cache_file(self) -> Path:
        return self.models_dir / ".verified.json"

    def _read_cache(self) -> dict[str, list[object]]:
        try:
            data = json.loads(self._cache_file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self, cache: dict[str, list[object]]) -> None:
        write_atomic(self._cache_file(), json.dumps(cache, indent=1).encode("utf-8"))

    # ------------------------------------------------------------------ fetch / import / remove

    def fetch(
        self,
        model_id: str,
        *,
        progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
        attempts: int = 2,
    ) -> Path:
        """Download, verify and install a model (a present, verified one is left as it is)."""
        spec = self.manifest.get(model_id)
        if spec.shipped:
            return self.verify(model_id)
        final = self.models_dir / spec.filename
        if final.is_file():
            try:
                return self.verify(model_id, use_cache=True)
            except ModelHashMismatch:
                log.warning("installed %s was not the published file; downloading it again", model_id)
        path = download_model(spec, self.models_dir, client=client, progress=progress, attempts=attempts)
        self.verify(model_id)  # record the hash in the cache
        return path

    def import_file(self, model_id: str, source: Path) -> Path:
        """Copy a model file the user already has into the models folder, after checking its hash.

        Raises ``ModelError`` when ``source`` cannot be read and ``ModelHashMismatch`` when it is not
        the published file (the copy is quarantined; the user's file is untouched).
        """
        spec = self.manifest.get(model_id)
        if spec.shipped:
            raise ModelError(f"Model {model_id!r} ships with Layer Desktop; there is nothing to import.")
        if not source.is_file():
            raise ModelError(f"Cannot import {source}: no such file.", path=source)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        staging = self.models_dir / f"{spec.filename}.import"
        try:
            shutil.copyfile(source, staging)
        except OSError as exc:
            staging.unlink(missing_ok=True)
            raise ModelError(f"Cannot import {source}: {exc.strerror or exc}.", path=source) from exc
        check_hash(spec, staging, self.quarantine_dir)
        final = self.models_dir / spec.filename
        staging.replace(final)
        self.verify(model_id)
        log.info("imported model %s from %s", model_id, source)
        return final

    def remove(self, model_id: str) -> bool:
        """Delete an installed model and any partial download; True when something was removed."""
        spec = self.manifest.get(model_id)
        if spec.shipped:
            raise ModelError(f"Model {model_id!r} ships with Layer Desktop and cannot be removed.")
        removed = False
        for path in (self.models_dir / spec.filename, part_path(spec, self.models_dir)):
            if path.is_file():
                path.unlink()
                removed = True
        cache = self._read_cache()
        if cache.pop(str(self.models_dir / spec.filename), None) is not None:
            self._write_cache(cache)
        return removed
