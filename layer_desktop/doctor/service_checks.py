"""Checks of the app's services and secrets: the engine, remote hosts, storage destinations, the
keyring, the provenance signer and the models."""

from __future__ import annotations

import datetime as dt
import email.utils
import importlib.util
import tempfile
import uuid
from pathlib import Path

import httpx
import keyring
import keyring.errors

from layer_desktop import __version__
from layer_desktop.doctor.core import CheckResult
from layer_desktop.engine.client import Endpoint, EngineClient
from layer_desktop.errors import LayerError
from layer_desktop.paths import app_paths
from layer_desktop.settings import DestinationSpec, load_settings

KEYRING_HINT = (
    "Install and unlock an OS keyring (GNOME Keyring / KWallet via Secret Service; on a server: "
    "pip install keyrings.alt and choose an encrypted backend)."
)
SKEW_LIMIT = 300  # seconds; signed storage requests fail beyond a few minutes (S3: 15 min, GCS: 15 min)


def check_engine(endpoint: Endpoint | None = None) -> CheckResult:
    """Spawn the engine (or reach ``endpoint``), ask its health and compare its version with ours."""
    if endpoint is not None:
        return _engine_health(endpoint)
    from layer_desktop.engine.local import LocalEngine
    from layer_desktop.engine.server.home import EngineHome

    with tempfile.TemporaryDirectory(prefix="layer-doctor-engine-") as tmp:
        engine = LocalEngine(
            EngineHome(Path(tmp)), allowed_roots=[Path(tmp)], start_timeout=60, max_restarts=0
        )
        try:
            engine.start()
        except LayerError as exc:
            return CheckResult("fail", f"the engine did not start: {exc.message}", exc.hint)
        try:
            return _engine_health(engine.endpoint())
        finally:
            engine.stop()


def _engine_health(endpoint: Endpoint) -> CheckResult:
    try:
        with EngineClient(endpoint, timeout=5, retries=1) as client:
            health = client.health()
    except LayerError as exc:
        return CheckResult(
            "fail",
            f"the engine at {endpoint.url} does not answer: {exc.message}",
            "Start it (`layer-engine serve`) or check the port and token.",
        )
    version = str(health.get("version"))
    if version != __version__:
        return CheckResult(
            "fail",
            f"engine {version} differs from the app {__version__}",
            "Update the engine to the app's version (Settings › Engine).",
        )
    return CheckResult("ok", f"engine {version} answers at {endpoint.url}")


def check_remote_hosts() -> CheckResult:
    """Remote GPU hosts, when this build has them."""
    if importlib.util.find_spec("layer_desktop.remote.hosts") is None:
        return CheckResult("skip", "this build has no remote GPU hosts (nothing to check)")
    return CheckResult(
        "skip", "remote hosts are checked by `layer hosts test` (not part of this build's doctor)"
    )


def _clock_skew(url: str | None) -> float | None:
    """Seconds between this clock and the server's ``Date`` header (None when it cannot be read)."""
    if not url:
        return None
    try:
        resp = httpx.head(url, timeout=5)
    except httpx.HTTPError:
        return None
    date = resp.headers.get("date")
    if not date:
        return None
    server = email.utils.parsedate_to_datetime(date)
    return abs((dt.datetime.now(dt.UTC) - server).total_seconds())


def check_destination(dest: DestinationSpec) -> CheckResult:
    """Write, read back and delete a probe object on ``dest``; the clock against the service's."""
    from layer_desktop.remote.storage.probe import probe_destination

    report = probe_destination(dest)
    failed = report.failed
    if failed is not None:
        detail = failed.detail.split("What to do:")
        hint = detail[1].strip() if len(detail) > 1 else "Check the destination in Settings › Publish."
        return CheckResult("fail", f"{dest.name}: {failed.name} failed: {detail[0].strip()}", hint)
    skew = _clock_skew(getattr(dest, "endpoint_url", None))
    details = {"steps": ", ".join(s.name for s in report.steps if s.ok)}
    if skew is not None:
        details["clock skew"] = f"{skew:.0f} s"
        if skew > SKEW_LIMIT:
            return CheckResult(
                "warn",
                f"{dest.name}: this clock is {skew:.0f} s off the service's",
                "Turn on network time (timedatectl set-ntp true).",
                details,
            )
    return CheckResult("ok", f"{dest.name}: write, read, delete and link work", details=details)


def check_storage() -> CheckResult:
    """Every publish destination in the settings (a 1-byte-scale probe object each)."""
    settings = load_settings(app_paths().settings_file)
    if not settings.destinations:
        return CheckResult("skip", "no publish destinations set up")
    results = [check_destination(d) for d in settings.destinations]
    worst = next((r for r in results if r.status == "fail"), None) or next(
        (r for r in results if r.status == "warn"), results[0]
    )
    summary = "; ".join(r.summary for r in results)
    return CheckResult(worst.status, summary, worst.hint, worst.details)


def check_keyring() -> CheckResult:
    """The OS keyring stores, reads and deletes a probe secret."""
    backend = keyring.get_keyring()
    name = type(backend).__module__ + "." + type(backend).__name__
    probe, value = f"doctor-probe-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    try:
        keyring.set_password("layer-desktop", probe, value)
        read = keyring.get_password("layer-desktop", probe)
        keyring.delete_password("layer-desktop", probe)
    except keyring.errors.NoKeyringError:
        # the app still works: secrets last one session, the signing key lives in a 0600 file
        return CheckResult(
            "warn", f"no keyring backend ({name}): secrets are not kept between sessions", KEYRING_HINT
        )
    except keyring.errors.KeyringError as exc:
        return CheckResult("fail", f"the keyring refused a probe secret: {exc}", KEYRING_HINT)
    if read != value:
        return CheckResult("fail", f"the keyring ({name}) did not return what was stored", KEYRING_HINT)
    status = "warn" if "Plaintext" in name else "ok"
    hint = "Secrets are stored unencrypted; choose an encrypted keyring." if status == "warn" else ""
    return CheckResult(status, f"keyring backend {name} works", hint)
