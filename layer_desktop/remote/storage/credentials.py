"""Destination secrets in the keyring: which entries each kind uses, and how a long one fits.

Entry names (service ``layer-desktop``), for a destination called NAME:

- R2, S3-compatible, GCS with HMAC keys: ``publish/NAME/access_key_id``,
  ``publish/NAME/secret_access_key``.
- GCS with a service account: ``publish/NAME/service_account``.

**Service-account JSON and Windows.** Windows' Credential Manager caps a secret at 2,560 bytes and
``keyring`` stores text there as UTF-16, so about 1,280 characters fit; a downloaded service-account JSON is
2.3 kB or more. Two steps keep it safe everywhere: (1) only the fields that signing and token requests need
are kept (``SERVICE_ACCOUNT_FIELDS``), as compact JSON (~1.9 kB for a 2048-bit key); (2) a value longer than
``CHUNK_CHARS`` is split over numbered entries ``NAME#1``, ``NAME#2``, … and the entry ``NAME`` holds only
a header with the count and a sha256 of the whole, so reading it back detects a half-written set. Nothing
is ever written to a file, and nothing here logs a value.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from layer_desktop.errors import CredentialsError
from layer_desktop.settings import DestinationSpec

log = logging.getLogger(__name__)

CHUNK_CHARS = 1000  # under Windows' 1,280 UTF-16 characters, with room to spare
MAX_CHUNKS = 32
_HEADER = "layer-chunks:v1:"
SERVICE_ACCOUNT_FIELDS = (
    "type",
    "project_id",
    "private_key_id",
    "private_key",
    "client_email",
    "token_uri",
)
_REQUIRED_SA_FIELDS = ("private_key", "client_email", "token_uri")


class SecretStore(Protocol):
    """What ``KeyringSecrets`` and ``SessionSecrets`` offer."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class HmacKeys:
    """An access key pair (R2, S3-compatible, GCS interoperability). Never printed by ``repr``."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class ServiceAccount:
    """The fields of a Google service-account key that we keep. Never printed by ``repr``."""

    info: Mapping[str, str] = field(repr=False)

    @property
    def client_email(self) -> str:
        return self.info["client_email"]

    @property
    def project_id(self) -> str | None:
        return self.info.get("project_id")


Credentials = HmacKeys | ServiceAccount


def uses_service_account(dest: DestinationSpec) -> bool:
    return dest.kind == "gcs" and dest.auth == "service_account"


def secret_names(dest: DestinationSpec) -> tuple[str, ...]:
    """The keyring entries this destination uses (chunks of a long value not included)."""
    prefix = f"publish/{dest.name}/"
    if uses_service_account(dest):
        return (prefix + "service_account",)
    return (prefix + "access_key_id", prefix + "secret_access_key")


def compact_service_account(text: str) -> ServiceAccount:
    """Parse a service-account JSON key and keep only the fields needed; raises ``CredentialsError``."""
    try:
        data = json.loads(text)
    except ValueError:
        raise CredentialsError("The service-account key is not valid JSON.") from None
    if not isinstance(data, dict):
        raise CredentialsError("The service-account key is not a JSON object.")
    missing = [f for f in _REQUIRED_SA_FIELDS if not isinstance(data.get(f), str) or not data[f]]
    if missing:
        raise CredentialsError(
            f"The service-account key lacks {', '.join(missing)}.",
            hint="Download a new JSON key for the service account (IAM › Service accounts › Keys).",
        )
    return ServiceAccount({k: str(data[k]) for k in SERVICE_ACCOUNT_FIELDS if data.get(k)})


def store_credentials(secrets: SecretStore, dest: DestinationSpec, creds: Credentials) -> None:
    """Write the destination's secrets to the keyring (replacing older ones)."""
    names = secret_names(dest)
    if uses_service_account(dest):
        if not isinstance(creds, ServiceAccount):
            raise CredentialsError(f"Destination '{dest.name}' needs a service-account key.")
        text = json.dumps(dict(creds.info), separators=(",", ":"), sort_keys=True)
        put_long_secret(secrets, names[0], text)
        return
    if not isinstance(creds, HmacKeys) or not creds.access_key_id or not creds.secret_access_key:
        raise CredentialsError(f"Destination '{dest.name}' needs an access key id and a secret access key.")
    secrets.set(names[0], creds.access_key_id)
    secrets.set(names[1], creds.secret_access_key)


def load_credentials(secrets: SecretStore, dest: DestinationSpec) -> Credentials:
    """Read the destination's secrets; raises ``CredentialsError`` naming (never showing) what is missing."""
    names = secret_names(dest)
    if uses_service_account(dest):
        text = get_long_secret(secrets, names[0])
        if text is None:
            raise _missing(dest, names[0])
        return compact_service_account(text)
    key_id, secret = secrets.get(names[0]), secrets.get(names[1])
    if not key_id:
        raise _missing(dest, names[0])
    if not secret:
        raise _missing(dest, names[1])
    return HmacKeys(key_id, secret)


def delete_credentials(secrets: SecretStore, dest: DestinationSpec) -> None:
    for name in secret_names(dest):
        delete_long_secret(secrets, name)


def put_long_secret(secrets: SecretStore, name: str, value: str) -> None:
    """Store ``value`` under ``name``, split over numbered entries when longer than ``CHUNK_CHARS``."""
    delete_long_secret(secrets, name)
    if len(value) <= CHUNK_CHARS and not value.startswith(_HEADER):
        secrets.set(name, value)
        return
    chunks = [value[i : i + CHUNK_CHARS] for i in range(0, len(value), CHUNK_CHARS)]
    if len(chunks) > MAX_CHUNKS:
        raise CredentialsError(f"The secret '{name}' is too long to store ({len(value)} characters).")
    for i, chunk in enumerate(chunks, start=1):
        secrets.set(f"{name}#{i}", chunk)
    # the header goes last: a crash part way leaves no header pointing at missing chunks
    secrets.set(name, f"{_HEADER}{len(chunks)}:{_digest(value)}")


def get_long_secret(secrets: SecretStore, name: str) -> str | None:
    """Read a value stored by ``put_long_secret``; raises ``CredentialsError`` when its chunks are damaged."""
    head = secrets.get(name)
    if head is None or not head.startswith(_HEADER):
        return head
    count_text, _, digest = head[len(_HEADER) :].partition(":")
    parts = [secrets.get(f"{name}#{i}") for i in range(1, int(count_text) + 1)]
    if any(p is None for p in parts):
        raise CredentialsError(f"Part of the secret '{name}' is missing from the keyring.")
    value = "".join(p for p in parts if p is not None)
    if _digest(value) != digest:
        raise CredentialsError(f"The secret '{name}' in the keyring is damaged (its parts do not match).")
    return value


def delete_long_secret(secrets: SecretStore, name: str) -> None:
    head = secrets.get(name)
    if head is not None and head.startswith(_HEADER):
        count = int(head[len(_HEADER) :].partition(":")[0])
        for i in range(1, count + 1):
            secrets.delete(f"{name}#{i}")
    secrets.delete(name)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _missing(dest: DestinationSpec, name: str) -> CredentialsError:
    return CredentialsError(
        f"The keyring has no '{name}' for the destination '{dest.name}'.",
        hint="Enter the key again in Settings › Destinations (CLI: `layer destinations add` with that name).",
    )
