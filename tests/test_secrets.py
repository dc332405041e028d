"""Secrets go to the OS keyring; without one, a clear error — never a silent plaintext file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from keyrings.alt.file import (
    EncryptedKeyring,  # noqa: F401  (proves keyrings.alt is importable)
    PlaintextKeyring,
)

from layer_desktop.errors import SecretStoreUnavailable
from layer_desktop.secrets import KeyringSecrets, SessionSecrets


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def test_no_keyring_backend_is_a_clear_actionable_error(restore_keyring: None) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    secrets = KeyringSecrets()
    with pytest.raises(SecretStoreUnavailable) as caught:
        secrets.set("elevenlabs_api_key", "sk-test-123")
    assert "No OS keyring" in str(caught.value) and "sk-test-123" not in str(caught.value)
    assert "session-only" in caught.value.hint
    with pytest.raises(SecretStoreUnavailable):
        secrets.get("elevenlabs_api_key")


def test_round_trip_through_a_real_keyring_backend(tmp_path: Path, restore_keyring: None) -> None:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    secrets = KeyringSecrets(service="layer-desktop-test")
    assert secrets.get("r2_secret") is None
    secrets.set("r2_secret", "s3cr3t")
    assert secrets.get("r2_secret") == "s3cr3t"
    secrets.delete("r2_secret")
    assert secrets.get("r2_secret") is None
    secrets.delete("r2_secret")  # deleting twice is fine


def test_session_secrets_stay_in_memory(layer_home: Path) -> None:
    s = SessionSecrets()
    s.set("k", "v")
    assert s.get("k") == "v"
    s.delete("k")
    assert s.get("k") is None
    assert not layer_home.exists() or not any(layer_home.rglob("*"))
