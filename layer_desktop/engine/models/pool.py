"""The engine's ONNX Runtime sessions: created lazily, shared, released explicitly.

A session is keyed by (model id, device, providers asked for). For ``auto`` and ``cuda`` the pool asks
for CUDA then CPU; after creating the session it reads ``get_providers()``, because the GPU build of
ONNX Runtime silently falls back to CPU when CUDA or cuDNN is missing. Such a fallback is logged and
kept in ``fallbacks()`` so the engine can tell the user.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from layer_desktop.errors import EngineError, ModelError
from layer_desktop.settings import Device

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class Session(Protocol):
    """What the pool needs of an ``onnxruntime.InferenceSession``."""

    def get_providers(self) -> list[str]: ...


SessionFactory = Callable[[Path, Sequence[str]], Session]


def requested_providers(device: Device) -> tuple[str, ...]:
    """The providers to ask for, best first."""
    return (CPU,) if device == "cpu" else (CUDA, CPU)


@dataclass(frozen=True)
class SessionKey:
    model_id: str
    device: Device
    providers: tuple[str, ...]


@dataclass(frozen=True)
class ProviderReport:
    """Which providers a session asked for and which it got; ``fallback_reason`` when CUDA was lost."""

    model_id: str
    requested: tuple[str, ...]
    granted: tuple[str, ...]
    fallback_reason: str | None = None

    @property
    def device_used(self) -> str:
        return "cuda" if CUDA in self.granted else "cpu"

    @property
    def fell_back(self) -> bool:
        return self.fallback_reason is not None


@dataclass(frozen=True)
class PooledSession:
    key: SessionKey
    session: Any  # onnxruntime.InferenceSession (untyped library)
    report: ProviderReport


def _ort_available() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def _ort_session(path: Path, providers: Sequence[str]) -> Session:
    import onnxruntime as ort

    session: Session = ort.InferenceSession(str(path), providers=list(providers))
    return session


class InferencePool:
    """Thread-safe pool of inference sessions; ``resolve`` maps a model id to its verified file."""

    def __init__(
        self,
        resolve: Callable[[str], Path],
        *,
        session_factory: SessionFactory | None = None,
        available_providers: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self._resolve = resolve
        self._factory = session_factory or _ort_session
        self._available = available_providers or _ort_available
        self._lock = threading.Lock()
        self._key_locks: dict[SessionKey, threading.Lock] = {}
        self._entries: dict[SessionKey, PooledSession] = {}
        self._fallbacks: list[ProviderReport] = []
        self._closed = False

    def __enter__(self) -> InferencePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, model_id: str, device: Device = "auto") -> PooledSession:
        """The session for ``model_id`` on ``device``, created on first use.

        Raises ``ModelNotFoundError`` / ``ModelHashMismatch`` from ``resolve`` and ``ModelError`` when
        ONNX Runtime cannot load the file.
        """
        key = SessionKey(model_id, device, requested_providers(device))
        with self._lock:
            self._check_open()
            if key in self._entries:
                return self._entries[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one creation per key; other keys are not held up
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            entry = self._create(key)
            with self._lock:
                self._check_open()
                self._entries[key] = entry
                if entry.report.fell_back:
                    self._fallbacks.append(entry.report)
            return entry

    def release(self, key: SessionKey) -> bool:
        """Drop the session for ``key`` (its memory goes with the last reference); True if one was held."""
        with self._lock:
            self._key_locks.pop(key, None)
            return self._entries.pop(key, None) is not None

    def close(self) -> None:
        """Release every session; the pool refuses new work afterwards."""
        with self._lock:
            self._closed = True
            self._entries.clear()
            self._key_locks.clear()

    def keys(self) -> list[SessionKey]:
        with self._lock:
            return list(self._entries)

    def fallbacks(self) -> list[ProviderReport]:
        """Sessions that asked for CUDA and run on the CPU, with the reason, for the user."""
        with self._lock:
            return list(self._fallbacks)

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError("The inference pool is closed.")

    def _create(self, key: SessionKey) -> PooledSession:
        path = self._resolve(key.model_id)
        available = set(self._available())
        providers = [p for p in key.providers if p in available] or [CPU]
        try:
            session = self._factory(path, providers)
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise ModelError(
                f"Model {key.model_id!r} ({path.name}) could not be loaded by ONNX Runtime: {exc}",
                path=path,
            ) from exc
        granted = tuple(session.get_providers())
        report = ProviderReport(
            key.model_id, key.providers, granted, _fallback_reason(key, available, granted)
        )
        if report.fallback_reason:
            log.warning("model %s runs on the CPU: %s", key.model_id, report.fallback_reason)
        return PooledSession(key, session, report)


def _fallback_reason(key: SessionKey, available: set[str], granted: tuple[str, ...]) -> str | None:
    if CUDA not in key.providers or CUDA in granted:
        return None
    if CUDA not in available:
        return (
            "this ONNX Runtime build has no CUDA provider (the CPU-only `onnxruntime` package is "
            "installed); install the GPU build to use the graphics card"
        )
    return (
        "ONNX Runtime could not start CUDA (CUDA or cuDNN libraries missing or not matching the "
        "installed onnxruntime-gpu); the engine log has ONNX Runtime's message"
    )
