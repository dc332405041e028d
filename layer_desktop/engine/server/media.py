"""Media the engine may read, named by sha256: uploaded (resumable, verified) or linked in place.

    start(sha, size, name) → status      PUT bytes at the status's offset … → finish() verifies the hash
                                         (a PUT streams: committed every 1 MiB, see ``UploadWriter``)
    link(path)                           a same-machine file, only below an allowed root

An upload lives in ``uploads/<sha256>.part`` (+ ``.json``) until it is finished; its offset is the part
file's size, so a dropped connection or an engine restart resumes where the bytes stopped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.engine.server.limits import MAX_UPLOAD_BYTES
from layer_desktop.engine.server.schemas import SHA256, MediaInfo, UploadStart, UploadStatus
from layer_desktop.errors import EngineRequestError

log = logging.getLogger(__name__)

COMMIT_BYTES = 1024**2  # a streamed upload is made durable this often
STALE_WRITER_S = 5.0  # a writer that received nothing for this long may be taken over


def not_found(what: str) -> EngineRequestError:
    return EngineRequestError(
        f"{what} is not known to this engine.",
        status=404,
        hint="Upload or link the media first (the client does this for you).",
    )


class MediaLibrary:
    def __init__(self, home: EngineHome, store: JobStore, allowed_roots: Sequence[Path] = ()) -> None:
        self.home, self.store = home, store
        self.allowed_roots = [Path(r).resolve() for r in allowed_roots]
        self._lock = threading.Lock()  # guards the part files and ``_writers``
        self._writers: dict[str, UploadWriter] = {}  # the request now sending each upload

    # ------------------------------------------------------------------ upload

    def start(self, req: UploadStart) -> UploadStatus:
        if req.size > MAX_UPLOAD_BYTES:
            raise EngineRequestError(
                f"{req.filename} is {req.size} bytes; this engine takes files up to {MAX_UPLOAD_BYTES}.",
                status=413,
                hint="Cut the video into parts, or render it on an engine with more disk.",
            )
        part, meta = self._files(req.sha256)
        with self._lock:  # checked under the lock: a concurrent upload of the same file may finish now
            present = self.get(req.sha256)
            if present is not None:
                return _complete(present)
            old = _read_meta(meta)
            if old is None or old.get("size") != req.size:
                part.write_bytes(b"")
                meta.write_text(json.dumps({"size": req.size, "filename": req.filename}))
        return self.status(req.sha256)

    def status(self, upload_id: str) -> UploadStatus:
        """Bytes received so far; ``complete`` once the file is kept, also for a client whose upload of
        the same content was overtaken by another (the studio's preview and its render both send the
        source: the first to finish moves the part file away under the other's feet)."""
        part, meta = self._files(upload_id)
        info = _read_meta(meta)
        if info is None or not part.exists():
            present = self.get(upload_id)
            if present is not None:
                return _complete(present)
            raise not_found(f"Upload {upload_id[:12]}…")
        return UploadStatus(upload_id=upload_id, offset=part.stat().st_size, size=int(str(info["size"])))

    def receive(self, upload_id: str, offset: int, length: int | None) -> UploadWriter | UploadStatus:
        """A writer for bytes at ``offset`` (which must be the bytes received so far), or the complete
        status when the file is kept already. ``length`` (the request's Content-Length) is checked
        against the declared size before any byte is read. One writer per upload at a time: another
        one gets 409 until the first ends, or takes over when the first has received nothing for
        ``STALE_WRITER_S`` (a stream whose link froze: its late bytes are then dropped, never written)."""
        with self._lock:
            current = self.status(upload_id)
            if current.complete:
                return current  # kept already (a concurrent upload of the same bytes finished first)
            if offset != current.offset:
                raise EngineRequestError(
                    f"The upload is at byte {current.offset}, not {offset}.",
                    status=409,
                    hint="Ask for the upload's status and continue from its offset.",
                )
            if length is not None and offset + length > current.size:
                raise _past_size(current.size)
            busy = self._writers.get(upload_id)
            if busy is not None and time.monotonic() - busy.active < STALE_WRITER_S:
                raise EngineRequestError(
                    f"Another request is sending this file (at byte {current.offset}).",
                    status=409,
                    hint="Wait a moment, ask for the upload's status and continue from its offset.",
                )
            writer = UploadWriter(self, upload_id, offset, current.size)
            self._writers[upload_id] = writer
            return writer

    def write(self, upload_id: str, offset: int, data: bytes) -> UploadStatus:
        """Append ``data`` at ``offset`` in one go (a writer that gets all its bytes at once)."""
        writer = self.receive(upload_id, offset, len(data))
        if isinstance(writer, UploadStatus):
            return writer
        try:
            writer.add(data)
            return writer.commit()
        finally:
            writer.close()

    def _commit(self, writer: UploadWriter, data: bytes) -> UploadStatus:
        """Append and fsync ``data`` for ``writer``, unless another writer took the upload over."""
        with self._lock:
            current = self.status(writer.upload_id)
            if current.complete or not data:
                return current
            if self._writers.get(writer.upload_id) is not writer or current.offset != writer.position:
                raise EngineRequestError(
                    "Another request took this upload over; these bytes were dropped.",
                    status=409,
                    hint="Ask for the upload's status and continue from its offset.",
                )
            part, _ = self._files(writer.upload_id)
            with part.open("ab") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        return self.status(writer.upload_id)

    def _release(self, writer: UploadWriter) -> None:
        with self._lock:
            if self._writers.get(writer.upload_id) is writer:
                del self._writers[writer.upload_id]

    def finish(self, upload_id: str) -> MediaInfo:
        """Check size and sha256, then keep the file. A wrong hash discards every byte received."""
        with self._lock:
            status = self.status(upload_id)
            kept = self.get(upload_id) if status.complete else None
            if kept is not None:
                return kept
            part, meta = self._files(upload_id)
            if status.offset != status.size:
                raise EngineRequestError(
                    f"The upload has {status.offset} of {status.size} bytes.",
                    status=409,
                    hint="Send the rest, then finish it.",
                )
            digest = sha256_file(part)
            filename = str((_read_meta(meta) or {}).get("filename", "media"))
            if digest != upload_id:
                part.unlink(missing_ok=True)
                meta.unlink(missing_ok=True)
                raise EngineRequestError(
                    f"The uploaded bytes hash to {digest[:12]}…, not {upload_id[:12]}…; nothing was kept.",
                    status=422,
                    hint="The file changed or was damaged on the way: upload it again.",
                )
            target = self.home.media_dir / upload_id[:2] / (upload_id + Path(filename).suffix.lower()[:10])
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, target)
            meta.unlink(missing_ok=True)
        info = MediaInfo(media_id=upload_id, size=status.size, filename=filename, linked=False)
        self.store.add_media(info, target)
        log.info("media %s… received (%d bytes)", upload_id[:12], status.size)
        return info

    # ------------------------------------------------------------------ link

    def link(self, raw: str) -> MediaInfo:
        """A file on the engine's own disk, read in place. Raises ``EngineRequestError`` (403) for a path
        outside the allowed roots (after following links), 404 when it is not a file."""
        path = Path(raw)
        if not path.is_absolute():
            raise EngineRequestError("Linked paths must be absolute.", status=400)
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):  # ValueError: a NUL byte or unencodable character
            real = None
        if real is None or not any(real.is_relative_to(root) for root in self.allowed_roots):
            # the same answer for "outside" and "missing outside": no probing of the engine's disk
            if real is None and any(_resolve_loosely(path).is_relative_to(r) for r in self.allowed_roots):
                raise EngineRequestError(f"{path.name} does not exist.", status=404)
            raise EngineRequestError(
                "That path is outside the folders this engine may read.",
                status=403,
                hint="Upload the file instead, or start the engine with --allow-root for its folder.",
            )
        if not real.is_file():
            raise EngineRequestError(f"{path.name} is not a file.", status=404)
        sha = sha256_file(real)
        info = MediaInfo(media_id=sha, size=real.stat().st_size, filename=real.name, linked=True)
        self.store.add_media(info, real)
        return info

    # ------------------------------------------------------------------ lookup

    def get(self, sha256: str) -> MediaInfo | None:
        found = self._intact(sha256)
        return None if found is None else found[0]

    def path(self, sha256: str) -> Path:
        """The file for ``sha256``; raises ``EngineRequestError`` (404) when it is unknown or gone."""
        found = self._intact(sha256) if SHA256.match(sha256) else None
        if found is None:
            raise not_found(f"Media {sha256[:12]}…")
        return found[1]

    def _intact(self, sha256: str) -> tuple[MediaInfo, Path] | None:
        """The known media and its file, forgetting a linked file that was changed or removed since."""
        found = self.store.media(sha256)
        if found is None:
            return None
        info, path = found
        try:
            intact = path.stat().st_size == info.size
        except OSError:
            intact = False
        if not intact:
            self.store.forget_media(sha256)
            return None
        return found

    def _files(self, upload_id: str) -> tuple[Path, Path]:
        if not SHA256.match(upload_id):
            raise not_found("That upload")
        base = self.home.uploads_dir / upload_id
        return base.with_suffix(".part"), base.with_suffix(".json")


class UploadWriter:
    """One request's bytes for an upload: held in memory and committed (appended and fsynced) every
    ``COMMIT_BYTES``, so a dropped stream loses at most the last uncommitted piece — and not even that
    when the request ends by a disconnect, which commits what arrived. Not thread-safe: one request."""

    def __init__(self, library: MediaLibrary, upload_id: str, offset: int, size: int) -> None:
        self.library, self.upload_id, self.size = library, upload_id, size
        self.position = offset  # bytes committed (the part file's size while this writer holds it)
        self.active = time.monotonic()  # when the last bytes arrived
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def add(self, data: bytes) -> bool:
        """Take the next bytes; True when a commit is due. Raises 413 past the declared size (the
        uncommitted bytes are dropped with the request)."""
        if self.position + self._pending_bytes + len(data) > self.size:
            raise _past_size(self.size)
        self._pending.append(data)
        self._pending_bytes += len(data)
        self.active = time.monotonic()
        return self._pending_bytes >= COMMIT_BYTES

    def commit(self) -> UploadStatus:
        data, self._pending, self._pending_bytes = b"".join(self._pending), [], 0
        status = self.library._commit(self, data)
        self.position = status.offset
        return status

    def close(self) -> None:
        """Let the next request write (uncommitted bytes are dropped)."""
        self._pending, self._pending_bytes = [], 0
        self.library._release(self)


def _past_size(size: int) -> EngineRequestError:
    return EngineRequestError(
        f"The data runs past the declared size ({size} bytes).",
        status=413,
        hint="Start the upload again with the file's real size.",
    )


def _complete(info: MediaInfo) -> UploadStatus:
    return UploadStatus(
        upload_id=info.media_id, offset=info.size, size=info.size, complete=True, media_id=info.media_id
    )


def _resolve_loosely(path: Path) -> Path:
    """``path`` with ``..`` and the links that exist resolved, for a path that does not exist: judged by
    its own text, ``<root>/../missing`` would look inside the root and tell 404 from 403 outside it."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.normpath(path))


def _read_meta(meta: Path) -> dict[str, object] | None:
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
