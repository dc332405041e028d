"""The persona library as the studio sees it: a view-model over ``PersonaStore``.

``PersonaLibrary`` holds the list of personas and the one chosen for rendering, and runs every store
operation through the ``TaskManager`` (never on the GUI thread). Results arrive as signals; errors as
``failed`` with the exception, for the window to show with ``show_error``. The pure helpers below
(classifying dropped files, the badge and tooltip texts) need no Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal

from layer_desktop.engine.faces import load_image
from layer_desktop.engine.personas import (
    ConsentInput,
    FaceInput,
    Persona,
    PersonaStore,
    create_persona,
    detect_faces,
    export_persona,
    extend_persona,
    import_persona,
    rename_persona,
)
from layer_desktop.engine.personas.records import BBox
from layer_desktop.errors import InputError, NoFaceError
from layer_desktop.ui.drops import AUDIO, IMAGE
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

# one list of what counts as a photo / a voice sample, shared with the window's drop handling
IMAGE_SUFFIXES = tuple(sorted(IMAGE))
AUDIO_SUFFIXES = tuple(sorted(AUDIO))


def split_drop(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """(images, audio, other) by file suffix, each in the order given; case of the suffix is ignored."""
    images: list[Path] = []
    audio: list[Path] = []
    other: list[Path] = []
    for raw in paths:
        path = Path(raw)
        suffix = path.suffix.lower()
        (images if suffix in IMAGE_SUFFIXES else audio if suffix in AUDIO_SUFFIXES else other).append(path)
    return images, audio, other


def unknown_files_error(other: Sequence[Path]) -> InputError:
    """The error for files that are neither photos nor voice recordings, naming them."""
    names = ", ".join(p.name for p in other)
    return InputError(
        f"These files are not photos or voice recordings: {names}.",
        hint=f"Use photos ({', '.join(IMAGE_SUFFIXES)}) or audio ({', '.join(AUDIO_SUFFIXES)}).",
        path=other[0] if other else None,
    )


def badge_text(persona: Persona) -> str:
    """A one-line summary such as ``3 photos · q 0.82 · voice 4.1 s``."""
    used = persona.chosen_faces
    quality = sum(f.quality for f in used) / len(used) if used else 0.0
    nb = "\u00a0"  # no-break spaces: a narrow grid wraps between the parts, never inside one
    photos = f"{len(persona.faces)}{nb}photo" + ("" if len(persona.faces) == 1 else "s")
    seconds = sum(v.duration_s for v in persona.voices)
    voice = f"voice{nb}{seconds:.1f}{nb}s" if persona.voices else f"no{nb}voice"
    return f"{photos} · q{nb}{quality:.2f} · {voice}"


def tooltip_text(persona: Persona) -> str:
    """Per-photo quality and flags, voice samples, and the consent record (who, when, what)."""
    lines = [persona.name, badge_text(persona), ""]
    for f in persona.faces:
        why = f" ({', '.join(f.quality_reasons)})" if f.quality_reasons else ""
        lines.append(f"{f.source_name}: quality {f.quality:.2f}{why}")
        if f.flagged:
            lines.append(f"    not used: {f.flag_reason}")
    lines += [f"{v.source_name}: {v.duration_s:.1f} s, {v.rms_dbfs:.0f} dBFS" for v in persona.voices]
    c = persona.consent
    lines += ["", f"Consent given by {c.given_by} on {c.date.isoformat()}", c.statement]
    if c.proof_name:
        lines.append(f"Proof: {c.proof_name}")
    return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class PhotoFaces:
    """The faces found in one photo; ``rgb`` is kept only when there are several to choose from."""

    path: Path
    boxes: list[BBox]
    rgb: NDArray[np.uint8] | None = None


def find_faces(paths: Sequence[Path]) -> list[PhotoFaces]:
    """Detect the faces in each photo (background work). Raises ``ImageError`` for an unusable picture
    and ``NoFaceError`` for one without a face, each naming the file."""
    found = []
    for path in paths:
        boxes = detect_faces(path)
        if not boxes:
            raise NoFaceError(f"No face was found in {path}.", path=path)
        found.append(PhotoFaces(path, boxes, load_image(path) if len(boxes) > 1 else None))
    return found


class PersonaLibrary(QObject):
    """The personas in the store and the active one; all store work runs on ``tasks``."""

    changed = Signal()  # ``personas`` was reloaded
    active_changed = Signal(str)  # the persona chosen for rendering; "" for none
    created = Signal(object)  # Persona
    exported = Signal(object)  # Path written
    failed = Signal(object)  # the exception

    def __init__(
        self, tasks: TaskManager, store: PersonaStore | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.store = store if store is not None else PersonaStore()
        self.personas: list[Persona] = []
        self.active: str | None = None
        self._active_id: str | None = None
        self.busy = 0  # tasks started and not yet delivered

    # ---------------------------------------------------------------- operations

    def reload(self) -> None:
        """Re-read the list of personas (``changed`` follows)."""
        self._run(lambda: None)

    def create(
        self, name: str, faces: Sequence[FaceInput], voices: Sequence[Path], consent: ConsentInput
    ) -> None:
        """Create a persona; on success it becomes active and ``created`` is emitted."""
        self._run(
            lambda: create_persona(self.store, name, list(faces), consent, list(voices)), self._on_created
        )

    def extend(self, ref: str, faces: Sequence[FaceInput], voices: Sequence[Path]) -> None:
        """Add photos and voice samples to persona ``ref``."""
        self._run(lambda: extend_persona(self.store, ref, list(faces), list(voices)))

    def rename(self, ref: str, new: str) -> None:
        """Rename persona ``ref``; the active persona keeps being active under its new name."""
        self._run(lambda: rename_persona(self.store, ref, new))

    def delete(self, ref: str) -> None:
        """Delete persona ``ref``; when it was active, no persona is active any more."""
        self._run(lambda: self.store.delete(ref))

    def export(self, ref: str, path: Path) -> None:
        """Write persona ``ref`` to a ``.layerpersona`` file (``exported`` follows with the path)."""
        self._run(lambda: export_persona(self.store, ref, path), self.exported.emit)

    def import_bundle(self, path: Path) -> None:
        """Add the persona in a ``.layerpersona`` file to the library."""
        self._run(lambda: import_persona(self.store, path))

    def detect(self, images: Sequence[Path], on_done: Callable[[list[PhotoFaces]], None]) -> None:
        """Find the faces in each photo (``find_faces``) for ``on_done``; errors go to ``failed``."""
        self._run(lambda: find_faces(list(images)), on_done, reload=False)

    def set_active(self, name: str | None) -> None:
        """Choose the persona used for rendering (None or "" for none)."""
        self.active = name or None
        persona = self.find(name) if name else None
        self._active_id = persona.id if persona is not None else None
        self.active_changed.emit(self.active or "")

    def report(self, exc: BaseException) -> None:
        """Send an error met by a view (a bad drop, say) the same way as the library's own."""
        self.failed.emit(exc)

    def thumbnail_bytes(self, persona: Persona) -> bytes | None:
        """The persona's stored thumbnail JPEG, or None when it has none (or the file is gone)."""
        if persona.thumbnail_sha256 is None:
            return None
        try:
            return self.store.media_path(persona.thumbnail_sha256).read_bytes()
        except OSError as exc:
            log.warning("thumbnail of persona %s unreadable: %s", persona.name, exc)
            return None

    def find(self, ref: str) -> Persona | None:
        """The loaded persona with id or name ``ref`` (name ignoring case)."""
        key = ref.strip().casefold()
        return next((p for p in self.personas if p.id == ref or p.name.casefold() == key), None)

    # ---------------------------------------------------------------- plumbing

    def _run(
        self, fn: Callable[[], Any], then: Callable[[Any], None] | None = None, *, reload: bool = True
    ) -> None:
        """Run ``fn`` and (when ``reload``) re-read the list in the same background task, then deliver
        the list (``changed``) before ``then`` runs on the GUI thread."""

        def job() -> tuple[Any, list[Persona] | None]:
            value = fn()
            return value, self.store.list() if reload else None

        def done(result: tuple[Any, list[Persona] | None]) -> None:
            self.busy -= 1
            value, personas = result
            if personas is not None:
                self._set_list(personas)
            if then is not None:
                then(value)

        def fail(exc: BaseException) -> None:
            self.busy -= 1
            log.info("persona operation failed: %s", exc)
            self.failed.emit(exc)

        self.busy += 1
        self.tasks.run(job, done, fail, heavy=False)

    def _set_list(self, personas: list[Persona]) -> None:
        self.personas = personas
        self.changed.emit()
        if self.active is None:
            return
        # follow the active persona by id, so a rename keeps it active and a delete clears it
        current = self.find(self._active_id or self.active)
        if current is None:
            self.set_active(None)
        elif current.name != self.active:
            self.set_active(current.name)

    def _on_created(self, persona: Persona) -> None:
        self.set_active(persona.name)
        self.created.emit(persona)
