"""``.layerpersona`` bundles: one zip holding ``manifest.json`` (the persona record and the sha256 and
size of every media member) and ``media/<sha256>`` for each file.

Import trusts nothing in the zip: member names are never used as paths (only ``media/<sha256>`` names
built from validated hashes are read), every member is re-hashed, and sizes are capped by the manifest.
Importing a bundle whose persona id is already in the library updates it when the bundle is newer and
is a no-op otherwise, so importing the same file twice never duplicates a persona.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from layer_desktop.engine.personas.bundle_members import check_directory, check_media, stage_members
from layer_desktop.engine.personas.records import Persona, now_iso, persona_from_dict, persona_to_dict
from layer_desktop.engine.personas.store import PersonaStore
from layer_desktop.errors import BundleError, PersonaError, PersonaNotFoundError

log = logging.getLogger(__name__)

FORMAT = "layerpersona"
FORMAT_VERSION = 1
SUFFIX = ".layerpersona"
MAX_MANIFEST_BYTES = 16 << 20


@dataclass(frozen=True)
class ImportResult:
    persona: Persona
    action: Literal["created", "updated", "unchanged"]


def export_persona(store: PersonaStore, ref: str, out: Path) -> Path:
    """Write persona ``ref`` (id or name) to ``out`` atomically; returns the path written.

    Raises ``PersonaNotFoundError`` for an unknown persona and ``BundleError`` when one of its media
    files is missing from the library.
    """
    persona = store.get(ref)
    files: dict[str, dict[str, Any]] = {}
    for sha in sorted(persona.media_hashes()):
        path = store.media_path(sha)
        if not path.is_file():
            raise BundleError(
                f"The media file {sha} of persona {persona.name!r} is missing from the library."
            )
        files[sha] = {"member": f"media/{sha}", "sha256": sha, "size": path.stat().st_size}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now_iso(),
        "persona": persona_to_dict(persona),
        "files": files,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
            for sha, info in files.items():
                zf.write(store.media_path(sha), info["member"], compress_type=zipfile.ZIP_STORED)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("persona %s exported to %s", persona.id, out)
    return out


def import_persona(store: PersonaStore, bundle: Path) -> ImportResult:
    """Add the persona in ``bundle`` to the library (see the module docstring for re-imports).

    All or nothing: the zip's directory is checked against the caps, every media member is streamed to
    a staging folder, hashed and decoded (photos as pictures, voice samples as sound) before anything
    is stored. Raises ``BundleError`` (naming the file) when it is not a bundle, truncated, too large,
    a member was changed or is not what it claims, and ``PersonaError`` when another persona already
    has its name.
    """
    store.media.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=store.media.root) as tmp:
        try:
            with zipfile.ZipFile(bundle) as zf:
                check_directory(zf, bundle)
                manifest = _read_manifest(zf, bundle)
                persona = persona_from_dict(manifest["persona"])
                staged = stage_members(zf, bundle, manifest["files"], persona.media_hashes(), Path(tmp))
        except BundleError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, ValueError) as exc:
            raise BundleError(
                f"{bundle} is not a readable .layerpersona file (damaged or cut short: {exc}).", path=bundle
            ) from exc
        check_media(persona, staged, bundle)
        return _store(store, persona, staged)


def _read_manifest(zf: zipfile.ZipFile, bundle: Path) -> dict[str, Any]:
    info = zf.getinfo("manifest.json")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{bundle}: manifest.json is implausibly large.", path=bundle)
    doc = json.loads(zf.read(info))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleError(f"{bundle} is not a .layerpersona file (no persona manifest).", path=bundle)
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise BundleError(
            f"{bundle} was written by a newer Layer Desktop (bundle format {doc['format_version']}).",
            hint="Update Layer Desktop to import it.",
            path=bundle,
        )
    if not isinstance(doc.get("files"), dict) or not isinstance(doc.get("persona"), dict):
        raise BundleError(f"{bundle}: the manifest lacks its persona or file list.", path=bundle)
    return doc


def _store(store: PersonaStore, persona: Persona, staged: dict[str, Path]) -> ImportResult:
    try:
        existing: Persona | None = store.get(persona.id)
    except PersonaNotFoundError:
        existing = None
    if existing is not None and existing.id == persona.id and existing.updated_at >= persona.updated_at:
        log.info("persona %s is already in the library and not older; import skipped", persona.id)
        return ImportResult(existing, "unchanged")
    if existing is None and store.exists(persona.name):  # refused before any media is stored
        raise PersonaError(
            f"A persona named {persona.name!r} already exists.",
            hint="Rename or delete it (`layer persona delete`), then import again.",
        )
    for path in staged.values():
        store.media.put_file(path)
    if existing is not None and existing.id == persona.id:
        store.replace(persona)
        return ImportResult(store.get(persona.id), "updated")
    store.add(persona)
    return ImportResult(store.get(persona.id), "created")
