"""The open project as an undoable document: every edit is an operation on a ``QUndoStack``.

An edit computes the next immutable ``ProjectState`` and pushes one generic command holding the state
before and after, so undo/redo is exact by construction. View state (current frame, compare mode) is
saved but never undoable. Any change is autosaved after a short debounce: to the project's own file when
it has one, else to the untitled autosave that ``recover_autosave()`` reads after a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from layer_desktop.engine.pipeline.keyframes import Keyframe
from layer_desktop.engine.pipeline.spec import Segment, parse_face
from layer_desktop.errors import InputError
from layer_desktop.ui.project_file import (
    REVIEW_KEY,
    ProjectState,
    PublishedLink,
    autosave_file,
    discard_autosave,
    has_work,
    load_project,
    recent_projects,
    recover_autosave,
    remember_recent,
    review_key,
    save_project,
)

__all__ = [
    "ProjectDocument",
    "ProjectState",
    "autosave_file",
    "has_work",
    "load_project",
    "recent_projects",
    "recover_autosave",
    "remember_recent",
    "review_key",
    "save_project",
]

log = logging.getLogger(__name__)

AUTOSAVE_MS = 1500
SEGMENT_FIELDS = frozenset(Segment.model_fields)  # start, stop, enabled, persona, swap, lipsync, keyframes
VERDICTS = ("accepted", "original", "rerendered")
VIEW_FIELDS = ("current_frame", "compare_mode")


class _StateChange(QUndoCommand):
    """One edit: the document's state before and after, with a label for the Edit menu."""

    def __init__(self, doc: ProjectDocument, before: ProjectState, after: ProjectState, text: str) -> None:
        super().__init__(text)
        self._doc, self._before, self._after = doc, before, after

    def redo(self) -> None:
        self._doc._restore(self._after)

    def undo(self) -> None:
        self._doc._restore(self._before)


class ProjectDocument(QObject):
    """A ``ProjectState`` with a file path, an undo stack and autosave.

    ``frame_count`` (when known) bounds segments, markers and in/out points. Edits raise ``InputError``
    with a hint when their values cannot be used; nothing is pushed then."""

    changed = Signal(object)  # the new ProjectState
    dirty_changed = Signal(bool)
    autosaved = Signal(object)  # Path written
    autosave_failed = Signal(object)  # the exception

    def __init__(
        self,
        state: ProjectState | None = None,
        path: str | Path | None = None,
        *,
        frame_count: int | None = None,
        autosave_ms: int = AUTOSAVE_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._state = state or ProjectState()
        self.path = Path(path) if path is not None else None
        self.frame_count = frame_count
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(autosave_ms)
        self._autosave.timeout.connect(self.autosave_now)

    @classmethod
    def open(cls, path: str | Path, *, frame_count: int | None = None,
             parent: QObject | None = None) -> ProjectDocument:  # fmt: skip
        """Load the project at ``path`` and remember it as recent; raises ``InputError``."""
        doc = cls(load_project(path), path, frame_count=frame_count, parent=parent)
        remember_recent(path)
        return doc

    @property
    def state(self) -> ProjectState:
        return self._state

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ saving
    def save(self, path: str | Path | None = None) -> Path:
        """Write the project to ``path`` (or its own path) and mark it clean; raises ``InputError`` when
        it has no path yet, ``OSError`` when the file cannot be written."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise InputError("The project has no file yet.", hint="Choose where to save it (Save As).")
        save_project(target, self._state)
        if self.path is None:
            discard_autosave()  # the untitled work now has a home
        self.path = target
        self._autosave.stop()
        self.undo_stack.setClean()
        remember_recent(target)
        return target

    def autosave_now(self) -> Path | None:
        """Write any pending change now (what the debounce timer calls); errors are logged and reported
        by ``autosave_failed``, never raised."""
        self._autosave.stop()
        target = self.path or autosave_file()
        try:
            save_project(target, self._state)
        except OSError as exc:
            log.warning("autosave to %s failed: %s", target, exc)
            self.autosave_failed.emit(exc)
            return None
        if self.path is not None:
            self.undo_stack.setClean()
        self.autosaved.emit(target)
        return target

    def reset(self, state: ProjectState, path: str | Path | None = None) -> None:
        """Start over on ``state`` (a newly opened project, or a new one on another video): the undo
        history is cleared and the document is clean."""
        self.close()
        self.undo_stack.clear()
        self.path = Path(path) if path is not None else None
        self._state = state
        self.changed.emit(state)

    def close(self) -> None:
        """Flush a pending autosave and stop the timer."""
        if self._autosave.isActive():
            self.autosave_now()

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    def _restore(self, snapshot: ProjectState) -> None:
        """Apply an undo/redo snapshot, keeping the current view state (it is not undoable)."""
        view = {name: getattr(self._state, name) for name in VIEW_FIELDS}
        self._set_state(snapshot.model_copy(update=view))

    def _set_state(self, state: ProjectState) -> None:
        self._state = state
        self._autosave.start()
        self.changed.emit(state)

    def _push(self, after: ProjectState, text: str) -> None:
        if after != self._state:
            self.undo_stack.push(_StateChange(self, self._state, after, text))

    def _update(self, text: str, **changes: Any) -> None:
        try:
            after = ProjectState.model_validate({**dict(self._state), **changes})
        except ValidationError as exc:
            raise InputError(f"Cannot {text.lower()}: {exc.errors()[0]['msg']}.") from None
        self._push(after, text)

    # ------------------------------------------------------------------ view state (not undoable)
    def set_view(self, *, current_frame: int | None = None, compare_mode: str | None = None) -> None:
        """Remember the playhead and compare mode (saved with the project, not on the undo stack)."""
        changes: dict[str, Any] = {}
        if current_frame is not None:
            changes["current_frame"] = self._frame(current_frame, "The current frame")
        if compare_mode is not None:
            changes["compare_mode"] = compare_mode
        state = self._state.model_copy(update=changes)
        if state != self._state:
            self._set_state(state)

    # ------------------------------------------------------------------ edits
    def set_source(self, source: str | Path | None) -> None:
        self._update("Set video", source=str(source) if source is not None else None)

    def set_persona(self, persona: str | None) -> None:
        self._update("Set persona", persona=persona)

    def set_job(self, job_id: str | None, output: str | Path | None) -> None:
        self._update("Set render job", job_id=job_id, output=str(output) if output is not None else None)

    def set_face(self, face: str) -> None:
        """Choose which face is swapped: ``auto`` or ``track:N``; raises ``InputError`` for other text."""
        parse_face(face)
        self._update("Choose face", face=face)

    def add_publish(self, link: PublishedLink) -> None:
        """Keep a publish of a render in the project (its link and sha256)."""
        self._update("Publish", publishes=(*self._state.publishes, link))

    def set_in(self, frame: int | None) -> None:
        """Set (or clear with None) the in point; raises ``InputError`` outside the video or after out."""
        if frame is not None:
            self._frame(frame, "The in point")
            if self._state.out_point is not None and frame > self._state.out_point:
                raise InputError(f"The in point ({frame}) is after the out point ({self._state.out_point}).",
                                 hint="Set an in point before the out point.")  # fmt: skip
        self._update("Set in point", in_point=frame)

    def set_out(self, frame: int | None) -> None:
        """Set (or clear with None) the out point; raises ``InputError`` outside the video or before in."""
        if frame is not None:
            self._frame(frame, "The out point")
            if self._state.in_point is not None and frame < self._state.in_point:
                raise InputError(f"The out point ({frame}) is before the in point ({self._state.in_point}).",
                                 hint="Set an out point after the in point.")  # fmt: skip
        self._update("Set out point", out_point=frame)

    def add_marker(self, frame: int) -> None:
        self._frame(frame, "A marker")
        self._update("Add marker", markers=tuple(sorted({*self._state.markers, frame})))

    def remove_marker(self, frame: int) -> None:
        if frame not in self._state.markers:
            raise InputError(f"There is no marker at frame {frame}.", hint="Pick an existing marker.")
        self._update("Remove marker", markers=tuple(m for m in self._state.markers if m != frame))

    def set_review(self, key: str, value: str | None) -> None:
        """Record the verdict for the range ``key`` ("start-stop"), or forget it with None."""
        if not REVIEW_KEY.match(key):
            raise InputError(f"'{key}' is not a frame range.", hint="Use START-STOP, e.g. 10-42.")
        if value is not None and value not in VERDICTS:
            raise InputError(f"'{value}' is not a review verdict.", hint=f"Use one of {', '.join(VERDICTS)}.")
        review = {k: v for k, v in self._state.review.items() if k != key}
        if value is not None:
            review[key] = value
        self._update("Review range", review=review)

    # ------------------------------------------------------------------ segments
    def add_segment(self, start: int, stop: int, **fields: Any) -> None:
        """Append a segment over ``start..stop`` (inclusive); ``fields``: enabled, persona, swap."""
        segment = self._segment({"start": start, "stop": stop, **fields})
        self._push_segments((*self._state.segments, segment), "Add segment")

    def update_segment(self, index: int, **fields: Any) -> None:
        """Change segment ``index``'s start/stop/enabled/persona/swap."""
        old = self._segment_at(index)
        new = self._segment({**dict(old), **fields})
        self._push_segments(self._replace(index, new), "Edit segment")

    def remove_segment(self, index: int) -> None:
        self._segment_at(index)
        self._push_segments(self._replace(index), "Remove segment")

    def split_segment(self, index: int, frame: int) -> None:
        """Cut segment ``index`` in two: ``start..frame-1`` and ``frame..stop``, same settings."""
        seg = self._segment_at(index)
        if not seg.start < frame <= seg.stop:
            raise InputError(f"Frame {frame} is not inside segment {seg.start}–{seg.stop}.",
                             hint="Split at a frame after the segment's first frame.")  # fmt: skip
        left = seg.model_copy(update={"stop": frame - 1})
        right = seg.model_copy(update={"start": frame})
        self._push_segments(self._replace(index, left, right), "Split segment")

    def merge_segments(self, index: int) -> None:
        """Join segment ``index`` with the next one; the result keeps the first one's settings."""
        first, second = self._segment_at(index), self._segment_at(index + 1)
        merged = first.model_copy(
            update={"start": min(first.start, second.start), "stop": max(first.stop, second.stop)}
        )
        segments = list(self._state.segments)
        segments[index : index + 2] = [merged]
        self._push_segments(tuple(segments), "Merge segments")

    def set_keyframe(self, index: int, option: str, frame: int, value: float | None) -> None:
        """Pin ``option`` of segment ``index`` to ``value`` at ``frame`` (None removes that keyframe);
        raises ``InputError`` for a frame outside the segment or a value the option cannot take."""
        seg = self._segment_at(index)
        if not seg.start <= frame <= seg.stop:
            raise InputError(f"Frame {frame} is not inside segment {seg.start}–{seg.stop}.",
                             hint="Put the playhead inside the segment first.")  # fmt: skip
        kept = [k for k in seg.keyframes if (k.option, k.frame) != (option, frame)]
        if value is not None:
            try:
                kept.append(Keyframe.model_validate({"option": option, "frame": frame, "value": value}))
            except ValidationError as exc:
                raise InputError(f"Bad keyframe: {exc.errors()[0]['msg']}.",
                                 hint="Blend, feather and enhancer blend take 0 to 1.") from None  # fmt: skip
        keyframes = tuple(sorted(kept, key=lambda k: (k.option, k.frame)))
        self._push_segments(self._replace(index, seg.model_copy(update={"keyframes": keyframes})), "Keyframe")

    def _segment_at(self, index: int) -> Segment:
        count = len(self._state.segments)
        if not 0 <= index < count:
            raise InputError(f"There is no segment {index} (the project has {count}).",
                             hint="Pick a segment on the timeline.")  # fmt: skip
        return self._state.segments[index]

    def _segment(self, values: dict[str, Any]) -> Segment:
        unknown = set(values) - SEGMENT_FIELDS
        if unknown:
            raise InputError(f"Unknown segment setting(s): {', '.join(sorted(unknown))}.",
                             hint=f"Known: {', '.join(sorted(SEGMENT_FIELDS))}.")  # fmt: skip
        try:
            segment = Segment.model_validate(values)
        except ValidationError as exc:
            raise InputError(f"Bad segment: {exc.errors()[0]['msg']}.",
                             hint="A segment needs 0 ≤ start ≤ stop.") from None  # fmt: skip
        self._frame(segment.stop, "The segment's end")
        return segment

    def _replace(self, index: int, *new: Segment) -> tuple[Segment, ...]:
        segments = list(self._state.segments)
        segments[index : index + 1] = new
        return tuple(segments)

    def _push_segments(self, segments: tuple[Segment, ...], text: str) -> None:
        self._push(self._state.model_copy(update={"segments": segments}), text)

    def _frame(self, frame: int, what: str) -> int:
        last = None if self.frame_count is None else self.frame_count - 1
        if frame < 0 or (last is not None and frame > last):
            bounds = f"0 to {last}" if last is not None else "0 or more"
            raise InputError(f"{what} (frame {frame}) is outside the video.", hint=f"Use a frame {bounds}.")
        return frame
