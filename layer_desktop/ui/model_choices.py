"""Which swap-option choices need a model file, and whether it is on disk: the Re-render form greys out
a backend or enhancer whose model is missing and says how to get it."""

from __future__ import annotations

import logging

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from layer_desktop.engine.models.store import ModelStore
from layer_desktop.engine.swap.registry import GFPGAN_MODEL, INSWAPPER_MODEL
from layer_desktop.errors import LayerError

log = logging.getLogger(__name__)

# (swap option, choice) → the model it needs
NEEDS_MODEL = {("backend", "inswapper"): INSWAPPER_MODEL, ("enhancer", "gfpgan"): GFPGAN_MODEL}


def missing_models(store: ModelStore | None = None) -> set[str]:
    """The models of ``NEEDS_MODEL`` not on disk (an unreadable manifest counts them all missing)."""
    try:
        models = store or ModelStore()
        return {m for m in NEEDS_MODEL.values() if not models.status(m).present}
    except (LayerError, OSError, KeyError) as exc:
        log.warning("model status unknown: %s", exc)
        return set(NEEDS_MODEL.values())


def grey_out_missing(editors: dict[str, QWidget], missing: set[str]) -> None:
    """Disable the combo-box choices whose model is missing, with a tooltip saying how to get it."""
    for (option, choice), model in NEEDS_MODEL.items():
        combo = editors.get(option)
        if model not in missing or not isinstance(combo, QComboBox):
            continue
        items = combo.model()
        index = combo.findData(choice)
        if index < 0 or not isinstance(items, QStandardItemModel):
            continue
        item = items.item(index)
        item.setEnabled(False)
        item.setToolTip(
            f"Needs the model {model}: install it in Settings › Models or `layer models fetch {model}`."
        )
