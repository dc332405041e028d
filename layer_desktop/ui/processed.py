"""The processed side of the viewer: the persona applied to the current frame.

Two sources, newest request wins (older ones are dropped while the user scrubs, as for the source):
- the finished render, decoded frame-exactly from its output file, once there is one for the project;
- otherwise the engine's live preview (``POST /v1/preview``) of the frame with the chosen persona.
Both run on the task manager's I/O pool; only plain numpy arrays come back to the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.schemas import PreviewRequest
from layer_desktop.errors import EngineUnavailableError, MediaError
from layer_desktop.ui.engine_link import EngineLink
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class ProcessedFrames(QObject):
    ready = Signal(object)  # (frame index, RGB array)
    unavailable = Signal(str)  # why there is no processed frame (no persona, engine off, …)

    def __init__(self, tasks: TaskManager, link: EngineLink | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.link = tasks, link
        self.source: Path | None = None
        self.persona: str | None = None
        self.face = "auto"  # which face the live preview swaps (the project's target)
        self.rendered: Path | None = None
        self._media: dict[Path, str] = {}  # source → engine media id
        self._persona_ids: dict[str, str] = {}
        self._reader: FrameReader | None = None
        self._reader_key: tuple[Path, int, int, int] | None = None  # path, inode, size, mtime
        self._reader_lock = threading.Lock()
        self._wanted: int | None = None
        self._in_flight = False

    # ------------------------------------------------------------------ inputs
    def set_source(self, path: Path | None) -> None:
        self.source = path
        self.set_rendered(None)

    def set_persona(self, name: str | None) -> None:
        self.persona = name or None

    def set_face(self, face: str) -> None:
        self.face = face

    def forget_persona(self, name: str) -> None:
        """The persona changed in the library: send it to the engine again before the next preview."""
        self._persona_ids.pop(name, None)

    def set_rendered(self, path: Path | None) -> None:
        """Show frames of this finished render (None: back to the live preview). The worker opens
        the file on its next request; nothing here waits for a decode in progress."""
        self.rendered = path if path is not None and path.is_file() else None

    # ------------------------------------------------------------------ requests
    def request(self, index: int) -> None:
        self._wanted = index
        if not self._in_flight:
            self._next()

    def _next(self) -> None:
        index, self._wanted = self._wanted, None
        if index is None:
            return
        job = self._job_for(index)
        if job is None:
            return
        self._in_flight = True
        made_for = (self.source, self.rendered)
        self.tasks.run(job, lambda result: self._done(result, made_for), self._failed, heavy=False)

    def _job_for(self, index: int) -> object | None:
        if self.rendered is not None:
            rendered = self.rendered
            return lambda: (index, self._decode_rendered(rendered, index))
        why = self._why_no_preview()
        if why:
            self.unavailable.emit(why)
            return None
        source, persona = self.source, self.persona
        assert source is not None and persona is not None
        return lambda: (index, self._preview(source, persona, index))

    def _why_no_preview(self) -> str:
        if self.source is None:
            return "Open a video to see the persona applied."
        if not self.persona:
            return "Choose a persona to see it applied."
        if self.link is None or self.link.capabilities is None:
            return "The engine is not running yet."
        return ""

    def _done(self, result: tuple[int, np.ndarray], made_for: tuple[Path | None, Path | None]) -> None:
        self._in_flight = False
        if made_for == (self.source, self.rendered):
            self.ready.emit(result)
        else:  # another video (or render) was opened meanwhile: its frame N is not this one's
            log.debug("processed frame %d of %s dropped: the source changed", result[0], made_for[0])
        self._next()

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        log.info("no processed frame: %s", exc)
        self.unavailable.emit(str(getattr(exc, "message", exc)))
        self._next()

    # ------------------------------------------------------------------ workers (I/O pool)
    def _decode_rendered(self, path: Path, index: int) -> np.ndarray:
        # one request at a time (``_in_flight``), so the reader is only ever used by one worker
        # keyed by the file's identity, not only its path: a re-render replaces the file under the same
        # name, and its new frames must show at once (not the old file's, still open here)
        st = path.stat()
        key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._reader_lock:
            if self._reader is not None and self._reader_key != key:
                self._reader.close()
                self._reader = None
            if self._reader is None:
                self._reader, self._reader_key = FrameReader(path), key
            return self._reader.frame_at(index, rotate=True).image

    def _preview(self, source: Path, persona: str, index: int) -> np.ndarray:
        if self.link is None:
            raise EngineUnavailableError("The engine is off in this window.")
        client = self.link.client()
        media = self._media.get(source)
        if media is None:
            media = self._media[source] = client.ensure_media(source).media_id
        persona_id = self._persona_ids.get(persona)
        if persona_id is None:
            persona_id = self._persona_ids[persona] = client.sync_persona(PersonaStore(), persona).id
        data = client.preview(
            PreviewRequest(media=media, frame=index, persona=persona_id, format="png", face=self.face)
        )
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise MediaError("The engine sent a preview that is not a picture.")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the rendered file (called once the task manager has stopped)."""
        self.rendered = None
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
            self._reader = None
