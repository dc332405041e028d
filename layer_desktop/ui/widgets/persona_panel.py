"""The Personas panel: a grid of persona thumbnails over a ``PersonaLibrary``.

Creating a persona (``start_create``) and adding files to one (``start_extend``) run as a chain of
non-blocking steps: classify the files, find the faces in each photo in the background, ask which face
to use in any photo with several (``FacePickerDialog``), then — for a new persona — record consent
(``ConsentDialog``) and hand everything to the library. The dialog waiting for the user is
``pending_dialog``; errors go to the library's ``failed`` signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QIcon,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.personas import FaceInput, Persona
from layer_desktop.errors import InputError
from layer_desktop.ui.personas import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    PersonaLibrary,
    PhotoFaces,
    badge_text,
    split_drop,
    tooltip_text,
    unknown_files_error,
)
from layer_desktop.ui.widgets.consent_dialog import ConsentDialog
from layer_desktop.ui.widgets.face_picker import FacePickerDialog
from layer_desktop.ui.widgets.images import to_pixmap

log = logging.getLogger(__name__)

BUNDLE_SUFFIX = ".layerpersona"
ID_ROLE = Qt.ItemDataRole.UserRole
Finish = Callable[[list[FaceInput], list[Path], list[PhotoFaces]], None]


class PersonaList(QListWidget):
    """The thumbnail grid; files dropped on it are reported with the persona under the drop (or None)."""

    files_dropped = Signal(object, object)  # list[Path], persona id | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("personaList")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QPixmap(96, 96).size())
        self.setGridSize(QPixmap(170, 160).size())
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        item = self.itemAt(event.position().toPoint())
        event.acceptProposedAction()
        if paths:
            self.files_dropped.emit(paths, item.data(ID_ROLE) if item is not None else None)


class PersonaPanel(QWidget):
    """Browse, create, extend, rename, delete, export and import personas; choose the active one."""

    def __init__(self, library: PersonaLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("personaPanel")
        self.library = library
        self.pending_dialog: QDialog | None = None
        self._icons: dict[str, QIcon] = {}
        self.list = PersonaList(self)
        self.list.files_dropped.connect(self.handle_drop)
        self.list.itemActivated.connect(lambda item: self.library.set_active(self._persona_name(item)))
        self.list.itemSelectionChanged.connect(self._update_actions)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.new_action = self._action("New from files…", self.new_from_files, QKeySequence.StandardKey.New)
        self.add_action = self._action("Add files…", self.add_files)
        self.rename_action = self._action("Rename", self.rename_selected, Qt.Key.Key_F2)
        self.delete_action = self._action("Delete", self.delete_selected, Qt.Key.Key_Delete)
        self.export_action = self._action("Export…", lambda: self.export_selected())
        self.import_action = self._action("Import…", lambda: self.import_files())
        buttons = QHBoxLayout()
        for action in (self.new_action, self.add_action, self.export_action, self.import_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        library.changed.connect(self.refresh)
        library.active_changed.connect(lambda _name: self.refresh())
        self.refresh()

    # ---------------------------------------------------------------- the list

    def refresh(self) -> None:
        """Rebuild the grid from the library, keeping the selection."""
        current = self.selected()
        self.list.clear()
        for persona in self.library.personas:
            self.list.addItem(self._item(persona))
            if current is not None and persona.id == current.id:
                self.list.setCurrentRow(self.list.count() - 1)
        self._update_actions()

    def selected(self) -> Persona | None:
        """The persona of the current item, if any."""
        item = self.list.currentItem()
        return self.library.find(item.data(ID_ROLE)) if item is not None else None

    def item_for(self, ref: str) -> QListWidgetItem | None:
        """The grid item of persona ``ref`` (id or name)."""
        persona = self.library.find(ref)
        for row in range(self.list.count()):
            item = self.list.item(row)
            if persona is not None and item.data(ID_ROLE) == persona.id:
                return item
        return None

    def _item(self, persona: Persona) -> QListWidgetItem:
        active = self.library.active is not None and persona.name.casefold() == self.library.active.casefold()
        item = QListWidgetItem(
            self._icon(persona), f"{'✓ ' if active else ''}{persona.name}\n{badge_text(persona)}"
        )
        item.setData(ID_ROLE, persona.id)
        item.setToolTip(tooltip_text(persona) + ("\n\nActive: used for rendering." if active else ""))
        if active:
            font = QFont(item.font())
            font.setBold(True)
            item.setFont(font)
        return item

    def _icon(self, persona: Persona) -> QIcon:
        key = persona.thumbnail_sha256 or ""
        if key not in self._icons:
            pixmap = QPixmap()
            data = self.library.thumbnail_bytes(persona)
            if data is not None and not pixmap.loadFromData(data, "JPG"):
                log.warning("thumbnail of persona %s could not be decoded", persona.name)
            self._icons[key] = QIcon(pixmap)
        return self._icons[key]

    def _persona_name(self, item: QListWidgetItem) -> str | None:
        persona = self.library.find(item.data(ID_ROLE))
        return persona.name if persona is not None else None

    def _action(self, text: str, slot: Callable[[], object], key: object = None) -> QAction:
        action = QAction(text, self)
        if key is not None:
            action.setShortcut(QKeySequence(key))  # type: ignore[call-overload]
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.list.addAction(action)
        return action

    def _update_actions(self) -> None:
        chosen = self.selected() is not None
        for action in (self.add_action, self.rename_action, self.delete_action, self.export_action):
            action.setEnabled(chosen)

    # ---------------------------------------------------------------- commands

    def new_from_files(self) -> None:
        """Ask for photos and voice recordings, then create a persona from them."""
        paths = self._ask_media("New persona from files")
        if paths:
            self.start_create(paths)

    def add_files(self) -> None:
        """Ask for photos and voice recordings to add to the selected persona."""
        persona = self.selected()
        paths = self._ask_media(f"Add files to {persona.name}") if persona is not None else []
        if persona is not None and paths:
            self.start_extend(persona.id, paths)

    def rename_selected(self) -> None:
        """Ask for a new name for the selected persona (non-blocking; see ``pending_dialog``)."""
        persona = self.selected()
        if persona is None:
            return
        dialog = QInputDialog(self)
        dialog.setObjectName("renameDialog")
        dialog.setWindowTitle("Rename persona")
        dialog.setLabelText(f"New name for {persona.name}:")
        dialog.setTextValue(persona.name)
        dialog.accepted.connect(lambda: self.library.rename(persona.id, dialog.textValue()))
        self._show(dialog)

    def delete_selected(self) -> None:
        """Delete the selected persona after the user confirms."""
        persona = self.selected()
        if persona is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete persona",
            f"Delete the persona {persona.name!r}, its photos and voice samples? This cannot be undone.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.library.delete(persona.id)

    def export_selected(self, path: Path | None = None) -> None:
        """Export the selected persona to ``path`` (asked for when None)."""
        persona = self.selected()
        if persona is None:
            return
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Export persona", f"{persona.name}{BUNDLE_SUFFIX}", f"Layer persona (*{BUNDLE_SUFFIX})"
            )
            if not name:
                return
            path = Path(name)
        self.library.export(
            persona.id, path if path.suffix == BUNDLE_SUFFIX else path.with_suffix(BUNDLE_SUFFIX)
        )

    def import_files(self, paths: Sequence[Path] | None = None) -> None:
        """Import ``.layerpersona`` files (asked for when None)."""
        if paths is None:
            names, _ = QFileDialog.getOpenFileNames(
                self, "Import personas", "", f"Layer persona (*{BUNDLE_SUFFIX})"
            )
            paths = [Path(n) for n in names]
        for path in paths:
            self.library.import_bundle(path)

    def handle_drop(self, paths: list[Path], persona_id: str | None) -> None:
        """Bundles are imported; photos and voices extend the persona dropped on, or start a new one."""
        bundles = [p for p in paths if p.suffix.lower() == BUNDLE_SUFFIX]
        media = [p for p in paths if p not in bundles]
        self.import_files(bundles)
        if media and persona_id is not None:
            self.start_extend(persona_id, media)
        elif media:
            self.start_create(media)

    # ---------------------------------------------------------------- the creation flow

    def start_create(self, paths: Sequence[Path]) -> None:
        """Create a persona from these files: faces, face choice, consent, then the library."""
        self._collect(paths, self._ask_consent)

    def start_extend(self, ref: str, paths: Sequence[Path]) -> None:
        """Add these files to persona ``ref``, asking which face to use where a photo has several."""
        self._collect(paths, lambda faces, voices, _found: self.library.extend(ref, faces, voices))

    def _collect(self, paths: Sequence[Path], finish: Finish) -> None:
        images, audio, other = split_drop(paths)
        if other:
            self.library.report(unknown_files_error(other))
            return
        if not images and not audio:
            self.library.report(
                InputError("No files were given.", hint=f"Use photos ({', '.join(IMAGE_SUFFIXES)}) "
                           f"or audio ({', '.join(AUDIO_SUFFIXES)}).")
            )  # fmt: skip
            return
        self.library.detect(images, lambda found: self._pick_faces(found, [], audio, finish, found))

    def _pick_faces(
        self,
        todo: list[PhotoFaces],
        chosen: list[FaceInput],
        audio: list[Path],
        finish: Finish,
        found: list[PhotoFaces],
    ) -> None:
        """Go through the photos in order, asking for a face in each one with several."""
        todo, chosen = list(todo), list(chosen)
        while todo and todo[0].rgb is None:
            chosen.append(FaceInput(todo.pop(0).path))
        if not todo:
            self.pending_dialog = None
            finish(chosen, audio, found)
            return
        photo = todo.pop(0)
        assert photo.rgb is not None
        dialog = FacePickerDialog(
            to_pixmap(photo.rgb), photo.boxes, f"Choose the face in {photo.path.name}", self
        )

        def picked() -> None:
            face = FaceInput(photo.path, dialog.chosen_index)
            self._pick_faces(todo, [*chosen, face], audio, finish, found)

        dialog.accepted.connect(picked)
        self._show(dialog)

    def _ask_consent(self, faces: list[FaceInput], voices: list[Path], found: list[PhotoFaces]) -> None:
        photos = [f.path for f in faces]
        name = photos[0].stem.replace("_", " ").replace("-", " ").title() if photos else ""
        dialog = ConsentDialog(photos, voices, name, self)
        for face, photo in zip(faces, found, strict=True):
            count = len(photo.boxes)
            status = "1 face found" if count == 1 else f"face {(face.face_index or 0) + 1} of {count} chosen"
            dialog.set_photo_status(face.path, status)

        def confirmed() -> None:
            name, consent = dialog.result_input()
            self.library.create(name, faces, voices, consent)

        dialog.accepted.connect(confirmed)
        self._show(dialog)

    def _show(self, dialog: QDialog) -> None:
        """Open ``dialog`` without blocking and expose it as ``pending_dialog`` until it closes."""
        self.pending_dialog = dialog
        dialog.rejected.connect(lambda: self._closed(dialog))
        dialog.accepted.connect(lambda: self._closed(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.pending_dialog is dialog:
            self.pending_dialog = None

    def _ask_media(self, title: str) -> list[Path]:
        patterns = " ".join(f"*{s}" for s in (*IMAGE_SUFFIXES, *AUDIO_SUFFIXES))
        names, _ = QFileDialog.getOpenFileNames(self, title, "", f"Photos and voice recordings ({patterns})")
        return [Path(n) for n in names]
