"""Content-addressed media files: ``<media>/ab/abcdef…`` named by their sha256.

Writes go to a temporary file and are renamed into place, so a reader never sees half a file and two
processes storing the same content race harmlessly. Storing content that is already there refreshes
its mtime, which protects it from a concurrent ``collect_garbage`` (that only deletes old files).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
GRACE_SECONDS = 600.0


class MediaStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else app_paths().media_dir

    def path(self, sha256: str) -> Path:
        if not SHA256_RE.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; returns its sha256."""
        return self.put_stream(io.BytesIO(data))

    def put_file(self, source: Path) -> str:
        """Copy a file into the store; returns its sha256. Raises ``OSError`` if it cannot be read."""
        with source.open("rb") as fh:
            return self.put_stream(fh)

    def put_stream(self, stream: BinaryIO, *, limit: int | None = None) -> str:
        """Store everything read from ``stream`` (at most ``limit`` bytes, else ``ValueError``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".incoming.", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                total = 0
                for block in iter(lambda: stream.read(1 << 20), b""):
                    total += len(block)
                    if limit is not None and total > limit:
                        raise ValueError(f"more than the expected {limit} bytes")
                    digest.update(block)
                    out.write(block)
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_file():
                os.utime(target)
                Path(tmp).unlink()
            else:
                os.replace(tmp, target)
            return sha
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def collect_garbage(self, referenced: Iterable[str], *, grace_seconds: float = GRACE_SECONDS) -> int:
        """Delete stored files no record refers to and older than ``grace_seconds``; returns how many."""
        keep = set(referenced)
        cutoff = time.time() - grace_seconds
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.glob("??/*"):
            if path.name in keep or not SHA256_RE.match(path.name):
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
