"""The bar under the viewer: play/pause and shuttle speed, the frame position, the compare mode,
overlays and zoom — each a button for the mouse, each also a shortcut in the menus."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from layer_desktop.ui.playback import Player
from layer_desktop.ui.widgets.viewer import ViewerView

MODES = (
    ("source", "Source"),
    ("processed", "Processed"),
    ("side_by_side", "Side by side"),
    ("wipe", "Wipe"),
    ("difference", "Difference"),
)


class TransportBar(QWidget):
    def __init__(self, player: Player, viewer: ViewerView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player, self.viewer = player, viewer
        self.play_button = QPushButton(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play")
        self.play_button.setToolTip("Play / pause (Space); J, K, L shuttle")
        self.speed_label = QLabel("")
        self.mode_box = QComboBox()
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("Compare mode (1–5); B toggles source/processed")
        self.overlays = QCheckBox("Faces")
        self.overlays.setToolTip("Face boxes, track ids and landmarks (Ctrl+Shift+F)")
        fit, actual = QPushButton("Fit"), QPushButton("100%")
        self.zoom_out, self.zoom_in = QPushButton("−"), QPushButton("+")
        fit.setToolTip("Zoom to fit (Ctrl+0)")
        actual.setToolTip("Zoom 100% (Ctrl+1)")
        self.zoom_out.setToolTip("Zoom out, down to 10% (Ctrl+-)")
        self.zoom_in.setToolTip("Zoom in, up to 800% (Ctrl+=)")
        for button in (self.zoom_out, self.zoom_in):
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("100%") + 16)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        for w in (self.play_button, self.speed_label):
            layout.addWidget(w)
        layout.addStretch(1)
        for w in (QLabel("View:"), self.mode_box, self.overlays, self.zoom_out, fit, actual, self.zoom_in):
            layout.addWidget(w)
        self.play_button.clicked.connect(player.toggle)
        player.state_changed.connect(self._on_speed)
        self.mode_box.currentIndexChanged.connect(lambda _i: viewer.set_mode(self.mode_box.currentData()))
        viewer.mode_changed.connect(self._on_mode)
        viewer.set_overlays_visible(False)
        self.overlays.toggled.connect(viewer.set_overlays_visible)
        fit.clicked.connect(viewer.zoom_fit)
        actual.clicked.connect(viewer.zoom_actual)
        self.zoom_out.clicked.connect(viewer.zoom_out)
        self.zoom_in.clicked.connect(viewer.zoom_in)

    def _on_speed(self, speed: float) -> None:
        # the style's own icons: "⏸" is missing from many fonts (it drew as a box)
        icon = QStyle.StandardPixmap.SP_MediaPause if speed else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if speed else "Play")
        self.speed_label.setText("" if speed in (0.0, 1.0) else f"{speed:+g}×")

    def _on_mode(self, mode: str) -> None:
        index = self.mode_box.findData(mode)
        if index >= 0 and index != self.mode_box.currentIndex():
            self.mode_box.blockSignals(True)
            self.mode_box.setCurrentIndex(index)
            self.mode_box.blockSignals(False)
