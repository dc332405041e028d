"""Secrets (API keys, storage credentials, key passphrases) live only in the OS keyring.

When no keyring backend exists, ``SecretStoreUnavailable`` says so and what to do; the caller may then
offer ``SessionSecrets`` (memory only, gone at exit). Nothing here writes a secret to a file or a log.
"""

from __future__ import annotations

import logging

import keyring
import keyring.errors

from layer_desktop.errors import SecretStoreUnavailable

log = logging.getLogger(__name__)

SERVICE = "layer-desktop"


class KeyringSecrets:
    """Secrets in the OS keyring under the service ``layer-desktop``."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def get(self, name: str) -> str | None:
        try:
            value: str | None = keyring.get_password(self.service, name)
        except keyring.errors.NoKeyringError as exc:
            raise _unavailable(name) from exc
        return value

    def set(self, name: str, value: str) -> None:
        try:
            keyring.set_password(self.service, name, value)
        except keyring.errors.NoKeyringError as exc:
            raise _unavailable(name) from exc
        except keyring.errors.PasswordSetError as exc:
            raise SecretStoreUnavailable(f"The keyring refused to store the secret '{name}': {exc}") from exc
        log.info("secret '%s' stored in the keyring", name)

    def delete(self, name: str) -> None:
        try:
            keyring.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.NoKeyringError as exc:
            raise _unavailable(name) from exc


class SessionSecrets:
    """Session-only secrets: kept in memory, never written anywhere, gone when the app quits."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        self._values[name] = value

    def delete(self, name: str) -> None:
        self._values.pop(name, None)


def _unavailable(name: str) -> SecretStoreUnavailable:
    return SecretStoreUnavailable(
        f"No OS keyring is available, so the secret '{name}' cannot be stored or read safely."
    )
