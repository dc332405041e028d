"""The Personas panel: creating a persona through face choice and consent, editing, bundles, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from layer_desktop.engine.personas import ConsentInput, FaceInput, Persona, PersonaStore, create_persona
from layer_desktop.errors import ImageError, InputError, LayerError
from layer_desktop.ui.personas import PersonaLibrary, badge_text, split_drop
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.consent_dialog import ConsentDialog
from layer_desktop.ui.widgets.face_picker import FacePickerDialog
from layer_desktop.ui.widgets.persona_panel import PersonaPanel
from tests.clips import make_two_faces_photo
from tests.conftest import SHARED_MEDIA

ASTRONAUT = SHARED_MEDIA / "faces" / "astronaut.png"
HOPPER = SHARED_MEDIA / "faces" / "grace_hopper.jpg"
VOICE = SHARED_MEDIA / "audio" / "arctic_a0007_awb.wav"
WAIT_MS = 60_000


@pytest.fixture
def tasks() -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown()


@pytest.fixture
def library(tasks: TaskManager) -> PersonaLibrary:
    return PersonaLibrary(tasks)


@pytest.fixture
def failures(library: PersonaLibrary) -> list[BaseException]:
    seen: list[BaseException] = []
    library.failed.connect(seen.append)
    return seen


@pytest.fixture
def panel(qtbot: QtBot, library: PersonaLibrary) -> PersonaPanel:
    widget = PersonaPanel(library)
    qtbot.addWidget(widget)
    return widget


def _idle(qtbot: QtBot, library: PersonaLibrary) -> None:
    qtbot.waitUntil(lambda: library.busy == 0, timeout=WAIT_MS)


def _dialog(qtbot: QtBot, panel: PersonaPanel, kind: type) -> object:
    qtbot.waitUntil(lambda: isinstance(panel.pending_dialog, kind), timeout=WAIT_MS)
    return panel.pending_dialog


def _stored_eileen(qtbot: QtBot, library: PersonaLibrary) -> Persona:
    """A persona made directly in the store (one photo, one voice), then loaded by the library."""
    persona = create_persona(
        PersonaStore(), "Eileen", [FaceInput(ASTRONAUT)], ConsentInput("Eileen Collins", "I agree."), [VOICE]
    )
    library.reload()
    _idle(qtbot, library)
    return persona


def _two_faces(tmp_path: Path) -> Path:
    return make_two_faces_photo(tmp_path / "two_people.png")


def _give_consent(qtbot: QtBot, dialog: ConsentDialog, name: str, given_by: str) -> None:
    dialog.name_edit.setText(name)
    dialog.given_by_edit.setText(given_by)
    dialog.consent_check.setChecked(True)
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def test_split_drop_classifies_by_suffix() -> None:
    images, audio, other = split_drop(["a.PNG", "b.jpeg", "c.wav", "d.M4A", "e.txt", "f.webp", "g"])
    assert [p.name for p in images] == ["a.PNG", "b.jpeg", "f.webp"]
    assert [p.name for p in audio] == ["c.wav", "d.M4A"]
    assert [p.name for p in other] == ["e.txt", "g"]


def test_create_from_files_through_the_consent_dialog(  # type: ignore[no-untyped-def]
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary, failures
) -> None:
    panel.start_create([HOPPER, ASTRONAUT, VOICE])
    dialog = _dialog(qtbot, panel, ConsentDialog)
    assert isinstance(dialog, ConsentDialog)
    assert dialog.name_edit.text() == "Grace Hopper"  # suggested from the first photo
    assert dialog.files.count() == 3 and "1 face found" in dialog.photo_status(HOPPER)
    assert not dialog.ok_button.isEnabled()
    dialog.given_by_edit.setText("Grace Hopper")
    assert not dialog.ok_button.isEnabled()  # not until the consent box is ticked
    dialog.consent_check.setChecked(True)
    dialog.given_by_edit.setText("  ")
    assert not dialog.ok_button.isEnabled()
    dialog.statement_edit.setPlainText("I agree to my face and voice being used.")
    with qtbot.waitSignal(library.created, timeout=WAIT_MS) as created:
        _give_consent(qtbot, dialog, "Grace", "Grace Hopper")

    stored = PersonaStore().get("Grace")
    assert created.args[0].id == stored.id and panel.pending_dialog is None
    assert [f.source_name for f in stored.faces] == ["grace_hopper.jpg", "astronaut.png"]
    assert [v.source_name for v in stored.voices] == ["arctic_a0007_awb.wav"]
    assert stored.consent.given_by == "Grace Hopper"
    assert stored.consent.statement == "I agree to my face and voice being used."
    assert stored.consent.date == dt.date.today()
    assert library.active == "Grace"
    item = panel.item_for("Grace")
    assert item is not None and not item.icon().isNull() and item.font().bold()
    assert item.text() == f"✓ Grace\n{badge_text(stored)}" and "2\u00a0photos · q\u00a0" in item.text()
    assert "Consent given by Grace Hopper" in item.toolTip()
    assert failures == []


def test_cancelling_consent_creates_nothing(
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary
) -> None:
    panel.start_create([ASTRONAUT])
    dialog = _dialog(qtbot, panel, ConsentDialog)
    assert isinstance(dialog, ConsentDialog)
    dialog.reject()
    _idle(qtbot, library)
    assert panel.pending_dialog is None
    assert PersonaStore().list() == [] and library.active is None and panel.list.count() == 0


def test_a_photo_with_two_faces_asks_which_one(  # type: ignore[no-untyped-def]
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary, tmp_path: Path, failures
) -> None:
    two = _two_faces(tmp_path)
    panel.start_create([two])
    picker = _dialog(qtbot, panel, FacePickerDialog)
    assert isinstance(picker, FacePickerDialog) and len(picker.canvas.boxes) == 2
    assert not picker.ok_button.isEnabled() and picker.chosen_index is None
    qtbot.keyClick(picker, Qt.Key.Key_2)  # numbered left to right: 2 is Grace Hopper, on the right
    assert picker.chosen_index == 0  # the detector's first (largest) face
    small = picker.canvas.box_rect(0)  # the astronaut: face 1 on screen, the smaller one on the left
    qtbot.mouseClick(picker.canvas, Qt.MouseButton.LeftButton, pos=small.center().toPoint())
    assert picker.chosen_index == 1 and picker.ok_button.isEnabled()
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)

    consent = _dialog(qtbot, panel, ConsentDialog)
    assert isinstance(consent, ConsentDialog)
    assert "face 2 of 2 chosen" in consent.photo_status(two)
    with qtbot.waitSignal(library.created, timeout=WAIT_MS):
        _give_consent(qtbot, consent, "Eileen", "Eileen Collins")
    (face,) = PersonaStore().get("Eileen").faces
    assert face.face_index == 1 and face.bbox[2] <= 270  # the left-hand face
    assert failures == []


def test_rename_and_delete_update_the_list(  # type: ignore[no-untyped-def]
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary, monkeypatch: pytest.MonkeyPatch, failures
) -> None:
    persona = _stored_eileen(qtbot, library)
    library.set_active("Eileen")
    panel.list.setCurrentItem(panel.item_for("Eileen"))
    panel.rename_selected()
    dialog = panel.pending_dialog
    assert isinstance(dialog, QInputDialog) and dialog.textValue() == "Eileen"
    dialog.setTextValue("Commander Collins")
    dialog.accept()
    _idle(qtbot, library)
    assert PersonaStore().get(persona.id).name == "Commander Collins"
    assert [p.name for p in library.personas] == ["Commander Collins"]
    assert panel.list.item(0).text().startswith("✓ Commander Collins\n")
    assert library.active == "Commander Collins"  # still the active persona

    asked: list[str] = []

    def yes(parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    assert panel.selected() is not None and panel.selected().id == persona.id  # type: ignore[union-attr]
    panel.delete_action.trigger()
    _idle(qtbot, library)
    assert "Commander Collins" in asked[0]
    assert PersonaStore().list() == [] and panel.list.count() == 0 and library.active is None
    assert failures == []


def test_dropping_a_photo_on_a_persona_adds_it(  # type: ignore[no-untyped-def]
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary, failures
) -> None:
    persona = _stored_eileen(qtbot, library)
    panel.resize(600, 400)
    panel.show()
    rect = panel.list.visualItemRect(panel.item_for("Eileen"))  # type: ignore[arg-type]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(HOPPER))])
    drop = QDropEvent(
        QPointF(rect.center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    panel.list.dropEvent(drop)
    qtbot.waitUntil(lambda: len(library.personas[0].faces) == 2, timeout=WAIT_MS)
    stored = PersonaStore().get(persona.id)
    assert [f.source_name for f in stored.faces] == ["astronaut.png", "grace_hopper.jpg"]
    assert panel.list.item(0).text().split("\n")[1].startswith("2\u00a0photos")
    assert failures == []


def test_export_then_import_into_another_library(  # type: ignore[no-untyped-def]
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary, tasks: TaskManager, tmp_path: Path, failures
) -> None:
    persona = _stored_eileen(qtbot, library)
    panel.list.setCurrentItem(panel.item_for("Eileen"))
    assert library.active is None
    with qtbot.waitSignal(library.active_changed) as chosen:
        qtbot.keyClick(panel.list, Qt.Key.Key_Return)  # Enter (or a double-click) makes it active
    assert chosen.args == ["Eileen"] and panel.list.item(0).font().bold()
    with qtbot.waitSignal(library.exported, timeout=WAIT_MS) as exported:
        panel.export_selected(tmp_path / "eileen")
    bundle = tmp_path / "eileen.layerpersona"
    assert exported.args == [bundle] and bundle.stat().st_size > 1000

    other = PersonaLibrary(tasks, PersonaStore(tmp_path / "other.db", tmp_path / "other_media"))
    other_panel = PersonaPanel(other)
    qtbot.addWidget(other_panel)
    other_panel.import_files([bundle])
    _idle(qtbot, other)
    (imported,) = other.personas
    assert imported == persona and other.store.get("Eileen").consent.given_by == "Eileen Collins"
    item = other_panel.item_for("Eileen")
    assert item is not None and not item.icon().isNull()
    assert failures == []


def test_bad_files_are_reported_by_name(  # type: ignore[no-untyped-def]
    qtbot: QtBot, panel: PersonaPanel, library: PersonaLibrary, tmp_path: Path, failures
) -> None:
    with qtbot.waitSignal(library.failed, timeout=WAIT_MS):
        panel.start_create([SHARED_MEDIA / "bad" / "one_pixel.png"])
    (bad_image,) = failures
    assert isinstance(bad_image, ImageError) and "one_pixel.png" in bad_image.message

    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    panel.start_create([ASTRONAUT, notes])
    unknown = failures[1]
    assert isinstance(unknown, InputError) and isinstance(unknown, LayerError)
    assert "notes.txt" in unknown.message and ".png" in unknown.hint and ".wav" in unknown.hint
    _idle(qtbot, library)
    assert panel.pending_dialog is None and PersonaStore().list() == []
