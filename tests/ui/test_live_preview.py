"""Before any render, the processed side of the viewer is the engine's live preview of the frame with
the chosen persona (a real local engine): it differs from the source on the face, and only there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.home import EngineHome
from tests.ui.studio_driver import image_array, open_window


def test_the_demo_shows_the_persona_applied_live(qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window(qtbot, EngineHome(tmp_path / "engine"))
    window.open_demo()
    qtbot.waitUntil(lambda: bool(window.persona_name) and window.document.frame_count == 100, timeout=60_000)
    assert window.viewer.mode == "side_by_side"
    window.document.request_frame(12)
    qtbot.waitUntil(lambda: window.document.current == 12, timeout=10_000)
    qtbot.waitUntil(lambda: window.viewer.has_processed, timeout=60_000)
    assert window.processed.rendered is None  # nothing rendered: this came from POST /v1/preview
    # a "why there is no processed view" shown while the demo loaded must not outlive it
    assert "persona" not in window.statusBar().currentMessage()
    window.viewer.set_mode("difference")
    diff = image_array(window.viewer.displayed_image()).astype(np.float32).mean(axis=2)
    h, w = diff.shape
    face = diff[int(h * 0.05) : int(h * 0.45), int(w * 0.3) : int(w * 0.7)]  # the astronaut's head
    corner = diff[int(h * 0.05) : int(h * 0.3), : int(w * 0.2)]  # the flag: no face there
    assert face.mean() > 4 * max(corner.mean(), 0.5), (face.mean(), corner.mean())
    window.close()
