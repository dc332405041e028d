"""The strict R2 profile, with no network: a botocore ``before-send`` hook records every request and
answers with canned responses. R2 rejects aws-chunked bodies, checksum trailers, ACL, tagging and KMS
headers, and needs every part but the last to have the same size."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from botocore.awsrequest import AWSResponse

from layer_desktop.remote.storage import HmacKeys, PublishDb, PublishOptions, open_store, publish
from layer_desktop.remote.storage.s3 import S3Store
from layer_desktop.settings import R2Destination
from tests.remote.storage.conftest import random_file

ACCOUNT = "0123456789abcdef0123456789abcdef"
MiB = 1024 * 1024
FORBIDDEN_HEADERS = ("x-amz-trailer", "x-amz-sdk-checksum-algorithm", "x-amz-decoded-content-length",
                     "x-amz-acl", "x-amz-tagging", "x-amz-server-side-encryption", "x-amz-grant-",
                     "x-amz-checksum-", "x-amz-storage-class")  # fmt: skip


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class FakeR2:
    """Records requests and answers like R2 would for one object."""

    def __init__(self, sha256: str, size: int) -> None:
        self.sha256, self.size = sha256, size
        self.requests: list[tuple[str, str, str, dict[str, str]]] = []
        self.part_sizes: dict[int, int] = {}
        self.stored = False

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        op = event_name.rsplit(".", 1)[1]
        headers = {
            k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()
        }
        self.requests.append((op, request.method, request.url, headers))
        return getattr(self, op)(request)

    def _resp(self, request: Any, status: int, headers: dict[str, str], body: bytes = b"") -> AWSResponse:
        return AWSResponse(request.url, status, headers, _Raw(body))

    def HeadObject(self, request: Any) -> AWSResponse:
        if not self.stored:
            return self._resp(request, 404, {})
        return self._resp(request, 200, {"content-length": str(self.size), "x-amz-meta-sha256": self.sha256})

    def CreateMultipartUpload(self, request: Any) -> AWSResponse:
        body = (
            b"<InitiateMultipartUploadResult><Bucket>videos</Bucket><Key>k</Key>"
            b"<UploadId>up-1</UploadId></InitiateMultipartUploadResult>"
        )
        return self._resp(request, 200, {}, body)

    def UploadPart(self, request: Any) -> AWSResponse:
        data = request.body.read()  # what would go over the wire
        number = int(parse_qs(urlparse(request.url).query)["partNumber"][0])
        self.part_sizes[number] = len(data)
        return self._resp(request, 200, {"etag": f'"{hashlib.md5(data).hexdigest()}"'})

    def CompleteMultipartUpload(self, request: Any) -> AWSResponse:
        self.stored = True
        body = b'<CompleteMultipartUploadResult><ETag>"r2-etag"</ETag></CompleteMultipartUploadResult>'
        return self._resp(request, 200, {}, body)


def _r2_store(fake: FakeR2, **fields: Any) -> tuple[R2Destination, S3Store]:
    dest = R2Destination(name="r2", bucket="videos", account_id=ACCOUNT, key_template="v/{name}", **fields)
    store = open_store(dest, HmacKeys("AKIDR2TEST", "r2-secret-value"), resume=PublishDb())
    assert isinstance(store, S3Store)
    store.client.meta.events.register("before-send.s3", fake)
    return dest, store


def test_r2_requests_carry_no_trailer_checksum_acl_tagging_or_kms_headers(tmp_path: Path) -> None:
    src = random_file(tmp_path / "film.mp4", 20 * MiB + 4321)  # 8 + 8 + 4 MiB with the default part size
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    fake = FakeR2(sha, src.stat().st_size)
    dest, store = _r2_store(fake)
    assert store.client.meta.region_name == "auto"

    record = publish(src, dest, store=store, options=PublishOptions())

    ops = [op for op, *_ in fake.requests]
    assert (
        ops.count("UploadPart") == 3 and "CreateMultipartUpload" in ops and "CompleteMultipartUpload" in ops
    )
    for op, _method, url, headers in fake.requests:
        assert urlparse(url).hostname == f"{ACCOUNT}.r2.cloudflarestorage.com", url
        assert urlparse(url).path.startswith("/videos/"), url
        for name, value in headers.items():
            assert not name.startswith(FORBIDDEN_HEADERS), (op, name)
            assert "aws-chunked" not in value.lower(), (op, name, value)
        if op == "UploadPart":  # one read of the body: no sha256 pass before sending
            assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    sizes = [fake.part_sizes[n] for n in sorted(fake.part_sizes)]
    assert sizes[:-1] == [8 * MiB, 8 * MiB] and sum(sizes) == src.stat().st_size
    assert record.url.startswith(f"https://{ACCOUNT}.r2.cloudflarestorage.com/videos/v/film.mp4?")
    assert "X-Amz-Expires=86400" in record.url


def test_r2_single_put_and_public_base_url(tmp_path: Path) -> None:
    src = random_file(tmp_path / "short clip.mp4", 100_000)
    fake = FakeR2(hashlib.sha256(src.read_bytes()).hexdigest(), 100_000)

    def put(request: Any) -> AWSResponse:
        fake.stored = True
        return fake._resp(request, 200, {"etag": f'"{hashlib.md5(request.body.read()).hexdigest()}"'})

    fake.PutObject = put  # type: ignore[attr-defined]
    dest, store = _r2_store(fake, public_base_url="https://media.example.com/")
    record = publish(src, dest, store=store)
    (put_headers,) = [h for op, _m, _u, h in fake.requests if op == "PutObject"]
    assert put_headers["x-amz-meta-sha256"] == fake.sha256
    assert not any(n.startswith(FORBIDDEN_HEADERS) for n in put_headers)
    assert record.url == "https://media.example.com/v/short-clip.mp4" and record.url_expires_at is None
