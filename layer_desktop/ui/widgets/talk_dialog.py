"""File › New talking head: a photo (dropped or chosen) or a persona, the script with its character
count, a voice and a size; Preview plays the first seconds here, Render sends it to the queue.

The dialog only builds the ``TalkSpec`` and shows frames; the window does the work (``ui.talk_actions``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.talking.spec import MAX_SCRIPT, TalkSpec
from layer_desktop.ui.widgets.images import to_pixmap

PHOTO_CHOICE = "(the photo above)"
VOICES = ("en", "en-us", "en-gb", "en+f3", "en+m3", "de", "fr", "es")
SIZES = ("from the photo", "512", "720", "1080", "1280x720")
PREVIEW_SIDE = 320


class TalkDialog(QDialog):
    preview_requested = Signal()  # the window reads ``spec()`` and shows any error in its one dialog
    render_requested = Signal()

    def __init__(self, personas: list[str], output: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New talking head")
        self.setAcceptDrops(True)
        self.photo = QLineEdit()
        self.photo.setPlaceholderText("Drop a photo with a face here, or choose one")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_photo)
        self.persona = QComboBox()
        self.persona.addItems([PHOTO_CHOICE, *personas])
        self.script = QPlainTextEdit()
        self.script.setPlaceholderText("What the face says")
        self.count = QLabel()
        self.script.textChanged.connect(self._count)
        self.voice = QComboBox()
        self.voice.setEditable(True)
        self.voice.addItems(VOICES)
        self.size = QComboBox()
        self.size.setEditable(True)
        self.size.addItems(SIZES)
        self.output = QLineEdit(str(output))
        self.preview = QLabel("Preview: the first seconds play here")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.status = QLabel()
        self.preview_button = QPushButton("Preview")
        self.render_button = QPushButton("Render")
        self.render_button.setDefault(True)
        self.preview_button.clicked.connect(self.preview_requested.emit)
        self.render_button.clicked.connect(self.render_requested.emit)
        self._frames: list[QPixmap] = []
        self._shown = 0
        self._timer = QTimer(self)
        self._timer.setInterval(40)  # 25 fps
        self._timer.timeout.connect(self._next_frame)
        self._layout(browse)
        self._count()

    def _layout(self, browse: QPushButton) -> None:
        photo_row = QHBoxLayout()
        photo_row.addWidget(self.photo, 1)
        photo_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Photo", photo_row)
        form.addRow("Or persona", self.persona)
        form.addRow("Script", self.script)
        form.addRow("", self.count)
        form.addRow("Voice", self.voice)
        form.addRow("Size", self.size)
        form.addRow("Save as", self.output)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.render_button)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.preview)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)

    # ------------------------------------------------------------------ input
    def _choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Photo with a face", "", "Images (*.png *.jpg *.jpeg *.webp)"
        )
        if path:
            self.photo.setText(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.photo.setText(urls[0])
            self.persona.setCurrentIndex(0)

    def _count(self) -> None:
        n = len(self.script.toPlainText())
        over = n > MAX_SCRIPT
        self.count.setText(f"{n} / {MAX_SCRIPT} characters" + (" — too long" if over else ""))
        self.count.setStyleSheet("color: #d33;" if over else "")

    def spec(self) -> TalkSpec:
        """The spec of the fields. Raises ``ValidationError`` for a combination that cannot be used."""
        persona = self.persona.currentText() if self.persona.currentIndex() > 0 else None
        size = self.size.currentText().strip()
        return TalkSpec.model_validate(
            {
                "photo": None if persona else (self.photo.text().strip() or None),
                "persona": persona,
                "script": self.script.toPlainText(),
                "voice": self.voice.currentText().strip() or "en",
                "size": None if size == SIZES[0] else size,
                "output": self.output.text().strip(),
            }
        )

    # ------------------------------------------------------------------ preview
    def show_preview(self, frames: list[np.ndarray]) -> None:
        """Play ``frames`` (RGB) in a loop in the preview box (GUI thread)."""
        self._frames = [
            to_pixmap(f).scaled(
                PREVIEW_SIDE, PREVIEW_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            for f in frames
        ]  # fmt: skip
        self._shown = 0
        if self._frames:
            self._timer.start()
            self._next_frame()

    @property
    def previewing(self) -> bool:
        return self._timer.isActive()

    def _next_frame(self) -> None:
        if not self._frames:
            return
        self.preview.setPixmap(self._frames[self._shown % len(self._frames)])
        self._shown += 1

    def closeEvent(self, event: object) -> None:  # type: ignore[override]
        self._timer.stop()
        super().closeEvent(event)  # type: ignore[arg-type]
