"""A file-like window on one part of a file: counts progress, checks cancel, hashes what it sends."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path
from typing import BinaryIO

from layer_desktop.remote.storage.progress import ProgressMeter


class Stopped(Exception):
    """Raised from ``read`` when the upload was cancelled or another part failed.

    Deliberately not an ``OSError``: the HTTP stack would take that for a network error and retry.
    """


class PartReader(io.RawIOBase):
    """Bytes ``offset`` to ``offset + length`` of ``path``, read by the HTTP client as the request body.

    Seeking back to the start (botocore does to retry) restarts the MD5, so ``md5_hex`` is always that
    of the bytes last sent; progress keeps the furthest point reached, so it never goes backwards.
    """

    def __init__(
        self,
        path: Path,
        offset: int,
        length: int,
        *,
        part_id: int,
        meter: ProgressMeter,
        stop: tuple[threading.Event, ...],
    ) -> None:
        super().__init__()
        self._fh: BinaryIO = open(path, "rb")  # noqa: SIM115  (closed by close())
        self._offset, self._length, self._pos = offset, length, 0
        self._part_id, self._meter, self._stop = part_id, meter, stop
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._md5_valid = True
        self._fh.seek(offset)

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        new = max(0, min(self._length, base + pos))
        if new == 0:
            self._md5, self._md5_valid = hashlib.md5(usedforsecurity=False), True
        elif new != self._pos:
            self._md5_valid = False  # a jump: the hash no longer covers what is sent
        self._pos = new
        self._fh.seek(self._offset + self._pos)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if any(e.is_set() for e in self._stop):
            raise Stopped
        left = self._length - self._pos
        n = left if size is None or size < 0 else min(size, left)
        data = self._fh.read(n) if n > 0 else b""
        self._pos += len(data)
        self._md5.update(data)
        self._meter.part(self._part_id, self._pos)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def md5_hex(self) -> str | None:
        """MD5 of the whole part as last read from its start to its end; None when it was not."""
        if not self._md5_valid or self._pos != self._length:
            return None
        return self._md5.hexdigest()

    def close(self) -> None:
        self._fh.close()
        super().close()
