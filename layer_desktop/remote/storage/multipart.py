"""Multipart upload through the S3 API: equal parts sent in parallel, cancellable, resumable, verified.

- **Part size** (``choose_part_size``): every part but the last has the same size (R2 requires it), a
  whole number of MiB, at least ``min_part_size`` (and S3's 5 MiB floor), and large enough that any file
  needs at most 10,000 parts (S3's and R2's limit).
- **Resume**: the upload id and part size are saved (``ResumeStore``) when the upload starts, each part
  as it completes. Run again for the same file and key, the upload is continued: ``ListParts`` says
  which parts the service holds, and only the others are sent.
- **Cancel**: ``request.cancel`` stops every part mid-body; the upload is then aborted
  (``AbortMultipartUpload``) so no incomplete upload is left to be billed, and its saved state dropped.
- **Verify**: each part's ETag is compared with the MD5 of the bytes sent, and the final ETag with the
  MD5-of-MD5s that S3-style services return, where the service uses that form.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from layer_desktop.errors import IntegrityError, PublishCancelled
from layer_desktop.remote.storage.reader import PartReader, Stopped
from layer_desktop.remote.storage.records import ResumeState
from layer_desktop.remote.storage.store import SHA256_METADATA, ResumeStore, UploadRequest

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_PARTS = 10_000
MIN_PART_SIZE = 5 * MiB
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART_ETAG = re.compile(r"^([0-9a-f]{32})-(\d+)$")

Part = tuple[int, int, int]  # (number, offset, length)


@dataclass(frozen=True)
class MultipartOptions:
    threshold: int = 16 * MiB  # files up to this size go in one PUT
    min_part_size: int = 8 * MiB
    concurrency: int = 8  # parts in flight; the S3 API serves parallel parts well


def choose_part_size(size: int, minimum: int = 8 * MiB) -> int:
    """The part size for a file of ``size`` bytes (see the module docstring)."""
    needed = -(-size // MAX_PARTS)
    part = max(minimum, MIN_PART_SIZE, needed)
    return -(-part // MiB) * MiB


def plan_parts(size: int, part_size: int) -> list[Part]:
    return [(i + 1, off, min(part_size, size - off)) for i, off in enumerate(range(0, size, part_size))]


def error_code(exc: ClientError) -> str:
    err = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(err.get("Code") or status or "unknown")


def check_etag(etag: str | None, md5_hex: str | None, *, what: str) -> None:
    """Compare a plain (non-multipart) ETag with the MD5 of the bytes sent, where both are known."""
    tag = (etag or "").strip('"').lower()
    if md5_hex is None or not _MD5.match(tag):
        return  # encrypted or provider-specific ETags are not MD5s: the head check after upload remains
    if tag != md5_hex:
        raise IntegrityError(f"The service stored different bytes for {what} than were sent (MD5 differs).")


def upload_multipart(
    client: Any,
    bucket: str,
    request: UploadRequest,
    resume: ResumeStore | None,
    options: MultipartOptions,
    destination: str,
) -> None:
    """Upload ``request.path`` in parts; raises ``PublishCancelled``, ``IntegrityError`` or botocore errors
    (a network error leaves the upload resumable)."""
    state, etags = _open_upload(client, bucket, request, resume, options, destination)
    plan = plan_parts(request.size, state.part_size)
    if etags:
        log.info("resuming upload of %s: %d of %d parts already sent", request.key, len(etags), len(plan))
    request.meter.add_done(sum(length for n, _, length in plan if n in etags))
    try:
        _send_parts(client, bucket, request, state, [p for p in plan if p[0] not in etags], etags, resume,
                    options.concurrency)  # fmt: skip
        if request.cancel.is_set():
            raise Stopped
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
        resp = client.complete_multipart_upload(
            Bucket=bucket, Key=request.key, UploadId=state.upload_id, MultipartUpload={"Parts": parts}
        )
        _check_composite(resp.get("ETag"), [etags[n] for n in sorted(etags)], request.key)
    except Stopped:
        _abort(client, bucket, state, resume)
        raise PublishCancelled(f"Publishing '{request.key}' was cancelled.") from None
    except IntegrityError:
        _abort(client, bucket, state, resume)  # never resume on top of bad parts
        raise
    if resume is not None:
        resume.clear_upload(state)


def _open_upload(
    client: Any,
    bucket: str,
    request: UploadRequest,
    resume: ResumeStore | None,
    options: MultipartOptions,
    destination: str,
) -> tuple[ResumeState, dict[int, str]]:
    """Continue the saved upload for this file and key when the service still has it, else start one."""
    state = resume.load_upload(destination, bucket, request.key, request.sha256) if resume else None
    if state is not None and resume is not None:
        etags = _parts_on_server(client, bucket, state)
        if etags is not None:
            return state, etags
        log.info("the saved upload of %s is gone from the service; starting again", request.key)
        resume.clear_upload(state)
    resp = client.create_multipart_upload(
        Bucket=bucket,
        Key=request.key,
        ContentType=request.content_type,
        Metadata={SHA256_METADATA: request.sha256},
    )
    part_size = choose_part_size(request.size, options.min_part_size)
    state = ResumeState(
        destination, bucket, request.key, request.sha256, request.size, str(resp["UploadId"]), part_size
    )
    if resume is not None:
        resume.save_upload(state)
    return state, {}


def _parts_on_server(client: Any, bucket: str, state: ResumeState) -> dict[int, str] | None:
    """Parts the service holds that have the planned size; None when the upload no longer exists."""
    expected = {n: length for n, _, length in plan_parts(state.size, state.part_size)}
    found: dict[int, str] = {}
    marker = 0
    while True:
        try:
            resp = client.list_parts(
                Bucket=bucket, Key=state.key, UploadId=state.upload_id, PartNumberMarker=marker
            )
        except ClientError as exc:
            if error_code(exc) in ("NoSuchUpload", "404"):
                return None
            raise
        for part in resp.get("Parts", []):
            number = int(part["PartNumber"])
            if expected.get(number) == int(part["Size"]):
                found[number] = str(part["ETag"])
        if not resp.get("IsTruncated"):
            return found
        marker = int(resp["NextPartNumberMarker"])


def _send_parts(
    client: Any,
    bucket: str,
    request: UploadRequest,
    state: ResumeState,
    todo: list[Part],
    etags: dict[int, str],
    resume: ResumeStore | None,
    concurrency: int,
) -> None:
    stop = threading.Event()  # set on the first failure: parts not yet started are not started
    failures: list[BaseException] = []
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="layer-upload") as pool:
        futures = [pool.submit(_send_part, client, bucket, request, state.upload_id, p, stop) for p in todo]
        for future in as_completed(futures):
            try:
                number, etag, length = future.result()
            except Exception as exc:
                stop.set()
                failures.append(exc)
                continue
            etags[number] = etag
            if resume is not None:
                resume.add_part(state, number, etag, length)
    if request.cancel.is_set():
        raise Stopped
    real = [f for f in failures if not isinstance(f, Stopped)]
    if real:
        raise real[0]


def _send_part(
    client: Any, bucket: str, request: UploadRequest, upload_id: str, part: Part, stop: threading.Event
) -> tuple[int, str, int]:
    number, offset, length = part
    if request.cancel.is_set() or stop.is_set():
        raise Stopped
    # only the user's cancel stops a part mid-way: after another part failed, those in flight may finish
    with PartReader(
        request.path,
        offset,
        length,
        part_id=number,
        meter=request.meter,
        stop=(request.cancel,),
    ) as body:
        resp = client.upload_part(
            Bucket=bucket,
            Key=request.key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ContentLength=length,
        )
        etag = str(resp["ETag"])
        check_etag(etag, body.md5_hex(), what=f"part {number} of '{request.key}'")
    return number, etag, length


def _check_composite(etag: str | None, part_etags: list[str], key: str) -> None:
    match = _MULTIPART_ETAG.match((etag or "").strip('"').lower())
    plain = [e.strip('"').lower() for e in part_etags]
    if match is None or not all(_MD5.match(e) for e in plain):
        return
    expected = hashlib.md5(b"".join(bytes.fromhex(e) for e in plain), usedforsecurity=False).hexdigest()
    if match.group(1) != expected or int(match.group(2)) != len(plain):
        raise IntegrityError(f"The service assembled '{key}' from different parts than were sent.")


def _abort(client: Any, bucket: str, state: ResumeState, resume: ResumeStore | None) -> None:
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=state.key, UploadId=state.upload_id)
    except (BotoCoreError, ClientError, OSError) as exc:
        log.warning("could not abort the multipart upload of %s (%s)", state.key, type(exc).__name__)
    if resume is not None:
        resume.clear_upload(state)
