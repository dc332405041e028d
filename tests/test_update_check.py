"""The update check: a signed manifest is believed, a forged or unsigned one is not."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from layer_desktop.update_check import UpdateCheckError, check_for_update

KEY = Ed25519PrivateKey.generate()
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()


def _manifest(payload: dict[str, str], key: Ed25519PrivateKey = KEY) -> bytes:
    raw = json.dumps(payload).encode()
    body = {"payload": base64.b64encode(raw).decode(), "signature": base64.b64encode(key.sign(raw)).decode()}
    return json.dumps(body).encode()


def _serve(body: bytes, status: int = 200) -> httpx.MockTransport:
    # the release server is a cloud endpoint: faked at the HTTP transport
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body))


def test_a_signed_newer_release_is_announced() -> None:
    body = _manifest({"version": "9.1.0", "url": "https://example.invalid/r/9.1.0", "notes": "faster"})
    info = check_for_update(
        "https://example.invalid/latest.json", public_key_b64=PUBLIC, transport=_serve(body)
    )
    assert info.newer and info.latest == "9.1.0"
    assert info.summary() == "Layer Desktop 9.1.0 is available: https://example.invalid/r/9.1.0"


def test_the_same_version_says_latest() -> None:
    body = _manifest({"version": "0.1.0", "url": "u"})
    info = check_for_update("https://example.invalid/l.json", public_key_b64=PUBLIC, transport=_serve(body))
    assert not info.newer and "is the latest version" in info.summary()


def test_a_manifest_signed_by_another_key_is_refused() -> None:
    body = _manifest({"version": "9.9.9", "url": "https://evil.invalid"}, Ed25519PrivateKey.generate())
    with pytest.raises(UpdateCheckError, match="signature does not verify"):
        check_for_update("https://example.invalid/l.json", public_key_b64=PUBLIC, transport=_serve(body))


def test_an_unreachable_or_garbled_manifest_is_a_clear_error() -> None:
    with pytest.raises(UpdateCheckError, match="cannot be fetched"):
        check_for_update("https://example.invalid/l.json", public_key_b64=PUBLIC, transport=_serve(b"", 404))
    with pytest.raises(UpdateCheckError, match="cannot be read"):
        check_for_update("https://example.invalid/l.json", public_key_b64=PUBLIC, transport=_serve(b"{}"))
