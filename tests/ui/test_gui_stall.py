"""How long the GUI thread stalls while the user scrubs and the local engine renders: a 5 ms watchdog
timer on the GUI thread records the longest gap between its ticks. The numbers are written to
tests/_artifacts/gui_stall.json (gui_stall_overlays.json with face overlays on) and reported (the
brief keeps timing thresholds out of tests)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"
SCHEDSTAT = Path("/proc/thread-self/schedstat")  # Linux: this thread's time on a CPU and waiting for one


class Watchdog:
    """Ticks every 5 ms on the GUI thread and keeps the gaps. Where Linux says (schedstat), the worst gap
    is split into time the GUI thread ran, waited for a CPU (the machine was busy: another process or
    thread won the core) and neither (it slept: a lock, the GIL, or simply idle until the next tick)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.gaps: list[float] = []
        self.worst: dict[str, float] = {"stall_ms": 0.0}
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)
        self._schedstat = SCHEDSTAT.open(encoding="ascii") if SCHEDSTAT.exists() else None
        self._sched = self._read_sched()

    def _read_sched(self) -> tuple[float, float]:
        if self._schedstat is None:
            return (0.0, 0.0)
        self._schedstat.seek(0)
        on_cpu, waiting, _ = self._schedstat.read().split()
        return int(on_cpu) / 1e6, int(waiting) / 1e6

    def tick(self) -> None:
        now, sched = time.perf_counter(), self._read_sched()
        gap = (now - self.last) * 1000
        self.gaps.append(gap)
        if gap > self.worst["stall_ms"]:
            ran, waited = sched[0] - self._sched[0], sched[1] - self._sched[1]
            self.worst = {"stall_ms": gap, "ran_ms": ran, "waited_for_cpu_ms": waited}
        self.last, self._sched = now, sched

    def start(self) -> None:
        self.last, self._sched = time.perf_counter(), self._read_sched()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._schedstat is not None:
            self._schedstat.close()

    def report(self) -> dict[str, object]:
        gaps = sorted(self.gaps)
        return {
            "worst_stall_ms": round(self.worst["stall_ms"], 1),
            "worst_stall_split_ms": {k: round(v, 1) for k, v in self.worst.items() if k != "stall_ms"},
            "p99_gap_ms": round(gaps[int(len(gaps) * 0.99)], 1) if gaps else None,
            "gaps_over_50ms": sum(g > 50 for g in gaps),
            "watchdog_ticks": len(gaps),
        }


@pytest.mark.parametrize("overlays", [False, True], ids=["plain", "face-overlays"])
def test_gui_thread_stalls_while_scrubbing_during_a_render(
    qtbot: QtBot, tmp_path: Path, overlays: bool
) -> None:
    """With ``overlays`` the face boxes are on too: per-frame detection and the tracking pass run as
    well, in the app's own process."""
    window = MainWindow(engine=True, engine_home=EngineHome(tmp_path / "engine"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine_link is not None and window.engine_link.capabilities is not None,
                    timeout=60_000)  # fmt: skip
    window.open_demo()
    qtbot.waitUntil(
        lambda: window.document.frame_count == 100 and window.persona_name is not None, timeout=60_000
    )
    qtbot.waitUntil(lambda: bool(window.timeline._thumbs), timeout=30_000)
    queue = window.queue
    assert queue is not None
    dog = Watchdog()
    shown: set[int] = set()
    window.document.frame_ready.connect(lambda frame: shown.add(frame.index))
    position = {"frame": 0}

    def scrub() -> None:  # a drag along the timeline: a new frame every 15 ms, back and forth
        position["frame"] = (position["frame"] + 3) % 100
        window.timeline.seek_requested.emit(position["frame"])

    scrubber = QTimer()
    scrubber.setInterval(15)
    scrubber.timeout.connect(scrub)
    window.transport.overlays.setChecked(overlays)
    window.render_again()  # the Render dialog's defaults, without the dialog
    qtbot.waitUntil(lambda: any(j.info.state == "running" for j in queue.jobs.values()), timeout=30_000)
    dog.start()
    scrubber.start()
    qtbot.waitUntil(lambda: any(j.downloaded for j in queue.jobs.values()), timeout=180_000)
    scrubber.stop()
    dog.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    result = {**dog.report(), "frames_shown": len(shown)}
    name = "gui_stall_overlays.json" if overlays else "gui_stall.json"
    (ARTIFACTS / name).write_text(json.dumps(result, indent=1))
    logging.getLogger(__name__).warning("GUI thread, scrubbing during a render: %s", result)
    assert len(dog.gaps) > 50 and len(shown) > 10  # the watchdog and the scrubbing both really ran
    window.close()
