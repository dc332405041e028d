"""The Settings dialog's pages: the ElevenLabs key goes from a password field into the keyring (and is
never shown again); a destination with a bad field is refused with the field named, nothing stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.engine.voice.eleven_client import API_KEY_NAME
from layer_desktop.remote.storage import list_destinations
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.settings_dialog import PAGES, SettingsDialog
from tests.remote.storage.conftest import MemoryKeyring


@pytest.fixture
def dialog(qtbot: QtBot) -> Iterator[SettingsDialog]:
    tasks = TaskManager()
    d = SettingsDialog(tasks, "Engine: Local CPU")
    qtbot.addWidget(d)
    yield d
    tasks.shutdown()


def test_the_voice_key_goes_into_the_keyring_only(
    dialog: SettingsDialog, memory_keyring: MemoryKeyring
) -> None:
    dialog.show_page("Voice")
    assert dialog.stack.currentWidget() is dialog.voice and PAGES.index("Voice") == 3
    page = dialog.voice
    assert (
        page.key_edit.echoMode() == page.key_edit.EchoMode.Password and page.status.text() == "No key stored."
    )
    page.key_edit.setText("sk-test-0123456789")
    page.save_button.click()
    assert memory_keyring.values[("layer-desktop", API_KEY_NAME)] == "sk-test-0123456789"
    assert page.key_edit.text() == "" and "stored" in page.status.text() and "sk-" not in page.status.text()
    page.remove_button.click()
    assert (
        "layer-desktop",
        API_KEY_NAME,
    ) not in memory_keyring.values and page.status.text() == "No key stored."


def test_a_bad_destination_is_refused_naming_the_field(
    dialog: SettingsDialog, memory_keyring: MemoryKeyring
) -> None:
    page = dialog.destinations
    page.name_edit.setText("team")
    page.bucket_edit.setText("Bad Bucket!")
    page.key_id_edit.setText("AKIA")
    page.secret_edit.setText("secret")
    page.save_button.click()
    assert page.result.text().startswith("Bucket:") and list_destinations() == ()
    assert memory_keyring.values == {}  # nothing reached the keyring either


def test_models_page_and_the_rerender_form_show_what_is_missing(dialog: SettingsDialog, qtbot: QtBot) -> None:
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QComboBox

    from layer_desktop.engine.swap.options import SwapOptions
    from layer_desktop.engine.swap.registry import INSWAPPER_MODEL
    from layer_desktop.ui.review import FlaggedRange
    from layer_desktop.ui.widgets.rerender_dialog import RerenderDialog

    rows = [dialog.models.list.item(i).text() for i in range(dialog.models.list.count())]
    (row,) = [r for r in rows if r.startswith(INSWAPPER_MODEL)]
    assert "missing" in row and "licence:" in row  # no model weights in a fresh home
    form = RerenderDialog(SwapOptions(), FlaggedRange(0, 5, ("no_face",), 6), 10)
    qtbot.addWidget(form)
    backend = form.editors["backend"]
    assert isinstance(backend, QComboBox)
    items = backend.model()
    assert isinstance(items, QStandardItemModel)
    inswapper = items.item(backend.findData("inswapper"))
    assert not inswapper.isEnabled() and "Settings › Models" in inswapper.toolTip()
    assert items.item(backend.findData("landmark")).isEnabled()
