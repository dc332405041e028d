"""The task manager while a window closes: late callbacks asking for more work get none, and results
still in flight are not delivered to a window that is going away."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from layer_desktop.ui.tasks import TaskManager


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
