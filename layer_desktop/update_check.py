"""Update check: the app's version against a signed JSON manifest at a configurable URL.

Off unless Settings name ``update_url``; nothing is downloaded or installed, the user is only told. The
manifest is ``{"payload": base64(JSON), "signature": base64(Ed25519 signature of the payload bytes)}``
with the payload ``{"version": "1.2.3", "url": "https://…", "notes": "…"}``; a manifest whose signature
does not verify against the app's release key is ignored (an attacker on the network cannot announce
a fake release).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from packaging.version import InvalidVersion, Version

from layer_desktop import __version__
from layer_desktop.errors import LayerError

log = logging.getLogger(__name__)

# the release key's public half (Ed25519, raw, base64): a placeholder until the release key is made (its
# private half then lives only in the release CI's secrets and signs each manifest)
RELEASE_KEY = "hnVkjyvFlh1suX8/6cJ4AHrZAG8y7la56yw/HTtbX54="


class UpdateCheckError(LayerError):
    default_hint = "Check the update URL in Settings, or turn the update check off."


@dataclass(frozen=True)
class UpdateInfo:
    current: str
    latest: str
    url: str
    notes: str

    @property
    def newer(self) -> bool:
        return Version(self.latest) > Version(self.current)

    def summary(self) -> str:
        if self.newer:
            return f"Layer Desktop {self.latest} is available: {self.url}"
        return f"Layer Desktop {self.current} is the latest version."


def verify_manifest(raw: bytes, public_key_b64: str = RELEASE_KEY) -> dict[str, str]:
    """The payload of a signed manifest. Raises ``UpdateCheckError`` for a bad format or signature."""
    try:
        outer = json.loads(raw)
        payload = base64.b64decode(outer["payload"], validate=True)
        signature = base64.b64decode(outer["signature"], validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(signature, payload)
        data = json.loads(payload)
        Version(str(data["version"]))
    except InvalidSignature as exc:
        raise UpdateCheckError("The update manifest's signature does not verify; it was ignored.") from exc
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidVersion) as exc:
        raise UpdateCheckError(f"The update manifest cannot be read: {exc}") from exc
    return {k: str(v) for k, v in data.items()}


def check_for_update(
    url: str, *, public_key_b64: str = RELEASE_KEY, transport: httpx.BaseTransport | None = None
) -> UpdateInfo:
    """Fetch and verify the manifest at ``url``. Raises ``UpdateCheckError``."""
    try:
        with httpx.Client(timeout=10, transport=transport, follow_redirects=True) as client:
            resp = client.get(url)
            resp.raise_for_status()
    except httpx.HTTPError as exc:
        raise UpdateCheckError(f"The update manifest at {url} cannot be fetched: {exc}") from exc
    data = verify_manifest(resp.content, public_key_b64)
    return UpdateInfo(__version__, data["version"], data.get("url", ""), data.get("notes", ""))
