"""Google Cloud Storage with a service-account key, through ``google-cloud-storage``.

Uploads use GCS's resumable protocol directly (chunks ``PUT`` to a session URL with ``Content-Range``),
so progress is reported per chunk, cancel works between chunks, and the session URL is saved
(``ResumeStore``) so an interrupted upload continues where the service says it stopped. The session is
created with ``ifGenerationMatch=0`` (create-only; a retry can never replace someone else's object) or
with the generation being replaced when overwriting was asked for.

An ``endpoint_url`` on 127.0.0.1 / localhost (an emulator) is used without sending credentials; signed
URLs are still signed with the service-account key.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import requests
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession
from google.cloud import storage  # type: ignore[import-untyped]
from google.oauth2 import service_account

from layer_desktop.errors import (
    BucketNotFoundError,
    CredentialsError,
    ObjectExistsError,
    PublishCancelled,
    PublishError,
    UploadInterruptedError,
)
from layer_desktop.remote.storage.credentials import ServiceAccount
from layer_desktop.remote.storage.records import ResumeState
from layer_desktop.remote.storage.store import SHA256_METADATA, ObjectInfo, ResumeStore, UploadRequest
from layer_desktop.settings import GcsDestination

log = logging.getLogger(__name__)

GCS_API = "https://storage.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",)
CHUNK = 256 * 1024  # GCS wants chunks in multiples of 256 KiB
DEFAULT_CHUNK_SIZE = 32 * CHUNK  # 8 MiB
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_TIMEOUT = (15, 120)


def make_gcs_store(
    dest: GcsDestination, account: ServiceAccount, *, resume: ResumeStore | None = None
) -> GcsStore:
    """A store for ``dest`` authenticated with the service account (anonymous against a local emulator)."""
    try:
        signer = service_account.Credentials.from_service_account_info(dict(account.info), scopes=SCOPES)  # type: ignore[no-untyped-call]
    except (ValueError, GoogleAuthError):
        raise CredentialsError(f"The service-account key of '{dest.name}' cannot be used.") from None
    endpoint = dest.endpoint_url or GCS_API
    emulator = (urlparse(endpoint).hostname or "") in _LOOPBACK
    transport_creds: Any = AnonymousCredentials() if emulator else signer  # type: ignore[no-untyped-call]
    client = storage.Client(
        project=account.project_id or "-",
        credentials=transport_creds,
        client_options={"api_endpoint": endpoint},
    )
    return GcsStore(
        client,
        dest.bucket,
        destination=dest.name,
        session=AuthorizedSession(transport_creds),  # type: ignore[no-untyped-call]
        signer=signer,
        api_endpoint=endpoint if dest.endpoint_url else None,
        resume=resume,
    )


class GcsStore:
    """One GCS bucket. Methods raise ``PublishError`` subclasses."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        destination: str,
        session: AuthorizedSession,
        signer: Any,
        api_endpoint: str | None = None,
        resume: ResumeStore | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if chunk_size % CHUNK:
            raise ValueError("chunk_size must be a multiple of 256 KiB")
        self.client, self.bucket, self.destination = client, bucket, destination
        self.session, self.signer, self.api_endpoint = session, signer, api_endpoint
        self.resume, self.chunk_size = resume, chunk_size
        self._bucket = client.bucket(bucket)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except PublishError:
            raise
        except gexc.PreconditionFailed:
            raise ObjectExistsError(
                f"'{self.destination}' already holds another object at that key."
            ) from None
        except gexc.NotFound:
            raise BucketNotFoundError(
                f"The bucket '{self.bucket}' does not exist at '{self.destination}'."
            ) from None
        except (gexc.Forbidden, gexc.Unauthorized, GoogleAuthError) as exc:
            raise CredentialsError(
                f"'{self.destination}' refused the service account while trying to {action} "
                f"({type(exc).__name__})."
            ) from None
        except (requests.ConnectionError, requests.Timeout, gexc.ServerError, OSError):
            raise UploadInterruptedError(
                f"The connection to '{self.destination}' failed ({action})."
            ) from None
        except gexc.GoogleAPICallError as exc:
            raise PublishError(
                f"'{self.destination}' answered {exc.code} while trying to {action}."
            ) from None

    def head(self, key: str) -> ObjectInfo | None:
        with self._errors("read an object"):
            blob = self._bucket.get_blob(key)  # a missing bucket also gives None; the upload then says so
        if blob is None:
            return None
        meta = blob.metadata or {}
        return ObjectInfo(key, int(blob.size), meta.get(SHA256_METADATA), int(blob.generation))

    def put_bytes(self, key: str, data: bytes) -> None:
        with self._errors("write an object"):
            self._bucket.blob(key).upload_from_string(data, content_type="text/plain")

    def get_bytes(self, key: str) -> bytes:
        with self._errors("read an object"):
            data: bytes = self._bucket.blob(key).download_as_bytes()
        return data

    def delete(self, key: str) -> None:
        with self._errors("delete an object"):
            self._bucket.blob(key).delete()

    def signed_url(self, key: str, expires: dt.timedelta) -> str:
        extra = {"api_access_endpoint": self.api_endpoint} if self.api_endpoint else {}
        with self._errors("sign a link"):
            url: str = self._bucket.blob(key).generate_signed_url(
                version="v4", expiration=expires, method="GET", credentials=self.signer, **extra
            )
        return url

    # ------------------------------------------------------------------ resumable upload

    def upload(self, request: UploadRequest) -> None:
        """Upload in chunks through a resumable session; see the module docstring."""
        with self._errors("upload"):
            state, offset = self._open_session(request)
            with open(request.path, "rb") as fh:
                while offset < request.size:
                    if request.cancel.is_set():
                        self._cancel(state)
                        raise PublishCancelled(f"Publishing '{request.key}' was cancelled.")
                    fh.seek(offset)
                    chunk = fh.read(self.chunk_size)
                    headers = {"Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{request.size}"}
                    resp = self.session.put(state.upload_id, data=chunk, headers=headers, timeout=_TIMEOUT)
                    offset = self._offset_after(resp, state, request.size)
                    request.meter.part(0, offset)
            if self.resume is not None:
                self.resume.clear_upload(state)
        request.meter.finish()

    def _open_session(self, request: UploadRequest) -> tuple[ResumeState, int]:
        resume = self.resume
        state = (
            resume.load_upload(self.destination, self.bucket, request.key, request.sha256) if resume else None
        )
        if state is not None and resume is not None:
            resp = self.session.put(
                state.upload_id, headers={"Content-Range": f"bytes */{request.size}"}, timeout=_TIMEOUT
            )
            if resp.status_code in (200, 201, 308):
                offset = self._offset_after(resp, state, request.size)
                log.info("resuming upload of %s at byte %d", request.key, offset)
                return state, offset
            resume.clear_upload(state)  # the session expired (a week) or was cancelled: start again
        blob = self._bucket.blob(request.key)
        blob.metadata = {SHA256_METADATA: request.sha256}
        url = blob.create_resumable_upload_session(
            content_type=request.content_type,
            size=request.size,
            if_generation_match=request.overwrite_generation or 0,
            checksum=None,
        )
        state = ResumeState(
            self.destination, self.bucket, request.key, request.sha256, request.size, url, self.chunk_size
        )
        if resume is not None:
            resume.save_upload(state)
        return state, 0

    def _offset_after(self, resp: requests.Response, state: ResumeState, size: int) -> int:
        """How many bytes the service holds after ``resp``; raises for answers that end the upload."""
        if resp.status_code in (200, 201):
            return size
        if resp.status_code == 308:
            rng = resp.headers.get("Range", "")
            return int(rng.rsplit("-", 1)[1]) + 1 if rng else 0
        if resp.status_code in (404, 410) and self.resume is not None:
            self.resume.clear_upload(state)
        raise _status_error(resp.status_code, state.key, self.destination)

    def _cancel(self, state: ResumeState) -> None:
        try:
            self.session.delete(state.upload_id, timeout=_TIMEOUT)  # GCS answers 499: session cancelled
        except requests.RequestException as exc:
            log.warning("could not cancel the upload session of %s (%s)", state.key, type(exc).__name__)
        if self.resume is not None:
            self.resume.clear_upload(state)


def _status_error(status: int, key: str, destination: str) -> PublishError:
    if status == 412:
        return ObjectExistsError(f"'{destination}' already holds another object at '{key}'.")
    if status in (401, 403):
        return CredentialsError(f"'{destination}' refused the service account while uploading '{key}'.")
    if status in (404, 410):
        return UploadInterruptedError(
            f"The upload session for '{key}' expired.", hint="Publish again: the upload starts over."
        )
    if status >= 500 or status == 429:
        return UploadInterruptedError(
            f"'{destination}' is unavailable (HTTP {status}) while uploading '{key}'."
        )
    return PublishError(f"'{destination}' answered HTTP {status} while uploading '{key}'.")
