"""The task manager while a window closes: late callbacks asking for more work get none, and results
still in flight are not delivered to a window that is going away. Its background worker yields the CPU
to the GUI thread."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.ui.tasks import BACKGROUND_NICENESS, TaskManager


def test_work_asked_for_after_shutdown_is_dropped_not_raised(qtbot: QtBot) -> None:
    tasks = TaskManager()
    delivered: list[object] = []
    tasks.run(lambda: 1, delivered.append, delivered.append)
    qtbot.waitUntil(lambda: delivered == [1], timeout=5000)
    tasks.shutdown()
    future = tasks.run(lambda: 2, delivered.append, delivered.append)
    assert future.cancelled() and delivered == [1]


def test_a_result_arriving_after_shutdown_is_not_delivered(qtbot: QtBot) -> None:
    tasks = TaskManager()
    started, release = threading.Event(), threading.Event()
    delivered: list[object] = []

    def slow() -> int:
        started.set()
        release.wait(5)
        return 3

    tasks.run(slow, delivered.append, delivered.append)
    started.wait(5)
    threading.Timer(0.2, release.set).start()
    tasks.shutdown()  # waits for the running task; its result is queued for the GUI thread, then dropped
    qtbot.wait(100)
    assert delivered == []


@pytest.mark.skipif(sys.platform != "linux", reason="a niceness per thread is Linux's")
def test_background_work_runs_below_the_gui_threads_priority(qtbot: QtBot) -> None:
    tasks = TaskManager()
    got: list[tuple[int, int]] = []
    ask = lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())  # noqa: E731
    try:
        for background in (True, False):
            tasks.run(ask, lambda n, b=background: got.append((b, n)), got.append, background=background)
        qtbot.waitUntil(lambda: len(got) == 2, timeout=5_000)
        gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert dict(got) == {True: min(gui + BACKGROUND_NICENESS, 19), False: gui}
    finally:
        tasks.shutdown()
