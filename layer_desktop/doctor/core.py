"""Running checks: each in its own daemon thread with a timeout, so a check that hangs is reported as
failed and one that raises is reported as "crash"; the doctor itself always finishes. Paths under the
user's home and host names are redacted from what a report says (it is meant to be pasted)."""

from __future__ import annotations

import getpass
import json
import logging
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from layer_desktop import __version__

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail", "skip", "crash"]


@dataclass(frozen=True)
class CheckResult:
    """What a check found: ``status``, one line ``summary``, a ``hint`` to fix it (empty when ok) and
    extra facts (``details``)."""

    status: Status
    summary: str
    hint: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], CheckResult]
    timeout: float = 30.0


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    summary: str
    hint: str
    details: dict[str, str]
    seconds: float


@dataclass(frozen=True)
class DoctorReport:
    version: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.status in ("ok", "warn", "skip") for f in self.findings)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def to_text(self) -> str:
        lines = [f"Layer Desktop {self.version}"]
        for f in self.findings:
            lines.append(f"[{f.status:>5}] {f.name}: {f.summary}")
            lines += [f"        {k}: {v}" for k, v in f.details.items()]
            if f.hint:
                lines.append(f"        fix: {f.hint}")
        return "\n".join(lines)


def redact(text: str) -> str:
    """``text`` without the user's home folder, user name or this machine's host name."""
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
    for secret, label in ((socket.gethostname(), "<host>"), (getpass.getuser(), "<user>")):
        if secret and len(secret) >= 2:
            text = re.sub(rf"\b{re.escape(secret)}\b", label, text)
    return text


def _redacted(r: CheckResult) -> CheckResult:
    details = {k: redact(v) for k, v in r.details.items()}
    return CheckResult(r.status, redact(r.summary), redact(r.hint), details)


def _run_one(check: Check) -> tuple[CheckResult, float]:
    box: list[CheckResult] = []

    def target() -> None:
        try:
            box.append(check.run())
        except Exception as exc:  # a broken check is a finding, never a dead doctor
            log.debug("check %s raised", check.name, exc_info=True)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            box.append(
                CheckResult(
                    "crash",
                    f"the check itself failed: {type(exc).__name__}: {exc}",
                    "Report this with the output of `layer doctor --json`.",
                    {"at": f"{Path(where.filename).name}:{where.lineno}"},
                )
            )

    t0 = time.perf_counter()
    # a daemon thread: a check that never returns cannot keep the process alive
    thread = threading.Thread(target=target, name=f"doctor-{check.name}", daemon=True)
    thread.start()
    thread.join(check.timeout)
    seconds = time.perf_counter() - t0
    if not box:
        return CheckResult(
            "fail", f"no answer within {check.timeout:g} s", "Something hangs; see the log."
        ), seconds
    return box[0], seconds


def run_checks(checks: Iterable[Check]) -> DoctorReport:
    """Run ``checks`` one after another; every one gives a finding."""
    findings = []
    for check in checks:
        result, seconds = _run_one(check)
        r = _redacted(result)
        findings.append(Finding(check.name, r.status, r.summary, r.hint, r.details, round(seconds, 2)))
    return DoctorReport(__version__, tuple(findings))
