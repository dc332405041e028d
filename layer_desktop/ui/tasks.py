"""Background work for the GUI: one task manager, results delivered to the GUI thread by signal.

Executors as in Anki's taskman: a single worker for the heavy shared resource (decoder / GPU work), a
small pool for I/O, and one background worker for long passes (face tracking over a whole clip) that must
never hold up a scrub. Workers never touch widgets or QPixmaps; they return plain data (numpy arrays,
QImage is not even needed) and the ``done`` / ``failed`` signals run the callbacks on the GUI thread.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


BACKGROUND_NICENESS = 5  # the background worker's priority below the GUI thread's (Linux)


def yield_to_the_gui() -> None:
    """Lower the calling thread's CPU priority (Linux keeps one per thread; threads it starts, such as an
    ONNX Runtime pool, inherit it), so a long pass never makes the GUI thread wait for a core."""
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICENESS)
    except OSError as exc:
        log.info("background worker keeps its priority: %s", exc)


class TaskManager(QObject):
    """Runs callables off the GUI thread; ``on_done`` / ``on_error`` are called back on the GUI thread."""

    # one object per emit: PySide6 on Python 3.11 loses a reference each time None is passed as a signal
    # argument across threads, and thousands of frame requests (scrubbing) then free None itself and
    # crash the interpreter; inside a tuple, Python keeps the count
    _finished = Signal(object)  # (callbacks, value, error)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._heavy = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layer-heavy")
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="layer-io")
        self._background = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="layer-background", initializer=yield_to_the_gui
        )
        self._finished.connect(self._deliver)
        self._closed = False

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        *,
        heavy: bool = True,
        background: bool = False,
    ) -> Future[Any]:
        """Run ``fn`` in the background; exactly one of the callbacks runs later on the GUI thread.
        ``background``: a long pass on its own worker (it must watch a cancel flag: ``shutdown`` waits)."""
        if self._closed:  # the window is closing: a late callback asking for more work gets none
            future: Future[Any] = Future()
            future.cancel()
            return future
        pool = self._background if background else self._heavy if heavy else self._io

        def job() -> None:
            try:
                value = fn()
            except BaseException as exc:  # delivered to on_error on the GUI thread
                if not self._closed:
                    self._finished.emit(((on_done, on_error), None, exc))
                return
            if not self._closed:
                self._finished.emit(((on_done, on_error), value, None))

        return pool.submit(job)

    def _deliver(self, result: tuple[tuple[Callable[[Any], None], Callable[[BaseException], None]], Any,
                 BaseException | None]) -> None:  # fmt: skip
        (on_done, on_error), value, error = result
        if self._closed:  # queued before shutdown, arriving after it: nobody is waiting any more
            return
        if error is not None:
            on_error(error)
        else:
            on_done(value)

    def shutdown(self) -> None:
        """Stop accepting work and wait for running tasks (queued ones are cancelled); results still
        in flight are dropped, and ``run`` afterwards does nothing."""
        self._closed = True
        for pool in (self._heavy, self._io, self._background):
            pool.shutdown(wait=True, cancel_futures=True)
