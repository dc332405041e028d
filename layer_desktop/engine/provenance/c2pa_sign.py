"""Signing an output with a C2PA manifest, and reading one back (``c2pa-python``, offline).

Signing is the last write to a file: the join and the audio mux come before it, because any later byte
change breaks the manifest's hash. The signed copy is written beside the file and moved over it.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from layer_desktop.engine.provenance.identity import SigningIdentity
from layer_desktop.engine.provenance.manifest import ProvenanceFacts, manifest_definition, parent_ingredient
from layer_desktop.errors import ProvenanceError

log = logging.getLogger(__name__)

MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}


def can_sign(path: Path) -> bool:
    """Whether ``path``'s container carries a C2PA manifest here (MP4, MOV; not MKV, TS, AVI)."""
    return path.suffix.lower() in MIME


def _mime(path: Path) -> str:
    mime = MIME.get(path.suffix.lower())
    if mime is None:
        raise ProvenanceError(
            f"{path.name}: only MP4 and MOV outputs carry a C2PA manifest here.",
            hint="Render to .mp4 or .mov.",
        )
    return mime


def signing_alg(key_pem: bytes) -> c2pa.C2paSigningAlg:
    """The C2PA algorithm for a private key: ES256/384/512 by curve, PS256 for RSA, Ed25519."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        bits = key.curve.key_size
        return {256: c2pa.C2paSigningAlg.ES256, 384: c2pa.C2paSigningAlg.ES384}.get(
            bits, c2pa.C2paSigningAlg.ES512
        )
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise ProvenanceError("The signing key is neither EC, RSA nor Ed25519.", hint="Use an EC P-256 key.")


def sign_output(path: Path, facts: ProvenanceFacts, identity: SigningIdentity, source: Path | None) -> None:
    """Embed a signed manifest for ``facts`` in ``path`` (in place), naming ``source`` as its parent
    ingredient. Raises ``ProvenanceError`` when the file or the identity cannot be used."""
    mime = _mime(path)
    tmp = path.with_name(f".{path.name}.c2pa-tmp")
    try:
        info = c2pa.C2paSignerInfo(signing_alg(identity.key_pem), identity.chain_pem, identity.key_pem, None)
        definition, parent = _definition(facts, source)
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(definition) as builder:
            if parent is not None and facts.source_title is not None:
                with open(parent, "rb") as f:
                    builder.add_ingredient(parent_ingredient(facts.source_title), _mime(parent), f)
            with open(path, "rb") as src, open(tmp, "w+b") as dst:
                builder.sign(signer, mime, src, dst)
        os.replace(tmp, path)
    except c2pa.C2paError as exc:
        raise ProvenanceError(
            f"Signing the provenance manifest of {path.name} failed: {exc}",
            hint="Check the signing certificate and key (`layer doctor`); the video itself is unchanged.",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    log.info("signed %s with a C2PA manifest (%s)", path.name, identity.key_store)


def _definition(facts: ProvenanceFacts, source: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The manifest definition, and the source file to add as the parent ingredient with its bytes (when
    c2pa reads its container). A TS, AVI or MKV camera file is named by title and type only."""
    definition = manifest_definition(facts)
    if source is None or facts.source_title is None or can_sign(source):
        return definition, source
    kind = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    definition["ingredients"] = [{**parent_ingredient(facts.source_title), "format": kind}]
    return definition, None


@dataclass(frozen=True)
class ManifestReport:
    """A file's C2PA state (``Trusted``, ``Valid``, ``Invalid``, or ``None`` when it has no manifest),
    its active manifest and the failure codes of its validation."""

    state: str | None
    manifest: dict[str, Any] | None
    failures: tuple[str, ...]

    def assertion(self, label: str) -> Any:
        for a in (self.manifest or {}).get("assertions", []):
            if a.get("label") == label:
                return a.get("data")
        return None


def _context(trust_anchors: bytes | None) -> c2pa.Context | None:
    if trust_anchors is None:
        return None
    settings = {"trust": {"trust_anchors": trust_anchors.decode()}, "verify": {"verify_trust": True}}
    return c2pa.Context.from_dict(settings)


def read_manifest(path: Path, trust_anchors: bytes | None = None) -> ManifestReport:
    """Read and validate ``path``'s manifest; with ``trust_anchors`` (PEM roots) a chain to one of them
    reads ``Trusted``. Raises ``ProvenanceError`` for a file c2pa cannot read at all."""
    if not path.is_file():
        raise ProvenanceError(f"{path} does not exist.", hint="Give the path of a rendered video.", path=path)
    try:
        with open(path, "rb") as f:
            context = _context(trust_anchors)
            reader = c2pa.Reader(_mime(path), f, context=context) if context else c2pa.Reader(_mime(path), f)
            with reader:
                state = reader.get_validation_state()
                manifest = reader.get_active_manifest()
                results = reader.get_validation_results() or {}
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in str(exc):
            return ManifestReport(None, None, ())
        raise ProvenanceError(f"{path.name}: the provenance cannot be read: {exc}") from exc
    failures = tuple(
        item.get("code", "")
        for item in (results.get("activeManifest") or {}).get("failure", [])
        if isinstance(item, dict)
    )
    return ManifestReport(state, json.loads(json.dumps(manifest)) if manifest else None, failures)
