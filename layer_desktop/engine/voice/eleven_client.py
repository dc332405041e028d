"""One ElevenLabs account: the SDK client with the API key from the keyring, retries with backoff, and
the service's errors turned into ``VoiceBackendError`` subclasses.

The key is read from the secret store only (never an argument, environment variable or file), is never
logged or put in an exception, and is identified on personas by a short non-reversible fingerprint.
The SDK's own retry loop is switched off (``max_retries=0``): it does not cover streamed responses and
drops form fields when it resends, so every call is retried here instead: 429 (concurrency limit,
``system_busy``), 5xx and network errors, with exponential backoff and jitter, honouring Retry-After.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

import httpx

from layer_desktop.errors import (
    VoiceAuthError,
    VoiceBackendError,
    VoiceBusyError,
    VoiceQuotaError,
    VoiceVerificationError,
)

if TYPE_CHECKING:
    from elevenlabs.core.request_options import RequestOptions

log = logging.getLogger(__name__)

API_KEY_NAME = "elevenlabs_api_key"  # the secret's name in the keyring (service "layer-desktop")
NO_RETRIES: RequestOptions = {"max_retries": 0}
_BUSY = {"too_many_concurrent_requests", "system_busy", "rate_limit_exceeded"}
_QUOTA = {"quota_exceeded", "insufficient_credits", "payment_required"}
_AUTH = {"invalid_api_key", "missing_permissions", "unauthorized", "needs_authorization"}

T = TypeVar("T")


class SecretSource(Protocol):
    def get(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class ElevenLabsSettings:
    """Models, formats and limits of the ElevenLabs backends."""

    sts_model: str = "eleven_multilingual_sts_v2"
    tts_model: str = "eleven_multilingual_v2"
    output_format: str = "pcm_24000"  # raw 16-bit PCM; pcm_44100 needs a Pro plan
    max_piece_s: float = 300.0
    concurrency: int = 2  # the free and starter plans allow 2–3 concurrent requests
    max_attempts: int = 6
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    timeout_s: float = 240.0
    base_url: str | None = None

    @property
    def output_rate(self) -> int:
        kind, _, rate = self.output_format.partition("_")
        if kind != "pcm" or not rate.isdigit():
            raise VoiceBackendError(
                f"The ElevenLabs output format {self.output_format!r} is not raw PCM.",
                hint="Use one of pcm_16000, pcm_22050, pcm_24000, pcm_44100.",
            )
        return int(rate)


class _Retry(Exception):
    def __init__(self, error: VoiceBackendError, wait_s: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait_s = wait_s


class ElevenLabsAccount:
    """The SDK client for the account whose key is in ``secrets``; ``http_client`` replaces the network
    (tests pass an ``httpx.Client`` with a mock transport); ``sleep`` is the backoff's wait."""

    def __init__(
        self,
        secrets: SecretSource | None = None,
        settings: ElevenLabsSettings | None = None,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from elevenlabs.client import ElevenLabs  # the SDK is large: import it only when used

        if secrets is None:
            from layer_desktop.secrets import KeyringSecrets

            secrets = KeyringSecrets()
        key = secrets.get(API_KEY_NAME)
        if not key or not key.strip():
            raise VoiceAuthError(
                "No ElevenLabs API key is set, so the ElevenLabs voice backends cannot be used."
            )
        self.settings = settings or ElevenLabsSettings()
        self.fingerprint = hashlib.sha256(key.strip().encode()).hexdigest()[:12]
        self.sleep = sleep
        self.client = ElevenLabs(
            api_key=key.strip(),
            base_url=self.settings.base_url,
            timeout=self.settings.timeout_s,
            httpx_client=http_client,
        )

    def call(self, fn: Callable[[], T], what: str) -> T:
        """Run one SDK call, retrying what can be retried; raises a ``VoiceBackendError`` subclass."""
        attempts = max(1, self.settings.max_attempts)
        for attempt in range(attempts):
            try:
                return _translated(fn, what)
            except _Retry as retry:
                if attempt == attempts - 1:
                    raise retry.error from None
                wait = retry.wait_s if retry.wait_s is not None else self._backoff(attempt)
                log.warning(
                    "ElevenLabs: %s; retrying in %.1f s (attempt %d of %d)",
                    retry.error,
                    wait,
                    attempt + 2,
                    attempts,
                )
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.max_backoff_s, self.settings.backoff_s * 2.0**attempt)
        return base * (0.5 + 0.5 * random.random())


def _translated(fn: Callable[[], T], what: str) -> T:
    from elevenlabs.core.api_error import ApiError

    try:
        return fn()
    except ApiError as exc:
        error = service_error(exc.status_code, exc.body, what)
        if isinstance(error, VoiceBusyError) or (exc.status_code or 0) >= 500:
            raise _Retry(error, _retry_after(exc.headers)) from None
        raise error from None
    except httpx.TransportError as exc:
        raise _Retry(
            VoiceBackendError(
                f"Could not reach ElevenLabs to {what} ({type(exc).__name__}).",
                hint="Check the internet connection, then try again.",
            ),
            None,
        ) from None


def _retry_after(headers: dict[str, str] | None) -> float | None:
    value = (headers or {}).get("retry-after")
    try:
        return min(60.0, float(str(value))) if value is not None else None
    except ValueError:
        return None


def _detail(body: object) -> tuple[str, str]:
    """(status, message) from an ElevenLabs error body such as {"detail": {"status": …, "message": …}}."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        status = str(detail.get("status") or detail.get("code") or detail.get("type") or "")
        return status, str(detail.get("message") or "")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):  # 422 validation errors
        return "invalid_request", str(detail[0].get("msg") or "")
    return "", str(detail or "")[:200]


def service_error(status_code: int | None, body: object, what: str) -> VoiceBackendError:
    """The ``VoiceBackendError`` for an ElevenLabs error response."""
    status, message = _detail(body)
    said = f" ({status_code} {status}: {message})" if status or message else f" (HTTP {status_code})"
    if status in _QUOTA or status_code == 402:
        return VoiceQuotaError(f"ElevenLabs refused to {what}: the account's quota is used up{said}.")
    if "verif" in status or "verif" in message.lower():
        return VoiceVerificationError(
            f"ElevenLabs refused to {what}: the voice must be verified first{said}."
        )
    if status in _AUTH or status_code in (401, 403):
        return VoiceAuthError(f"ElevenLabs refused the API key when asked to {what}{said}.")
    if status in _BUSY or status_code == 429:
        return VoiceBusyError(f"ElevenLabs is busy and could not {what}{said}.")
    return VoiceBackendError(f"ElevenLabs could not {what}{said}.")
