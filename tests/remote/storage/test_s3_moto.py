"""Publishing through the S3 API to a real moto server on 127.0.0.1: single and multipart uploads,
progress, cancel, resume after an interruption, integrity metadata, presigned links, errors."""

from __future__ import annotations

import hashlib
import threading
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from layer_desktop.errors import (
    BucketNotFoundError,
    CredentialsError,
    ObjectExistsError,
    PublishCancelled,
    UploadInterruptedError,
)
from layer_desktop.paths import app_paths
from layer_desktop.remote.storage import (
    HmacKeys,
    KeyFields,
    MultipartOptions,
    PublishDb,
    PublishOptions,
    probe_destination,
    publish,
    save_destination,
)
from layer_desktop.remote.storage.s3 import S3Store, client_config, make_s3_client
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import S3Destination, load_settings
from tests.remote.storage.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MemoryKeyring, random_file

MiB = 1024 * 1024
SMALL_PARTS = MultipartOptions(threshold=1 * MiB, min_part_size=5 * MiB, concurrency=3)
OPTIONS = PublishOptions(fields=KeyFields(project="Demo Reel"), multipart=SMALL_PARTS, progress_interval=0.0)


@pytest.fixture
def dest(s3_env: dict[str, Any], memory_keyring: MemoryKeyring) -> S3Destination:
    d = S3Destination(
        name="local",
        bucket=s3_env["bucket"],
        endpoint_url=s3_env["url"],
        key_template="{project}/{id}-{name}",
    )
    save_destination(d, HmacKeys(ACCESS_KEY_ID, SECRET_ACCESS_KEY), KeyringSecrets())
    return d


def _object(s3_env: dict[str, Any], key: str) -> tuple[bytes, dict[str, str]]:
    resp = s3_env["raw"].get_object(Bucket=s3_env["bucket"], Key=key)
    return resp["Body"].read(), resp["Metadata"]


def _count_part_uploads(store: S3Store) -> list[int]:
    numbers: list[int] = []

    def record(request: Any, **_: Any) -> None:
        numbers.append(int(parse_qs(urlparse(request.url).query)["partNumber"][0]))

    store.client.meta.events.register("before-send.s3.UploadPart", record)
    return numbers


def _store(dest: S3Destination, *, attempts: int | None = None) -> S3Store:
    client = make_s3_client(dest, HmacKeys(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    if attempts is not None:  # fail fast in the interruption test instead of backing off
        import boto3

        config = client_config(dest).merge(
            Config(retries={"mode": "standard", "total_max_attempts": attempts})
        )
        client = boto3.client(
            "s3", endpoint_url=dest.endpoint_url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY, config=config,
        )  # fmt: skip
    return S3Store(client, dest.bucket, destination=dest.name, resume=PublishDb(), options=SMALL_PARTS)


def test_single_upload_stores_bytes_sha256_and_a_working_presigned_link(
    dest: S3Destination, s3_env: dict[str, Any], tmp_path: Path
) -> None:
    src = random_file(tmp_path / "clip one.mp4", 300_000)
    record = publish(src, "local", options=OPTIONS)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert record.key == f"Demo-Reel/{sha[:12]}-clip-one.mp4"
    body, meta = _object(s3_env, record.key)
    assert body == src.read_bytes() and meta["sha256"] == sha == record.sha256
    assert record.url_expires_at is not None and "X-Amz-Signature" in record.url
    with urllib.request.urlopen(record.url, timeout=10) as resp:
        assert resp.read() == src.read_bytes()
    assert PublishDb().records() == [record]
    assert load_settings(app_paths().settings_file).last_destination == "local"


def test_multipart_upload_in_equal_parts_with_monotone_progress(
    dest: S3Destination, s3_env: dict[str, Any], tmp_path: Path
) -> None:
    src = random_file(tmp_path / "long.mp4", 11 * MiB + 12_345)  # 5 + 5 + 1 MiB: three parts
    calls: list[tuple[int, int, float, float | None]] = []
    record = publish(src, dest, options=OPTIONS, progress=lambda *a: calls.append(a))
    body, meta = _object(s3_env, record.key)
    assert body == src.read_bytes() and meta["sha256"] == record.sha256
    head = s3_env["raw"].head_object(Bucket=dest.bucket, Key=record.key, PartNumber=1)
    assert head["PartsCount"] == 3 and head["ContentLength"] == 5 * MiB
    done = [c[0] for c in calls]
    assert done == sorted(done) and done[-1] == src.stat().st_size
    assert all(c[1] == src.stat().st_size for c in calls) and calls[-1][3] == 0.0
    assert len(set(done)) >= 3  # progress was reported along the way, not only at the end


def test_cancel_aborts_the_multipart_upload(
    dest: S3Destination, s3_env: dict[str, Any], tmp_path: Path
) -> None:
    src = random_file(tmp_path / "big.mp4", 16 * MiB)
    cancel = threading.Event()

    def progress(done: int, total: int, rate: float, eta: float | None) -> None:
        if done >= 2 * MiB:
            cancel.set()

    with pytest.raises(PublishCancelled) as caught:
        publish(src, dest, options=OPTIONS, progress=progress, cancel=cancel)
    assert "removed" in caught.value.hint
    assert s3_env["raw"].list_multipart_uploads(Bucket=dest.bucket).get("Uploads", []) == []
    assert s3_env["raw"].list_objects_v2(Bucket=dest.bucket).get("KeyCount") == 0
    assert PublishDb().pending_uploads() == 0


def test_upload_interrupted_after_two_parts_resumes_with_the_rest(
    dest: S3Destination, s3_env: dict[str, Any], tmp_path: Path
) -> None:
    src = random_file(tmp_path / "resume.mp4", 16 * MiB + 777)  # four parts
    first = _store(dest, attempts=1)

    def network_drops(request: Any, **_: Any) -> None:
        if int(parse_qs(urlparse(request.url).query)["partNumber"][0]) > 2:
            raise EndpointConnectionError(endpoint_url=dest.endpoint_url)

    first.client.meta.events.register("before-send.s3.UploadPart", network_drops)
    with pytest.raises(UploadInterruptedError) as caught:
        publish(src, dest, options=OPTIONS, store=first)
    assert "resumes" in caught.value.hint
    (upload,) = s3_env["raw"].list_multipart_uploads(Bucket=dest.bucket)["Uploads"]
    parts = s3_env["raw"].list_parts(Bucket=dest.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    assert [p["PartNumber"] for p in parts["Parts"]] == [1, 2]
    assert PublishDb().pending_uploads() == 1

    second = _store(dest)
    sent = _count_part_uploads(second)
    calls: list[int] = []
    record = publish(src, dest, options=OPTIONS, store=second, progress=lambda d, *_: calls.append(d))
    assert sorted(sent) == [3, 4]  # parts 1 and 2 were not sent again
    assert calls[0] >= 10 * MiB and calls[-1] == src.stat().st_size
    body, meta = _object(s3_env, record.key)
    assert body == src.read_bytes() and meta["sha256"] == hashlib.sha256(body).hexdigest()
    assert s3_env["raw"].list_multipart_uploads(Bucket=dest.bucket).get("Uploads", []) == []
    assert PublishDb().pending_uploads() == 0


def test_republishing_the_same_file_uploads_nothing_and_another_file_is_refused(
    dest: S3Destination, s3_env: dict[str, Any], tmp_path: Path
) -> None:
    src = random_file(tmp_path / "same.mp4", 200_000)
    first = publish(src, dest, options=OPTIONS)
    store = _store(dest)
    puts: list[str] = []
    store.client.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: puts.append(request.url)
    )
    again = publish(src, dest, options=OPTIONS, store=store)
    assert again.key == first.key and again.sha256 == first.sha256 and puts == []
    assert len(PublishDb().records()) == 2

    fixed = PublishOptions(key_template="fixed/{name}", multipart=SMALL_PARTS)
    publish(src, dest, options=fixed)
    (tmp_path / "d").mkdir()
    moved = random_file(tmp_path / "d" / "same.mp4", 1000)  # same name, other bytes
    with pytest.raises(ObjectExistsError):
        publish(moved, dest, options=fixed)
    assert _object(s3_env, "fixed/same.mp4")[0] == src.read_bytes()
    replaced = publish(moved, dest, options=PublishOptions(key_template="fixed/{name}", overwrite=True))
    assert _object(s3_env, "fixed/same.mp4")[0] == moved.read_bytes() and replaced.size == 1000


def test_wrong_keys_and_missing_bucket_are_named_clearly(
    dest: S3Destination, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    src = random_file(tmp_path / "a.mp4", 1000)
    missing = dest.model_copy(update={"bucket": "no-such-bucket-here"})
    with pytest.raises(BucketNotFoundError, match="no-such-bucket-here"):
        publish(src, missing, options=OPTIONS)
    report = probe_destination(missing)
    assert not report.ok and report.failed is not None and report.failed.name == "write"
    assert "does not exist" in report.failed.detail
    assert [s.name for s in report.steps if s.skipped] == ["read", "delete", "link"]

    nokeys = dest.model_copy(update={"name": "nokeys"})
    with pytest.raises(CredentialsError, match="publish/nokeys/access_key_id"):
        publish(src, nokeys, options=OPTIONS)
    assert probe_destination(nokeys).steps[0].name == "keys"


def test_probe_writes_reads_and_deletes(dest: S3Destination, s3_env: dict[str, Any]) -> None:
    report = probe_destination(dest)
    assert report.ok, report
    assert [s.name for s in report.steps] == ["keys", "write", "read", "delete", "link"]
    assert s3_env["raw"].list_objects_v2(Bucket=dest.bucket).get("KeyCount") == 0
