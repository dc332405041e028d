"""The Re-render… dialog: a form generated from ``SwapOptions`` plus the frame range to render again.

Widgets come from the pydantic fields (bool → check box, bounded float → spin box, ``Literal`` → combo
box), so a new swap option shows up here without UI code. ``changes()`` returns only what the user
changed, as ``key=value`` strings — the same shape as the CLI's ``--set``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.ui.model_choices import grey_out_missing, missing_models
from layer_desktop.ui.review import FlaggedRange

log = logging.getLogger(__name__)

FLOAT_DECIMALS = 3
FALLBACK_BOUNDS = (-1e6, 1e6)


def as_text(value: Any) -> str:
    """A field value as ``--set`` text: ``true``/``false``, ``0.2`` (no float noise), ``landmark``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, FLOAT_DECIMALS))
    return str(value)


def field_bounds(info: FieldInfo) -> tuple[float, float]:
    """(minimum, maximum) from a pydantic field's ``ge``/``gt``/``le``/``lt`` metadata."""
    low, high = FALLBACK_BOUNDS
    for item in info.metadata:
        for name in ("ge", "gt"):
            if getattr(item, name, None) is not None:
                low = float(getattr(item, name))
        for name in ("le", "lt"):
            if getattr(item, name, None) is not None:
                high = float(getattr(item, name))
    return low, high


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class RerenderDialog(QDialog):
    """Choose new swap settings and a frame range for a flagged range; use ``open()``, read ``changes()``."""

    def __init__(
        self,
        options: SwapOptions,
        rng: FlaggedRange,
        frame_count: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Re-render frames")
        self.setMinimumWidth(420)  # the title bar shows the whole title
        self.options = options
        self.range = rng
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout()
        last = max(frame_count - 1, rng.stop) if frame_count else max(rng.stop, 1_000_000)
        self.start_box = self._frame_box(rng.start, last)
        self.stop_box = self._frame_box(rng.stop, last)
        form.addRow("First frame", self.start_box)
        form.addRow("Last frame", self.stop_box)
        for name, info in SwapOptions.model_fields.items():
            editor = self._editor(info, getattr(options, name))
            editor.setObjectName(name)
            self.editors[name] = editor
            form.addRow(_label(name), editor)
        grey_out_missing(self.editors, missing_models())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Re-render")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.start_box.valueChanged.connect(lambda v: self.stop_box.setMinimum(v))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(rng.reason))
        layout.addLayout(form)
        layout.addWidget(buttons)

    @staticmethod
    def _frame_box(value: int, last: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(0, last)
        box.setValue(value)
        return box

    @staticmethod
    def _editor(info: FieldInfo, value: Any) -> QWidget:
        annotation = info.annotation
        if get_origin(annotation) is Literal:
            combo = QComboBox()
            choices = get_args(annotation)
            for choice in choices:
                combo.addItem(str(choice), choice)
            combo.setCurrentIndex(choices.index(value))
            return combo
        if annotation is bool:
            check = QCheckBox()
            check.setChecked(bool(value))
            return check
        if annotation is float:
            spin = QDoubleSpinBox()
            spin.setDecimals(FLOAT_DECIMALS)
            low, high = field_bounds(info)
            spin.setRange(low, high)
            spin.setSingleStep(0.01 if high - low <= 1 else 0.1)
            spin.setValue(float(value))
            return spin
        if annotation is int:
            box = QSpinBox()
            low, high = field_bounds(info)
            box.setRange(int(max(low, -(2**31))), int(min(high, 2**31 - 1)))
            box.setValue(int(value))
            return box
        log.warning("no editor for swap option type %r; shown read-only", annotation)
        return QLabel(str(value))

    def value_of(self, name: str) -> Any:
        """The value the form holds now for swap option ``name``."""
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QDoubleSpinBox | QSpinBox):
            return editor.value()
        return getattr(self.options, name)

    def changes(self) -> dict[str, str]:
        """Only the swap options changed from the preset, as ``{"feather": "0.2", "keep_mouth": "false"}``."""
        changed: dict[str, str] = {}
        for name in self.editors:
            text = as_text(self.value_of(name))
            if text != as_text(getattr(self.options, name)):
                changed[name] = text
        return changed

    def frame_range(self) -> tuple[int, int]:
        """The chosen (first, last) frame, inclusive."""
        return self.start_box.value(), max(self.start_box.value(), self.stop_box.value())

    def chosen_range(self) -> FlaggedRange:
        """The reviewed range, moved to the chosen frames when the user changed them."""
        start, stop = self.frame_range()
        if (start, stop) == (self.range.start, self.range.stop):
            return self.range
        return replace(self.range, start=start, stop=stop)
