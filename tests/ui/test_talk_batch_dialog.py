"""The studio's catalogue batch: File › Talking heads for a catalogue, a CSV with a good product and one
whose picture has no face; each product's row appears as it finishes, with the error and what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.ui.main_window import MainWindow
from tests.conftest import SHARED_MEDIA
from tests.engine.talking.test_talk_inputs import product_shot

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("LAYER_SCREENSHOTS")


def test_the_batch_dialog_fills_a_row_per_product_and_names_the_failure(qtbot: QtBot, tmp_path: Path) -> None:
    product_shot(tmp_path)
    catalogue = tmp_path / "products.csv"
    grace = SHARED_MEDIA / "faces" / "grace_hopper.jpg"
    catalogue.write_text(
        f"id,name,description,image\nM1,Blue mug,Keeps coffee warm.,{grace}\nL1,Lamp,,product.png\n"
    )
    window = MainWindow()
    qtbot.addWidget(window)
    window.actions_by_name["talking_head_batch"].trigger()
    dialog = window.talk_batch_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.catalogue.setText(str(catalogue))
    dialog.out_dir.setText(str(tmp_path / "videos"))
    dialog.org.setText("acme")
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled() or window.last_error is not None, timeout=120_000)
    assert window.last_error is None, window.last_error
    rows = [[dialog.table.item(r, c).text() for c in range(4)] for r in range(dialog.table.rowCount())]
    assert [r[:2] for r in rows] == [["M1", "made"], ["L1", "failed"]]
    assert (
        rows[0][2].startswith("acme/videos/ai-generated/M1-") and (tmp_path / "videos" / rows[0][2]).is_file()
    )
    assert "No face" in rows[1][2] and "persona" in dialog.table.item(1, 2).toolTip()
    assert "1 made, 1 failed" in dialog.status.text() and (tmp_path / "videos" / "report.csv").is_file()
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "talk_batch_dialog.png"))
    window.close()
