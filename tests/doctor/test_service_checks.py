"""Checks of the engine, storage, keyring, signer and models: ok paths and failure paths with hints."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import keyring
import keyring.backends.fail
import pytest

from layer_desktop.doctor import content_checks as cc
from layer_desktop.doctor import service_checks as sc
from layer_desktop.engine.client import Endpoint
from layer_desktop.engine.models import ModelStore
from layer_desktop.paths import app_paths
from layer_desktop.settings import S3Destination, Settings, load_settings, save_settings


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_engine_at_a_closed_port_fails_with_how_to_start_it() -> None:
    r = sc.check_engine(Endpoint(f"http://127.0.0.1:{_closed_port()}", "token"))
    assert r.status == "fail" and "does not answer" in r.summary and "layer-engine serve" in r.hint


@pytest.mark.slow
def test_engine_spawns_answers_and_has_our_version() -> None:
    r = sc.check_engine()
    assert r.status == "ok", r
    assert "engine 0.1.0 answers at http://127.0.0.1:" in r.summary


def test_remote_hosts_are_skipped_with_a_reason() -> None:
    r = sc.check_remote_hosts()
    assert r.status == "skip" and r.summary


def test_storage_without_destinations_is_skipped() -> None:
    assert sc.check_storage().status == "skip"


def test_storage_with_missing_credentials_fails_at_the_keys_step() -> None:
    dest = S3Destination(name="bad", bucket="layer-test", endpoint_url=f"http://127.0.0.1:{_closed_port()}")
    save_settings(Settings(destinations=(dest,)), app_paths().settings_file)
    r = sc.check_storage()
    assert r.status == "fail" and r.summary.startswith("bad: keys failed")
    assert r.hint


def test_keyring_round_trip_works() -> None:
    r = sc.check_keyring()
    assert r.status == "ok", r


def test_no_keyring_backend_fails_with_what_to_install(no_keyring: None) -> None:
    r = sc.check_keyring()
    assert r.status == "warn" and "no keyring backend" in r.summary and "Secret Service" in r.hint


def test_signer_signs_a_test_file_that_reads_trusted() -> None:
    r = cc.check_signer()
    assert r.status == "ok" and "Trusted" in r.summary and r.details["key"] == "keyring"


def test_signer_with_an_unreadable_own_certificate_fails(tmp_path: object) -> None:
    settings = load_settings(app_paths().settings_file)
    broken = settings.model_copy(
        update={"signing_cert": "/nonexistent/chain.pem", "signing_key": "/nonexistent/k"}
    )
    save_settings(broken, app_paths().settings_file)
    r = cc.check_signer()
    assert r.status == "fail" and "PEM" in r.hint


def test_models_verify_and_name_the_non_commercial_ones() -> None:
    r = cc.check_models()
    assert r.status == "ok" and "3 model(s) verified" in r.summary


def test_a_damaged_model_file_fails_with_fetch_again() -> None:
    store = ModelStore()
    path = store.path("yunet_n_640")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not the model")
    r = cc.check_models(store)
    assert r.status == "fail" and "yunet_n_640" in r.summary and "layer models fetch" in r.hint
