"""Upload progress: bytes done, rate and ETA, reported monotonically from any worker thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# (bytes_done, bytes_total, bytes per second, seconds left or None while unknown)
ProgressCallback = Callable[[int, int, float, float | None], None]

RATE_WINDOW_S = 3.0


class ProgressMeter:
    """Adds up the bytes of each part and reports the total, never going backwards.

    A part that is sent again (a retry re-reads its body from the start) only counts once: each part
    reports how far into it the reader is, and the meter keeps the largest value seen per part.
    """

    def __init__(
        self,
        total: int,
        callback: ProgressCallback | None = None,
        *,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self._callback = callback
        self._min_interval = min_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._per_part: dict[int, int] = {}
        self._sum = 0  # of _per_part's values
        self._base = 0
        self._reported = -1
        self._last_emit = float("-inf")
        self._samples: deque[tuple[float, int]] = deque()

    @property
    def done(self) -> int:
        with self._lock:
            return self._done()

    def add_done(self, nbytes: int) -> None:
        """Count bytes already on the server (parts kept from an interrupted upload)."""
        with self._lock:
            self._base += nbytes
        self._emit(force=False)

    def part(self, part_id: int, nbytes: int) -> None:
        """Part ``part_id`` has been read up to ``nbytes``."""
        with self._lock:
            seen = self._per_part.get(part_id, 0)
            if nbytes <= seen:
                return
            self._per_part[part_id] = nbytes
            self._sum += nbytes - seen
        self._emit(force=False)

    def finish(self) -> None:
        """Everything arrived: report ``total`` (always, exactly once more)."""
        with self._lock:
            self._base, self._sum = self.total, 0
            self._per_part.clear()
        self._emit(force=True)

    def _done(self) -> int:
        return min(self.total, self._base + self._sum)

    def _emit(self, *, force: bool) -> None:
        with self._lock:
            done = self._done()
            if done <= self._reported and not force:
                return
            now = self._clock()
            if not force and now - self._last_emit < self._min_interval and done < self.total:
                return
            self._samples.append((now, done))
            while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_S:
                self._samples.popleft()
            t0, d0 = self._samples[0]
            rate = (done - d0) / (now - t0) if now > t0 else 0.0
            eta = (self.total - done) / rate if rate > 0 else (0.0 if done >= self.total else None)
            self._reported, self._last_emit = done, now
            if self._callback is not None:
                # under the lock, so two workers cannot deliver out of order
                self._callback(done, self.total, rate, eta)
