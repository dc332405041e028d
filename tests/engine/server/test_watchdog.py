"""The idle watchdog's rules on a controlled clock (the real engine's stop is tested over SSH in
tests/remote/ssh/test_faults.py): API calls reset it, health probes do not, a running job spares the
engine, and the lifetime limit holds whatever happens."""

from __future__ import annotations

from pathlib import Path

from layer_desktop.engine.server.watchdog import IdleWatchdog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_idle_rules(tmp_path: Path) -> None:
    clock, busy = Clock(), [False]
    dog = IdleWatchdog(60, 0, lambda: busy[0], lambda: None, tmp_path / "stopped.json", clock=clock)
    clock.now += 59
    assert dog.reason() is None
    dog.touch("/v1/jobs")
    clock.now += 59
    assert dog.reason() is None
    dog.touch("/v1/health")  # a connected app checking the link is not activity
    clock.now += 1
    assert dog.reason() == "idle for 60 s (no job and no API call)"
    busy[0] = True
    clock.now += 1000
    assert dog.reason() is None  # a running job spares it, and counts as activity
    busy[0] = False
    clock.now += 30
    assert dog.reason() is None
    clock.now += 30
    assert dog.reason() is not None


def test_max_lifetime_even_when_busy(tmp_path: Path) -> None:
    clock = Clock()
    dog = IdleWatchdog(0, 3600, lambda: True, lambda: None, tmp_path / "stopped.json", clock=clock)
    clock.now += 3599
    assert dog.reason() is None
    clock.now += 1
    assert dog.reason() == "reached its maximum lifetime of 3600 s"
