"""A destination's "test connection": write, read back and delete a probe object; say which step failed."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from layer_desktop.errors import IntegrityError, LayerError
from layer_desktop.remote.storage.credentials import SecretStore, load_credentials
from layer_desktop.remote.storage.publish import open_store
from layer_desktop.remote.storage.store import ObjectStore
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import DestinationSpec

log = logging.getLogger(__name__)

PROBE_PREFIX = ".layer-probe/"


@dataclass(frozen=True)
class ProbeStep:
    name: str  # "keys", "write", "read", "delete", "link"
    ok: bool
    detail: str  # what happened, or the error and what to do; never a secret
    skipped: bool = False


@dataclass(frozen=True)
class ProbeReport:
    destination: str
    steps: tuple[ProbeStep, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> ProbeStep | None:
        return next((s for s in self.steps if not s.ok and not s.skipped), None)


def probe_destination(
    dest: DestinationSpec, *, secrets: SecretStore | None = None, store: ObjectStore | None = None
) -> ProbeReport:
    """Check ``dest`` end to end. Never raises for a service problem: the report says which step failed."""
    steps: list[ProbeStep] = []
    if store is None:
        try:
            store = open_store(dest, load_credentials(_secrets(secrets), dest))
        except LayerError as exc:
            return ProbeReport(
                dest.name, (_failed("keys", exc), *_skipped("write", "read", "delete", "link"))
            )
        steps.append(ProbeStep("keys", True, "found in the keyring"))
    key = f"{PROBE_PREFIX}{uuid.uuid4().hex}.txt"
    payload = f"Layer Desktop connection test {dt.datetime.now(dt.UTC).isoformat()}\n".encode()
    target: ObjectStore = store
    checks: tuple[tuple[str, Callable[[], object], str], ...] = (
        ("write", lambda: target.put_bytes(key, payload), f"wrote {len(payload)} bytes to {key}"),
        ("read", lambda: _read_back(target, key, payload), "read the same bytes back"),
        ("delete", lambda: target.delete(key), "deleted the probe object"),
        ("link", lambda: target.signed_url(key, dt.timedelta(minutes=5)), "signed a download link"),
    )
    for i, (name, action, done) in enumerate(checks):
        try:
            action()
        except LayerError as exc:
            steps.append(_failed(name, exc))
            steps.extend(_skipped(*(n for n, _, _ in checks[i + 1 :])))
            if name == "read":
                _cleanup(store, key)
            break
        steps.append(ProbeStep(name, True, done))
    report = ProbeReport(dest.name, tuple(steps))
    log.info("connection test of '%s': %s", dest.name, "ok" if report.ok else f"failed at {report.failed}")
    return report


def _read_back(store: ObjectStore, key: str, payload: bytes) -> None:
    got = store.get_bytes(key)
    if got != payload:
        raise IntegrityError(f"The probe object came back different ({len(got)} bytes, not {len(payload)}).")


def _cleanup(store: ObjectStore, key: str) -> None:
    try:
        store.delete(key)
    except LayerError:
        log.warning("could not delete the probe object %s", key)


def _failed(name: str, exc: LayerError) -> ProbeStep:
    return ProbeStep(name, False, f"{exc.message} What to do: {exc.hint}")


def _skipped(*names: str) -> list[ProbeStep]:
    return [ProbeStep(n, False, "not tried (an earlier step failed)", skipped=True) for n in names]


def _secrets(secrets: SecretStore | None) -> SecretStore:
    return secrets if secrets is not None else KeyringSecrets()
