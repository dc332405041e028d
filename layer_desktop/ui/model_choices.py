"""Which choices need a model file, and whether it is on disk: the Re-render form greys out a swap
backend or enhancer whose model is missing, the Render dialog a lip-sync backend, and both say how to
get it."""

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


def missing_lipsync_models(store: ModelStore | None = None) -> dict[str, tuple[str, ...]]:
    """Lip-sync backend → the models it needs that are not on disk (only backends missing some)."""
    # imported here: the lip-sync backends pull in ONNX Runtime and the audio stack (~0.7 s at start-up)
    from layer_desktop.engine.lipsync.backends import MODEL_IDS, MUSETALK_MODELS

    needs = {**{backend: (model,) for backend, model in MODEL_IDS.items()}, "musetalk": MUSETALK_MODELS}
    try:
        models = store or ModelStore()
        present = {m for ids in needs.values() for m in ids if models.status(m).present}
    except (LayerError, OSError, KeyError) as exc:
        log.warning("model status unknown: %s", exc)
        present = set()
    missing = {backend: tuple(m for m in ids if m not in present) for backend, ids in needs.items()}
    return {backend: ids for backend, ids in missing.items() if ids}


def disable_choice(combo: QComboBox, choice: str, why: str) -> None:
    """Grey out the item whose data is ``choice`` (it cannot be chosen), with ``why`` as its tooltip."""
    items = combo.model()
    index = combo.findData(choice)
    if index < 0 or not isinstance(items, QStandardItemModel):
        return
    item = items.item(index)
    item.setEnabled(False)
    item.setToolTip(why)


def how_to_get(models: tuple[str, ...]) -> str:
    """The tooltip of a choice whose ``models`` are missing."""
    fetch = "; ".join(f"layer models fetch {m}" for m in models)
    return f"Needs the model(s) {', '.join(models)}: install them in Settings › Models or `{fetch}`."


def grey_out_missing(editors: dict[str, QWidget], missing: set[str]) -> None:
    """Disable the combo-box choices whose model is missing, with a tooltip saying how to get it."""
    for (option, choice), model in NEEDS_MODEL.items():
        combo = editors.get(option)
        if model in missing and isinstance(combo, QComboBox):
            disable_choice(combo, choice, how_to_get((model,)))
