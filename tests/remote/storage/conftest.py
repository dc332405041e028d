"""Real servers on 127.0.0.1 for the publish tests: moto (S3 API) and gcp-storage-emulator (GCS)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MemoryKeyring as MemoryKeyring  # re-exported for the publish tests
from tests.conftest import require_component

# well-formed but fake: the leak tests grep every log line, file and output for these values
ACCESS_KEY_ID = "AKIALAYERTEST0000001"
SECRET_ACCESS_KEY = "s3cr3t-Layer+Test/Key-" + "x" * 18


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        require_component("moto[server]", False, str(exc))
        raise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    try:
        server.start()
    except OSError as exc:
        require_component("moto S3 server on 127.0.0.1", False, str(exc))
    host, port = server.get_host_and_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fresh bucket on the moto server and a raw boto3 client to inspect it."""
    import boto3
    from botocore.config import Config

    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    raw = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(s3={"addressing_style": "path"}),
    )
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    raw.create_bucket(Bucket=bucket)
    yield {"url": moto_url, "bucket": bucket, "raw": raw}


@pytest.fixture(scope="session")
def gcs_url() -> Iterator[str]:
    try:
        from gcp_storage_emulator.server import create_server
    except ImportError as exc:  # pragma: no cover
        require_component("gcp-storage-emulator", False, str(exc))
        raise
    server = create_server("127.0.0.1", 0, in_memory=True)
    try:
        server.start()
    except OSError as exc:
        require_component("gcp-storage-emulator on 127.0.0.1", False, str(exc))
    host, port = server._api._httpd.server_address[:2]
    yield f"http://{host}:{port}"
    server.stop()


def random_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path
