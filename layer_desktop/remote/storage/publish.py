"""One entry point: ``publish(file, destination) -> PublishRecord``.

Steps: hash the file (sha256) → render the key → if the key already holds this very file (same size
and sha256 in its metadata), nothing is uploaded (idempotent re-publish); if it holds another file,
refuse unless overwriting was asked for → upload (resumable, cancellable, with progress) → check what
arrived (head: size and sha256) → make the link (public URL, else a signed one) → record it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from layer_desktop.errors import (
    EmptyFileError,
    IntegrityError,
    MediaNotFoundError,
    ObjectExistsError,
    PublishCancelled,
)
from layer_desktop.remote.storage.credentials import (
    Credentials,
    HmacKeys,
    SecretStore,
    ServiceAccount,
    load_credentials,
)
from layer_desktop.remote.storage.destinations import get_destination, remember_last
from layer_desktop.remote.storage.gcs import make_gcs_store
from layer_desktop.remote.storage.keys import KeyFields, render_key
from layer_desktop.remote.storage.multipart import MultipartOptions
from layer_desktop.remote.storage.progress import ProgressCallback, ProgressMeter
from layer_desktop.remote.storage.records import PublishDb, PublishRecord, new_record_id
from layer_desktop.remote.storage.s3 import S3Store, make_s3_client
from layer_desktop.remote.storage.store import ObjectStore, ResumeStore, UploadRequest
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import DestinationSpec

log = logging.getLogger(__name__)

HASH_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class PublishOptions:
    key_template: str | None = None  # None: the destination's own template
    fields: KeyFields = field(default_factory=KeyFields)
    expires: dt.timedelta = dt.timedelta(hours=24)  # for signed links (no public base URL)
    overwrite: bool = False
    content_type: str | None = None  # None: guessed from the file name
    multipart: MultipartOptions = field(default_factory=MultipartOptions)
    progress_interval: float = 0.1  # seconds between progress callbacks (the last one always comes)


def open_store(
    dest: DestinationSpec,
    creds: Credentials,
    *,
    resume: ResumeStore | None = None,
    multipart: MultipartOptions | None = None,
) -> ObjectStore:
    """The store for ``dest``: boto3 for R2, S3-compatible and GCS with HMAC keys; google-cloud-storage
    for GCS with a service account."""
    if isinstance(creds, ServiceAccount):
        if dest.kind != "gcs":
            raise ValueError("a service account only works with a GCS destination")
        return make_gcs_store(dest, creds, resume=resume)
    options = multipart or MultipartOptions()
    client = make_s3_client(dest, creds, max_pool=options.concurrency + 2)
    return S3Store(client, dest.bucket, destination=dest.name, resume=resume, options=options)


def publish(
    file: Path,
    destination: DestinationSpec | str,
    *,
    options: PublishOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    secrets: SecretStore | None = None,
    db: PublishDb | None = None,
    store: ObjectStore | None = None,
) -> PublishRecord:
    """Publish ``file`` and return its record (also saved in the app database).

    Raises ``MediaNotFoundError`` / ``EmptyFileError`` for the file, ``DestinationError``,
    ``KeyTemplateError``, ``CredentialsError``, ``BucketNotFoundError``, ``ObjectExistsError``,
    ``UploadInterruptedError`` (run it again: it resumes), ``PublishCancelled`` or ``IntegrityError``.
    """
    opts = options or PublishOptions()
    cancel = cancel or threading.Event()
    dest = get_destination(destination) if isinstance(destination, str) else destination
    path, size = _check_file(file)
    sha256 = file_sha256(path, cancel)
    key = render_key(opts.key_template or dest.key_template, file=path, sha256=sha256, fields=opts.fields)
    own_db = db is None
    db = db or PublishDb()
    try:
        return _publish(path, size, sha256, key, dest, opts, progress, cancel, secrets, db, store)
    finally:
        if own_db:
            db.close()


def _publish(
    path: Path,
    size: int,
    sha256: str,
    key: str,
    dest: DestinationSpec,
    opts: PublishOptions,
    progress: ProgressCallback | None,
    cancel: threading.Event,
    secrets: SecretStore | None,
    db: PublishDb,
    store: ObjectStore | None,
) -> PublishRecord:
    if store is None:
        creds = load_credentials(secrets or KeyringSecrets(), dest)
        store = open_store(dest, creds, resume=db, multipart=opts.multipart)
    meter = ProgressMeter(size, progress, min_interval=opts.progress_interval)
    existing = store.head(key)
    if existing is not None and existing.size == size and existing.sha256 == sha256:
        log.info("%s is already published at %s:%s; not uploading again", path.name, dest.name, key)
        meter.finish()
    elif existing is not None and not opts.overwrite:
        raise ObjectExistsError(f"'{dest.name}' already holds a different file at '{key}'.")
    else:
        content_type = opts.content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        generation = existing.generation if existing is not None else None
        request = UploadRequest(path, key, size, sha256, content_type, meter, cancel, generation)
        store.upload(request)
    _verify(store, key, size, sha256)
    url, expires_at = make_link(dest, store, key, opts.expires)
    record = PublishRecord(
        id=new_record_id(),
        destination=dest.name,
        kind=dest.kind,
        bucket=dest.bucket,
        key=key,
        size=size,
        sha256=sha256,
        url=url,
        url_expires_at=expires_at,
        published_at=dt.datetime.now(dt.UTC),
        source_path=str(path),
        project=opts.fields.project,
    )
    db.add_record(record)
    remember_last(dest.name)
    log.info("published %s to %s:%s (%d bytes)", path.name, dest.name, key, size)
    return record


def make_link(
    dest: DestinationSpec, store: ObjectStore, key: str, expires: dt.timedelta
) -> tuple[str, dt.datetime | None]:
    """The public URL when the destination has a public base, else a signed URL and when it expires."""
    if dest.public_base_url:
        return f"{dest.public_base_url.rstrip('/')}/{quote(key, safe='/-._~')}", None
    return store.signed_url(key, expires), dt.datetime.now(dt.UTC) + expires


def file_sha256(path: Path, cancel: threading.Event | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            if cancel is not None and cancel.is_set():
                raise PublishCancelled(f"Publishing '{path.name}' was cancelled.")
            digest.update(block)
    return digest.hexdigest()


def _check_file(file: Path) -> tuple[Path, int]:
    path = Path(file).expanduser().resolve()
    if not path.is_file():
        raise MediaNotFoundError(f"The file to publish was not found: {path}", path=path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(f"The file to publish is empty (0 bytes): {path}", path=path)
    return path, size


def _verify(store: ObjectStore, key: str, size: int, sha256: str) -> None:
    info = store.head(key)
    if info is None:
        raise IntegrityError(f"'{key}' is not in the bucket after the upload.")
    if info.size != size:
        raise IntegrityError(f"'{key}' has {info.size} bytes in the bucket, the file {size}.")
    if info.sha256 != sha256:
        raise IntegrityError(f"'{key}' in the bucket carries another sha256 than the file.")


__all__ = ["HmacKeys", "PublishOptions", "ServiceAccount", "make_link", "open_store", "publish"]
