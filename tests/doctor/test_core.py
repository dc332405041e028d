"""The doctor survives its checks: a check that raises is "crash", one that hangs times out, and what
the report says has no home path or host name in it."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from layer_desktop.doctor import Check, CheckResult, run_checks
from layer_desktop.doctor.core import redact


def _boom() -> CheckResult:
    raise RuntimeError("the check broke")


def test_a_check_that_raises_becomes_crash_and_the_others_still_run() -> None:
    report = run_checks([Check("broken", _boom), Check("fine", lambda: CheckResult("ok", "fine"))])
    broken, fine = report.findings
    assert broken.status == "crash" and "RuntimeError: the check broke" in broken.summary
    assert broken.hint and broken.details["at"].startswith("test_core.py:")
    assert fine.status == "ok"
    assert not report.ok


def test_a_check_that_hangs_is_a_timeout_failure() -> None:
    release = threading.Event()

    def hang() -> CheckResult:
        release.wait(10)
        return CheckResult("ok", "late")

    try:
        report = run_checks([Check("slow", hang, timeout=0.2)])
    finally:
        release.set()
    assert report.findings[0].status == "fail"
    assert "no answer within 0.2 s" in report.findings[0].summary


def test_home_paths_and_host_name_are_redacted() -> None:
    home, host = str(Path.home()), socket.gethostname()
    report = run_checks(
        [Check("paths", lambda: CheckResult("fail", f"{home}/x on {host}", f"see {home}/log"))]
    )
    finding = json.loads(report.to_json())["findings"][0]
    assert (finding["summary"], finding["hint"]) == ("~/x on <host>", "see ~/log")
    assert f"{home}/" not in report.to_text()
    assert redact("nothing private") == "nothing private"
