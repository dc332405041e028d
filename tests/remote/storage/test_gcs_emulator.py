"""GCS with a service account against gcp-storage-emulator on 127.0.0.1: a resumable upload larger
than one chunk, create-only (ifGenerationMatch=0) behaviour, resume after a dropped connection, cancel,
and signed links; the service-account key goes through a keyring that caps values like Windows does."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from layer_desktop.errors import ObjectExistsError, PublishCancelled, UploadInterruptedError
from layer_desktop.remote.storage import PublishDb, PublishOptions, compact_service_account, publish
from layer_desktop.remote.storage.credentials import ServiceAccount
from layer_desktop.remote.storage.destinations import save_destination
from layer_desktop.remote.storage.gcs import CHUNK, GcsStore, make_gcs_store
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import GcsDestination
from tests.remote.storage.conftest import MemoryKeyring, random_file

OPTIONS = PublishOptions(key_template="clips/{name}", progress_interval=0.0)


@pytest.fixture(scope="session")
def service_account_json() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "layer-test",
            "private_key_id": "0" * 40,
            "private_key": pem,
            "client_email": "publisher@layer-test.iam.gserviceaccount.com",
            "client_id": "1" * 21,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/publisher",
            "universe_domain": "googleapis.com",
        },
        indent=2,
    )


@pytest.fixture
def gcs_dest(gcs_url: str, service_account_json: str) -> Iterator[GcsDestination]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring(max_chars=1280))  # Windows: 2,560 bytes of UTF-16
    bucket = f"g-{uuid.uuid4().hex[:12]}"
    raw = storage.Client(
        project="t", credentials=AnonymousCredentials(), client_options={"api_endpoint": gcs_url}
    )
    raw.create_bucket(bucket)
    dest = GcsDestination(name="gcs", bucket=bucket, endpoint_url=gcs_url)
    save_destination(dest, compact_service_account(service_account_json), KeyringSecrets())
    yield dest
    keyring.set_keyring(previous)


def _raw_bucket(dest: GcsDestination) -> Any:
    client = storage.Client(
        project="t", credentials=AnonymousCredentials(), client_options={"api_endpoint": dest.endpoint_url}
    )
    return client.bucket(dest.bucket)


def _store(dest: GcsDestination, service_account_json: str) -> GcsStore:
    store = make_gcs_store(dest, compact_service_account(service_account_json), resume=PublishDb())
    store.chunk_size = CHUNK  # 256 KiB: several chunks without big files
    return store


def test_service_account_key_is_split_to_fit_a_capped_keyring(service_account_json: str) -> None:
    backend = MemoryKeyring(max_chars=1280)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        dest = GcsDestination(name="g", bucket="bucket1")
        account = compact_service_account(service_account_json)
        assert len(service_account_json) > 2300 and "client_id" not in account.info
        save_destination(dest, account, KeyringSecrets(), settings_file=None)
        names = sorted(name for _service, name in backend.values)
        assert names[0] == "publish/g/service_account" and len(names) >= 3
        assert all(len(v) <= 1280 for v in backend.values.values())
        from layer_desktop.remote.storage.credentials import load_credentials

        loaded = load_credentials(KeyringSecrets(), dest)
        assert isinstance(loaded, ServiceAccount) and dict(loaded.info) == dict(account.info)
    finally:
        keyring.set_keyring(previous)


def test_resumable_upload_in_several_chunks_creates_only(
    gcs_dest: GcsDestination, service_account_json: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = random_file(tmp_path / "talk.mp4", 5 * CHUNK + 1234)
    calls: list[int] = []
    with caplog.at_level(logging.INFO):
        store = _store(gcs_dest, service_account_json)
        record = publish(src, gcs_dest, options=OPTIONS, store=store, progress=lambda d, *_: calls.append(d))
    blob = _raw_bucket(gcs_dest).get_blob("clips/talk.mp4")
    assert blob.download_as_bytes() == src.read_bytes()
    assert blob.metadata["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest() == record.sha256
    assert calls == sorted(calls) and calls[-1] == src.stat().st_size and len(set(calls)) >= 6
    session_starts = [r.getMessage() for r in caplog.records if "uploadType=resumable" in r.getMessage()]
    assert session_starts and all("ifGenerationMatch=0" in m for m in session_starts)
    with urllib.request.urlopen(record.url, timeout=10) as resp:  # a V4 signed URL
        assert resp.read() == src.read_bytes()
    assert "X-Goog-Signature=" in record.url and record.url_expires_at is not None


def test_existing_key_is_never_replaced_without_overwrite(
    gcs_dest: GcsDestination, service_account_json: str, tmp_path: Path
) -> None:
    src = random_file(tmp_path / "a.mp4", 3000)
    publish(src, gcs_dest, options=OPTIONS)  # keys from the (capped) keyring
    before = _raw_bucket(gcs_dest).get_blob("clips/a.mp4").generation
    again = publish(src, gcs_dest, options=OPTIONS)  # same bytes: idempotent, nothing uploaded
    assert _raw_bucket(gcs_dest).get_blob("clips/a.mp4").generation == before and again.size == 3000
    (tmp_path / "o").mkdir()
    other = random_file(tmp_path / "o" / "a.mp4", 2000)
    with pytest.raises(ObjectExistsError):
        publish(other, gcs_dest, options=OPTIONS)
    assert _raw_bucket(gcs_dest).blob("clips/a.mp4").download_as_bytes() == src.read_bytes()


def test_dropped_connection_resumes_from_what_the_service_holds(
    gcs_dest: GcsDestination, service_account_json: str, tmp_path: Path
) -> None:
    src = random_file(tmp_path / "drop.mp4", 4 * CHUNK + 99)
    first = _store(gcs_dest, service_account_json)
    real_put = first.session.put
    sent: list[str] = []

    def flaky_put(url: str, **kw: Any) -> requests.Response:
        rng = kw.get("headers", {}).get("Content-Range", "")
        if not rng.startswith("bytes */"):
            sent.append(rng)
            if len(sent) > 2:
                raise requests.ConnectionError("network dropped")
        return real_put(url, **kw)

    first.session.put = flaky_put  # type: ignore[method-assign]
    with pytest.raises(UploadInterruptedError):
        publish(src, gcs_dest, options=OPTIONS, store=first)
    assert PublishDb().pending_uploads() == 1

    second = _store(gcs_dest, service_account_json)
    resent: list[str] = []
    real_put2 = second.session.put
    second.session.put = lambda url, **kw: (
        resent.append(kw["headers"]["Content-Range"]) or real_put2(url, **kw)
    )  # type: ignore[method-assign]
    publish(src, gcs_dest, options=OPTIONS, store=second)
    assert resent[0] == f"bytes */{src.stat().st_size}"  # asks where to continue
    assert resent[1].startswith(f"bytes {2 * CHUNK}-")  # and continues after the two chunks it holds
    assert _raw_bucket(gcs_dest).blob("clips/drop.mp4").download_as_bytes() == src.read_bytes()
    assert PublishDb().pending_uploads() == 0


def test_cancel_stops_between_chunks_and_leaves_no_object(
    gcs_dest: GcsDestination, service_account_json: str, tmp_path: Path
) -> None:
    src = random_file(tmp_path / "c.mp4", 4 * CHUNK)
    cancel = threading.Event()

    def progress(done: int, total: int, rate: float, eta: float | None) -> None:
        if done >= CHUNK:
            cancel.set()

    with pytest.raises(PublishCancelled):
        store = _store(gcs_dest, service_account_json)
        publish(src, gcs_dest, options=OPTIONS, store=store, progress=progress, cancel=cancel)
    assert _raw_bucket(gcs_dest).get_blob("clips/c.mp4") is None
    assert PublishDb().pending_uploads() == 0
