"""R2, S3-compatible services and GCS's S3-interoperability API through boto3.

Client settings that matter (see ``client_config``):

- R2 and GCS-interop use ``region_name="auto"``.
- Every endpoint that is not AWS gets ``request_checksum_calculation`` and ``response_checksum_validation``
  set to ``"when_required"``: botocore ≥ 1.36 otherwise sends ``aws-chunked`` bodies with CRC32 trailers
  (``x-amz-trailer``, ``x-amz-sdk-checksum-algorithm``), which R2 and GCS reject.
- Bodies are sent as ``UNSIGNED-PAYLOAD`` (one read of the file, no sha256 per part); what arrived is
  checked by comparing each part's ETag with the MD5 of the bytes sent, then the head (size, sha256).
- No ACL, tagging, storage class or KMS parameters are ever passed (R2 refuses them; access is set on
  the bucket), so none of those headers is sent.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any
from urllib.parse import urlparse

import boto3  # type: ignore[import-untyped]
import botocore.loaders  # type: ignore[import-untyped]
import botocore.session  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from layer_desktop.errors import (
    BucketNotFoundError,
    CredentialsError,
    PublishCancelled,
    PublishError,
    UploadInterruptedError,
)
from layer_desktop.remote.storage.credentials import HmacKeys
from layer_desktop.remote.storage.multipart import (
    MultipartOptions,
    check_etag,
    error_code,
    upload_multipart,
)
from layer_desktop.remote.storage.reader import PartReader, Stopped
from layer_desktop.remote.storage.store import SHA256_METADATA, ObjectInfo, ResumeStore, UploadRequest
from layer_desktop.settings import DestinationSpec

log = logging.getLogger(__name__)

R2_ENDPOINT = "https://{account_id}.r2.cloudflarestorage.com"
GCS_INTEROP_ENDPOINT = "https://storage.googleapis.com"
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidToken",
        "ExpiredToken",
        "AuthorizationHeaderMalformed",
        "Unauthorized",
    }
)
_NETWORK_ERRORS = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectTimeoutError)


def endpoint_url(dest: DestinationSpec) -> str | None:
    """The S3 API endpoint for ``dest`` (None: AWS S3 picks its own)."""
    if dest.kind == "r2":
        return dest.endpoint_url or R2_ENDPOINT.format(account_id=dest.account_id.lower())
    if dest.kind == "gcs":
        return dest.endpoint_url or GCS_INTEROP_ENDPOINT
    return dest.endpoint_url


def is_aws(url: str | None) -> bool:
    host = urlparse(url).hostname or "" if url else "s3.amazonaws.com"
    return host == "amazonaws.com" or host.endswith(".amazonaws.com")


def client_config(dest: DestinationSpec, *, max_pool: int = 10) -> Config:
    """The botocore settings for ``dest`` (checksums only when required off AWS, path or virtual style)."""
    # R2's TLS certificate covers one level below r2.cloudflarestorage.com: path style always works there
    style = dest.addressing_style if dest.kind == "s3" else "path"
    options: dict[str, Any] = {
        "signature_version": "s3v4",
        # UNSIGNED-PAYLOAD: otherwise botocore reads every body twice (sha256 for the signature, then
        # to send). Each part's ETag is checked against the MD5 of the bytes sent instead.
        "s3": {"addressing_style": style, "payload_signing_enabled": False},
        "retries": {"mode": "standard", "max_attempts": 4},
        "connect_timeout": 15,
        "read_timeout": 120,
        "max_pool_connections": max_pool,
        "user_agent_extra": "layer-desktop",
    }
    if not is_aws(endpoint_url(dest)):
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return Config(**options)


def region_name(dest: DestinationSpec) -> str:
    return dest.region if dest.kind == "s3" else "auto"


@functools.cache
def _shared_loader() -> Any:
    # Each botocore session parses the S3 service model JSON again (~150 ms a client); one loader, only
    # ever read, keeps the parsed models. Sessions and clients themselves stay per publish.
    return botocore.loaders.create_loader()


def make_s3_client(dest: DestinationSpec, keys: HmacKeys, *, max_pool: int = 10) -> Any:
    """A boto3 S3 client for ``dest``, with its own session (thread-safe to share between parts)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    session = boto3.session.Session(botocore_session=core)
    return session.client(
        "s3",
        endpoint_url=endpoint_url(dest),
        region_name=region_name(dest),
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        config=client_config(dest, max_pool=max_pool),
    )


def map_s3_error(exc: BaseException, *, where: str, bucket: str, action: str) -> PublishError:
    """Turn a botocore error into one of ours. The message names the step and the service's error code,
    never the exception text (which may quote request details)."""
    if isinstance(exc, PublishError):
        return exc
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code == "NoSuchBucket":
            return BucketNotFoundError(f"The bucket '{bucket}' does not exist at {where}.")
        if code in _CREDENTIAL_CODES or code in ("401", "403"):
            return CredentialsError(f"{where} refused the keys while trying to {action} (error {code}).")
        return PublishError(f"{where} answered '{code}' while trying to {action}.")
    if isinstance(exc, NoCredentialsError):
        return CredentialsError(f"No keys were given for {where}.")
    if isinstance(exc, _NETWORK_ERRORS) or (isinstance(exc, OSError) and not isinstance(exc, BotoCoreError)):
        return UploadInterruptedError(f"The connection to {where} failed while trying to {action}.")
    return PublishError(f"{where} could not {action} ({type(exc).__name__}).")


class S3Store:
    """One bucket through the S3 API. Methods raise ``PublishError`` subclasses."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        destination: str,
        resume: ResumeStore | None = None,
        options: MultipartOptions | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.destination = destination
        self.resume = resume
        self.options = options or MultipartOptions()
        self._where = f"destination '{destination}'"

    def _call(self, action: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise map_s3_error(exc, where=self._where, bucket=self.bucket, action=action) from None

    def head(self, key: str) -> ObjectInfo | None:
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise map_s3_error(exc, where=self._where, bucket=self.bucket, action="read an object") from None
        except (BotoCoreError, OSError) as exc:
            raise map_s3_error(exc, where=self._where, bucket=self.bucket, action="read an object") from None
        meta = {k.lower(): v for k, v in (resp.get("Metadata") or {}).items()}
        return ObjectInfo(key, int(resp["ContentLength"]), meta.get(SHA256_METADATA))

    def put_bytes(self, key: str, data: bytes) -> None:
        self._call("write an object", "put_object", Key=key, Body=data, ContentType="text/plain")

    def get_bytes(self, key: str) -> bytes:
        resp = self._call("read an object", "get_object", Key=key)
        body: bytes = resp["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self._call("delete an object", "delete_object", Key=key)

    def signed_url(self, key: str, expires: dt.timedelta) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=int(expires.total_seconds()),
        )
        return url

    def upload(self, request: UploadRequest) -> None:
        """Upload a file: one PUT up to the multipart threshold, else a resumable multipart upload."""
        try:
            if request.size <= self.options.threshold:
                self._put_single(request)
            else:
                upload_multipart(
                    self.client, self.bucket, request, self.resume, self.options, self.destination
                )
        except Stopped:
            # only a single PUT gets here (multipart handles its own): it never completed, nothing is left
            raise PublishCancelled(f"Publishing '{request.key}' was cancelled.") from None
        except (BotoCoreError, ClientError, OSError) as exc:
            raise map_s3_error(exc, where=self._where, bucket=self.bucket, action="upload") from None
        request.meter.finish()

    def _put_single(self, request: UploadRequest) -> None:
        with PartReader(
            request.path,
            0,
            request.size,
            part_id=1,
            meter=request.meter,
            stop=(request.cancel,),
        ) as body:
            resp = self.client.put_object(
                Bucket=self.bucket,
                Key=request.key,
                Body=body,
                ContentLength=request.size,
                ContentType=request.content_type,
                Metadata={SHA256_METADATA: request.sha256},
            )
            check_etag(resp.get("ETag"), body.md5_hex(), what=f"'{request.key}'")
