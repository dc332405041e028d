"""The Review panel: the flagged ranges of a render, each to accept, keep original or re-render.

The panel shows state, it does not own it: the window keeps the review states and calls ``set_ranges``
again after a decision, so what is listed is always what was stored. Keys: A accept, X keep original,
R re-render…, Shift+A accept all still to review, N / P (or Down / Up) next / previous range. A decision
moves on to the next range. (X, not O: O is the out point everywhere in the window.)
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.ui.review import REVIEW_STATES, FlaggedRange
from layer_desktop.ui.widgets.images import to_pixmap
from layer_desktop.ui.widgets.rerender_dialog import RerenderDialog

log = logging.getLogger(__name__)

NOT_RENDERED = "Render a video to review it"
NOTHING_FLAGGED = "No frames flagged — nothing to review"
TO_REVIEW = REVIEW_STATES[0]
THUMB_SIZE = QSize(128, 72)
KEY_ROLE = Qt.ItemDataRole.UserRole
REVIEW_KEYS = {Qt.Key.Key_A, Qt.Key.Key_X, Qt.Key.Key_R, Qt.Key.Key_N, Qt.Key.Key_P}


def summary_text(ranges: list[FlaggedRange] | None, states: dict[str, str]) -> str:
    """``"3 ranges to review · 1 accepted"``, or the empty-state text."""
    if ranges is None:
        return NOT_RENDERED
    if not ranges:
        return NOTHING_FLAGGED
    counts = {state: 0 for state in REVIEW_STATES}
    for rng in ranges:
        state = states.get(rng.key, TO_REVIEW)
        counts[state] = counts.get(state, 0) + 1
    parts = []
    for state, n in counts.items():
        if n and state == TO_REVIEW:
            parts.append(f"{n} range{'s' if n != 1 else ''} to review")
        elif n:
            parts.append(f"{n} {state}")
    return " · ".join(parts)


def row_text(rng: FlaggedRange, state: str) -> str:
    frames = f"{rng.frames} flagged frame{'s' if rng.frames != 1 else ''}"
    return f"{rng.reason}\n{frames} · {state}"


class ReviewPanel(QWidget):
    """Lists flagged ranges with thumbnail, reason, frame count and review state."""

    range_selected = Signal(object)  # FlaggedRange
    accepted = Signal(object)  # FlaggedRange
    keep_original = Signal(object)  # FlaggedRange
    accepted_all = Signal(object)  # list of the FlaggedRanges still to review
    rerender_requested = Signal(object, dict)  # FlaggedRange (maybe moved), {option: value text}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ranges: list[FlaggedRange] | None = None
        self._states: dict[str, str] = {}
        self._thumbs: dict[str, np.ndarray] = {}
        self._options = SwapOptions()
        self._frame_count: int | None = None
        self.pending_dialog: RerenderDialog | None = None

        self.summary = QLabel(NOT_RENDERED)
        self.summary.setObjectName("reviewSummary")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setIconSize(THUMB_SIZE)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.installEventFilter(self)
        self.accept_button = QPushButton("Accept (A)")
        self.keep_button = QPushButton("Keep original (X)")
        self.accept_all_button = QPushButton("Accept all (Shift+A)")
        self.accept_shot_button = QPushButton("Accept shot (Alt+A)")
        self.accept_shot_button.setToolTip("Accept every range still to review in the selected range's shot")
        self.rerender_button = QPushButton("Re-render… (R)")
        self.prev_button = QPushButton("Previous (P)")
        self.next_button = QPushButton("Next (N)")
        self.accept_button.clicked.connect(self.accept_current)
        self.accept_all_button.clicked.connect(self.accept_all)
        self.accept_shot_button.clicked.connect(self.accept_shot)
        self.keep_button.clicked.connect(self.keep_current)
        self.rerender_button.clicked.connect(self.rerender_current)
        self.prev_button.clicked.connect(self.select_previous)
        self.next_button.clicked.connect(self.select_next)

        decide = QHBoxLayout()
        for button in (self.accept_button, self.keep_button, self.rerender_button):
            decide.addWidget(button)
        move = QHBoxLayout()
        move.addWidget(self.prev_button)
        move.addWidget(self.next_button)
        move.addWidget(self.accept_shot_button)
        move.addWidget(self.accept_all_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(decide)
        layout.addLayout(move)
        self._update_buttons()

    # ---------------------------------------------------------------- content
    def set_options(self, options: SwapOptions, frame_count: int | None = None) -> None:
        """The swap options the Re-render… form starts from, and the video's length (bounds the range)."""
        self._options = options
        self._frame_count = frame_count

    def set_ranges(self, ranges: list[FlaggedRange] | None, states: dict[str, str] | None = None) -> None:
        """Show ``ranges`` (None: nothing rendered yet) with their review ``states`` by range key.

        The selected range stays selected when it is still listed; no ``range_selected`` is emitted.
        """
        current = self.current_range()
        self._ranges = list(ranges) if ranges is not None else None
        self._states = dict(states or {})
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for rng in self._ranges or []:
                item = QListWidgetItem(row_text(rng, self.state_of(rng)))
                item.setData(KEY_ROLE, rng.key)
                shot = f" · shot {rng.shot}" if rng.shot is not None else ""
                item.setToolTip(", ".join(rng.flags) + shot)
                self._apply_thumb(item, rng.key)
                self.list.addItem(item)
            keys = [r.key for r in self._ranges or []]
            if current is not None and current.key in keys:
                self.list.setCurrentRow(keys.index(current.key))
        finally:
            self.list.blockSignals(False)
        self.summary.setText(summary_text(self._ranges, self._states))
        self._update_buttons()

    def clear(self) -> None:
        """Back to the "render a video" state."""
        self._thumbs = {}
        self.set_ranges(None)

    def set_thumbnails(self, thumbs: dict[str, np.ndarray]) -> None:
        """RGB thumbnails by range key (from ``range_thumbnails``); GUI thread only."""
        self._thumbs.update(thumbs)
        for row in range(self.list.count()):
            item = self.list.item(row)
            self._apply_thumb(item, str(item.data(KEY_ROLE)))

    def _apply_thumb(self, item: QListWidgetItem, key: str) -> None:
        thumb = self._thumbs.get(key)
        if thumb is not None:
            item.setIcon(QIcon(to_pixmap(thumb)))

    # ---------------------------------------------------------------- queries
    @property
    def ranges(self) -> list[FlaggedRange]:
        return list(self._ranges or [])

    def state_of(self, rng: FlaggedRange) -> str:
        return self._states.get(rng.key, TO_REVIEW)

    def current_range(self) -> FlaggedRange | None:
        row = self.list.currentRow()
        ranges = self._ranges or []
        return ranges[row] if 0 <= row < len(ranges) else None

    def row_text(self, row: int) -> str:
        """The text listed for ``row`` (reason, frames, state)."""
        return self.list.item(row).text()

    # ---------------------------------------------------------------- actions
    def select_range(self, row: int) -> None:
        """Select ``row`` (clamped to the list); emits ``range_selected`` when it changes."""
        if self.list.count():
            self.list.setCurrentRow(max(0, min(row, self.list.count() - 1)))

    def select_next(self) -> None:
        self.select_range(self.list.currentRow() + 1)

    def select_previous(self) -> None:
        self.select_range(max(self.list.currentRow() - 1, 0))

    def accept_current(self) -> None:
        rng = self.current_range()
        if rng is not None:
            self.accepted.emit(rng)
            self.select_next()

    def accept_all(self) -> None:
        """Accept every listed range not decided yet (one emit with all of them)."""
        todo = [r for r in self._ranges or [] if self.state_of(r) == TO_REVIEW]
        if todo:
            self.accepted_all.emit(todo)

    def shot_ranges(self, rng: FlaggedRange) -> list[FlaggedRange]:
        """The ranges still to review in ``rng``'s shot (only ``rng`` itself when its shot is unknown)."""
        same = [r for r in self._ranges or [] if r == rng or (rng.shot is not None and r.shot == rng.shot)]
        return [r for r in same if self.state_of(r) == TO_REVIEW]

    def accept_shot(self) -> None:
        """Accept every range still to review in the selected range's shot (one emit with all of them),
        then select the next range still to review after them."""
        rng = self.current_range()
        todo = self.shot_ranges(rng) if rng is not None else []
        if not todo:
            return
        self.accepted_all.emit(todo)
        accepted = {r.key for r in todo}
        ranges = self._ranges or []
        after = [i for i, r in enumerate(ranges) if r.start > todo[-1].stop and r.key not in accepted]
        if after:
            self.select_range(after[0])

    def keep_current(self) -> None:
        rng = self.current_range()
        if rng is not None:
            self.keep_original.emit(rng)
            self.select_next()

    def rerender_current(self) -> None:
        """Open the Re-render… dialog (window-modal, ``open()``); its OK emits ``rerender_requested``."""
        rng = self.current_range()
        if rng is None or self.pending_dialog is not None:
            return
        dialog = RerenderDialog(self._options, rng, self._frame_count, self)
        dialog.accepted.connect(lambda: self.rerender_requested.emit(dialog.chosen_range(), dialog.changes()))
        dialog.accepted.connect(self.select_next)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.pending_dialog = dialog
        dialog.open()

    def _dialog_closed(self, dialog: RerenderDialog) -> None:
        if self.pending_dialog is dialog:
            self.pending_dialog = None
        dialog.deleteLater()

    # ---------------------------------------------------------------- events
    def _row_changed(self, row: int) -> None:
        self._update_buttons()
        rng = self.current_range()
        if rng is not None:
            self.range_selected.emit(rng)

    def _update_buttons(self) -> None:
        selected = self.current_range() is not None
        for button in (self.accept_button, self.keep_button, self.rerender_button):
            button.setEnabled(selected)
        current = self.current_range()
        self.accept_shot_button.setEnabled(current is not None and bool(self.shot_ranges(current)))
        count = len(self._ranges or [])
        self.accept_all_button.setEnabled(any(self.state_of(r) == TO_REVIEW for r in self._ranges or []))
        self.prev_button.setEnabled(count > 0)
        self.next_button.setEnabled(count > 0)

    def _handle_key(self, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key.Key_A and event.modifiers() == Qt.KeyboardModifier.ShiftModifier:
            self.accept_all()
            return True
        if event.key() == Qt.Key.Key_A and event.modifiers() == Qt.KeyboardModifier.AltModifier:
            self.accept_shot()
            return True
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        action = {
            Qt.Key.Key_A: self.accept_current,
            Qt.Key.Key_X: self.keep_current,
            Qt.Key.Key_R: self.rerender_current,
            Qt.Key.Key_N: self.select_next,
            Qt.Key.Key_P: self.select_previous,
        }.get(Qt.Key(event.key()))
        if action is None:
            return False
        action()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # the list would use letters for its type-ahead search; here they are the review keys
        if watched is self.list and event.type() == QEvent.Type.ShortcutOverride:
            # the window's one-letter shortcuts (O: out point) give way while the list has focus
            assert isinstance(event, QKeyEvent)
            if not event.modifiers() and event.key() in REVIEW_KEYS:
                event.accept()
                return True
        if watched is self.list and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if self._handle_key(event):
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._handle_key(event):
            super().keyPressEvent(event)
