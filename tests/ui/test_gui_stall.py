"""How long the GUI thread stalls while the user scrubs and the local engine renders: a 5 ms watchdog
timer on the GUI thread records the longest gap between its ticks. The number is written to
tests/_artifacts/gui_stall.json and reported (the brief keeps timing thresholds out of tests)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from layer_desktop.ui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


class Watchdog:
    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst_ms = 0.0
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst_ms = max(self.worst_ms, (now - self.last) * 1000)
        self.last, self.ticks = now, self.ticks + 1

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()


def test_gui_thread_stalls_while_scrubbing_during_a_render(qtbot: QtBot, tmp_path: Path) -> None:
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
    window.render_current()
    qtbot.waitUntil(lambda: any(j.info.state == "running" for j in queue.jobs.values()), timeout=30_000)
    dog.start()
    scrubber.start()
    qtbot.waitUntil(lambda: any(j.downloaded for j in queue.jobs.values()), timeout=180_000)
    scrubber.stop()
    dog.timer.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    result = {
        "worst_stall_ms": round(dog.worst_ms, 1),
        "watchdog_ticks": dog.ticks,
        "frames_shown": len(shown),
    }
    (ARTIFACTS / "gui_stall.json").write_text(json.dumps(result, indent=1))
    logging.getLogger(__name__).warning("GUI thread, scrubbing during a render: %s", result)
    assert dog.ticks > 50 and len(shown) > 10  # the watchdog and the scrubbing both really ran
    window.close()
