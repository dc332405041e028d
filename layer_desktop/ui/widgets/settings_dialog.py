"""The Settings dialog: one window with pages (Engines, Destinations, Models, Voice, Output, Disclosure),
chosen from a list on the left. Changes are saved as they are made; the keys of destinations go to the
keyring."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.voice.eleven_client import API_KEY_NAME
from layer_desktop.errors import LayerError
from layer_desktop.paths import app_paths
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import RenderDefaults, load_settings, save_settings
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.destinations_page import DestinationsPage
from layer_desktop.ui.widgets.models_page import ModelsPage
from layer_desktop.ui.widgets.render_dialog import PRESETS, engine_choices

log = logging.getLogger(__name__)

PAGES = ("Engines", "Destinations", "Models", "Voice", "Output", "Disclosure")


class SettingsDialog(QDialog):
    def __init__(self, tasks: TaskManager, engine_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.resize(760, 560)
        self.pages_list = QListWidget()
        self.pages_list.addItems(list(PAGES))
        self.pages_list.setFixedWidth(150)
        self.stack = QStackedWidget()
        self.destinations = DestinationsPage(tasks)
        self.voice = VoicePage()
        self.models = ModelsPage(tasks)
        for page in (
            engines_page(engine_text),
            self.destinations,
            self.models,
            self.voice,
            OutputPage(),
            DisclosurePage(),
        ):
            self.stack.addWidget(page)
        self.pages_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.pages_list.setCurrentRow(0)
        body = QHBoxLayout()
        body.addWidget(self.pages_list)
        body.addWidget(self.stack, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(close)

    def show_page(self, name: str) -> None:
        self.pages_list.setCurrentRow(PAGES.index(name))


def engines_page(engine_text: str) -> QWidget:
    """The engines a render can use: the local one now; issue 16's remote hosts extend
    ``render_dialog.engine_choices`` and this page lists them too."""
    page = QWidget()
    layout = QVBoxLayout(page)
    engines = QListWidget()
    for _name, label in engine_choices():
        engines.addItem(label)
    layout.addWidget(QLabel("Engines that can render:"))
    layout.addWidget(engines, 1)
    status = QLabel(engine_text)
    status.setWordWrap(True)
    layout.addWidget(status)
    return page


class VoicePage(QWidget):
    """The ElevenLabs API key, typed into a password field and kept only in the keyring (never shown
    again: the page says whether one is stored)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste the ElevenLabs API key")
        self.save_button = QPushButton("Store key")
        self.remove_button = QPushButton("Remove key")
        self.status = QLabel()
        self.status.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("ElevenLabs key", self.key_edit)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        form.addRow("", row)
        form.addRow("", self.status)
        note = QLabel("Without a key, voices are converted on this computer (WORLD). Choose the backend per "
                      "render in the Render dialog.")  # fmt: skip
        note.setWordWrap(True)
        form.addRow("", note)
        self.save_button.clicked.connect(self._store)
        self.remove_button.clicked.connect(self._remove)
        self._show_state()

    def _store(self) -> None:
        key = self.key_edit.text().strip()
        if not key:
            return
        try:
            KeyringSecrets().set(API_KEY_NAME, key)
        except LayerError as exc:
            self.status.setText(exc.user_text())
            return
        self.key_edit.clear()
        self._show_state()

    def _remove(self) -> None:
        try:
            KeyringSecrets().delete(API_KEY_NAME)
        except LayerError as exc:
            self.status.setText(exc.user_text())
            return
        self._show_state()

    def _show_state(self) -> None:
        try:
            stored = KeyringSecrets().get(API_KEY_NAME) is not None
        except LayerError as exc:
            self.status.setText(exc.user_text())
            return
        self.status.setText("A key is stored in the system keyring." if stored else "No key stored.")
        self.remove_button.setEnabled(stored)


class OutputPage(QWidget):
    """The encoding new renders start from (codec, quality, speed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        render = load_settings(app_paths().settings_file).render
        self.codec = QComboBox()
        self.codec.addItems(["h264", "hevc"])
        self.codec.setCurrentText(render.codec)
        self.crf = QSpinBox()
        self.crf.setRange(0, 51)
        self.crf.setValue(render.crf)
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setCurrentText(render.preset)
        form = QFormLayout(self)
        form.addRow("Codec", self.codec)
        form.addRow("Quality (CRF)", self.crf)
        form.addRow("Speed (preset)", self.preset)
        for box in (self.codec, self.preset):
            box.currentIndexChanged.connect(self._save)
        self.crf.valueChanged.connect(self._save)

    def _save(self) -> None:
        settings = load_settings(app_paths().settings_file)
        render = RenderDefaults.model_validate(
            {
                **settings.render.model_dump(),
                "codec": self.codec.currentText(),
                "crf": self.crf.value(),
                "preset": self.preset.currentText(),
            }
        )
        save_settings(settings.model_copy(update={"render": render}), app_paths().settings_file)


class DisclosurePage(QWidget):
    """The visible AI mark on new renders; turning it off asks first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mark = QCheckBox("Show the visible “AI-generated” mark on renders")
        self.mark.setChecked(load_settings(app_paths().settings_file).visible_ai_mark)
        self.mark.toggled.connect(self._toggled)
        layout = QVBoxLayout(self)
        layout.addWidget(self.mark)
        note = QLabel(
            "Renders always carry the disclosure in their metadata; the visible mark tells viewers too."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)

    def _toggled(self, on: bool) -> None:
        if not on:
            answer = QMessageBox.question(
                self,
                "Turn the AI mark off?",
                "Viewers will not see that the video was changed by AI. Turn it off?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                self.mark.setChecked(True)
                return
        settings = load_settings(app_paths().settings_file)
        save_settings(settings.model_copy(update={"visible_ai_mark": on}), app_paths().settings_file)
