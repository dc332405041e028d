"""Flagged ranges of a render: grouping, thumbnails, the Review panel and the Re-render… dialog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox
from pytestqt.qtbot import QtBot

from layer_desktop.engine.pipeline.records import FLAGS, FrameRecord
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.ui.review import FLAG_TEXT, FlaggedRange, flagged_ranges, range_thumbnails
from layer_desktop.ui.widgets.rerender_dialog import RerenderDialog
from layer_desktop.ui.widgets.review_panel import NOT_RENDERED, NOTHING_FLAGGED, ReviewPanel
from tests.conftest import SHARED_MEDIA


def _records(n: int, flagged: Mapping[int, tuple[str, ...]]) -> list[dict[str, Any]]:
    return [
        FrameRecord(
            frame=i, faces_found=0 if "no_face" in flagged.get(i, ()) else 1, track=0, confidence=0.9,
            presence=0.9, jitter=0.001, applied=True, skip_reason=None, backend="landmark",
            flags=flagged.get(i, ()),
        ).to_dict()
        for i in range(n)
    ]  # fmt: skip


def test_a_run_of_no_face_frames_is_one_range_with_a_readable_reason() -> None:
    records = _records(100, {i: ("no_face",) for i in range(30, 50)})
    (rng,) = flagged_ranges(records)
    assert (rng.start, rng.stop, rng.frames, rng.flags) == (30, 49, 20, ("no_face",))
    assert rng.key == "30-49"
    assert rng.reason == "No face found (frames 30–49)"


def test_separate_runs_stay_separate_and_sorted_and_flags_are_united() -> None:
    flagged = {70: ("jitter_spike",), 71: ("low_confidence", "jitter_spike"), 10: ("face_lost",)}
    ranges = flagged_ranges(list(reversed(_records(100, flagged))))
    assert [(r.start, r.stop, r.frames) for r in ranges] == [(10, 10, 1), (70, 71, 2)]
    assert ranges[1].flags == ("low_confidence", "jitter_spike")  # the engine's order
    assert ranges[0].reason == "Face lost (frame 10)"
    assert "Low detection confidence" in ranges[1].reason and "Jitter spike" in ranges[1].reason


def test_gap_merges_nearby_runs_only_within_the_gap() -> None:
    flagged = {i: ("low_similarity",) for i in (10, 11, 14, 20)}
    records = _records(30, flagged)
    assert [r.key for r in flagged_ranges(records)] == ["10-11", "14-14", "20-20"]
    assert [r.key for r in flagged_ranges(records, gap=2)] == ["10-14", "20-20"]
    merged = flagged_ranges(records, gap=5)
    assert [(r.key, r.frames) for r in merged] == [("10-20", 4)]


def test_every_engine_flag_has_readable_text() -> None:
    assert set(FLAG_TEXT) == set(FLAGS)
    for name in FLAGS:
        rng = FlaggedRange(1, 2, (name,), 2)
        assert "_" not in rng.reason and rng.reason.endswith("(frames 1–2)")


def test_no_flags_no_ranges() -> None:
    assert flagged_ranges(_records(50, {})) == []


def test_range_thumbnails_decode_the_middle_frame_at_the_asked_height() -> None:
    video = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
    ranges = [FlaggedRange(0, 10, ("no_face",), 11), FlaggedRange(40, 60, ("jitter_spike",), 3)]
    thumbs = range_thumbnails(video, ranges)
    assert set(thumbs) == {"0-10", "40-60"}
    for thumb in thumbs.values():
        assert thumb.dtype.name == "uint8" and thumb.shape[0] == 72 and thumb.shape[2] == 3
        assert thumb.shape[1] > 0 and thumb.std() > 1  # a real picture, not a blank
    assert range_thumbnails(video, ranges, height=36)["0-10"].shape[0] == 36


RANGES = [
    FlaggedRange(10, 19, ("no_face",), 10),
    FlaggedRange(40, 44, ("jitter_spike",), 5),
    FlaggedRange(80, 80, ("low_similarity",), 1),
]


@pytest.fixture
def panel(qtbot: QtBot) -> ReviewPanel:
    widget = ReviewPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_panel_empty_states(panel: ReviewPanel) -> None:
    assert panel.summary.text() == NOT_RENDERED
    panel.set_ranges([], {})
    assert panel.summary.text() == NOTHING_FLAGGED and panel.list.count() == 0
    assert not panel.accept_button.isEnabled()


def test_panel_lists_ranges_with_reason_frames_and_state(panel: ReviewPanel) -> None:
    panel.set_ranges(RANGES, {"40-44": "accepted"})
    assert panel.list.count() == 3
    assert "No face found (frames 10–19)" in panel.row_text(0) and "10 flagged frames" in panel.row_text(0)
    assert panel.row_text(0).endswith("to review") and panel.row_text(1).endswith("accepted")
    assert panel.summary.text() == "2 ranges to review · 1 accepted"


def test_keys_move_through_ranges_and_emit_range_selected(qtbot: QtBot, panel: ReviewPanel) -> None:
    panel.set_ranges(RANGES, {})
    seen: list[FlaggedRange] = []
    panel.range_selected.connect(seen.append)
    qtbot.keyClick(panel.list, Qt.Key.Key_N)
    qtbot.keyClick(panel.list, Qt.Key.Key_N)
    qtbot.keyClick(panel.list, Qt.Key.Key_N)
    qtbot.keyClick(panel.list, Qt.Key.Key_N)  # stays on the last one
    qtbot.keyClick(panel.list, Qt.Key.Key_P)
    assert [r.key for r in seen] == ["10-19", "40-44", "80-80", "40-44"]
    assert panel.current_range() == RANGES[1]


def test_accept_emits_and_the_state_shows_after_set_ranges(qtbot: QtBot, panel: ReviewPanel) -> None:
    panel.set_ranges(RANGES, {})
    panel.select_range(1)
    states: dict[str, str] = {}
    panel.accepted.connect(lambda r: states.__setitem__(r.key, "accepted"))
    panel.keep_original.connect(lambda r: states.__setitem__(r.key, "kept original"))
    selected: list[FlaggedRange] = []
    panel.range_selected.connect(selected.append)
    qtbot.keyClick(panel.list, Qt.Key.Key_A)
    assert states == {"40-44": "accepted"}
    assert panel.current_range() == RANGES[2] and selected == [RANGES[2]]  # on to the next range
    panel.set_ranges(RANGES, states)
    assert panel.row_text(1).endswith("accepted") and panel.current_range() == RANGES[2]
    assert selected == [RANGES[2]]  # refreshing keeps the selection without re-announcing it
    qtbot.keyClick(panel.list, Qt.Key.Key_X)  # keep original (X: O stays the out point)
    panel.set_ranges(RANGES, states)
    assert panel.row_text(2).endswith("kept original")
    assert panel.summary.text() == "1 range to review · 1 accepted · 1 kept original"
    accepted_all: list[list[FlaggedRange]] = []
    panel.accepted_all.connect(accepted_all.append)
    qtbot.keyClick(panel.list, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert accepted_all == [[RANGES[0]]]  # only what was still to review


def test_thumbnails_become_row_icons(panel: ReviewPanel) -> None:
    import numpy as np

    panel.set_ranges(RANGES, {})
    assert panel.list.item(0).icon().isNull()
    panel.set_thumbnails({"10-19": np.full((72, 128, 3), 200, np.uint8)})
    assert not panel.list.item(0).icon().isNull() and panel.list.item(1).icon().isNull()


def test_rerender_dialog_opens_and_emits_the_changes(qtbot: QtBot, panel: ReviewPanel) -> None:
    panel.set_ranges(RANGES, {})
    panel.set_options(SwapOptions(feather=0.1), frame_count=100)
    panel.select_range(0)
    requests: list[tuple[FlaggedRange, dict[str, str]]] = []
    panel.rerender_requested.connect(lambda r, c: requests.append((r, c)))
    qtbot.keyClick(panel.list, Qt.Key.Key_R)
    dialog = panel.pending_dialog
    assert dialog is not None and dialog.isVisible()
    feather = dialog.editors["feather"]
    assert isinstance(feather, QDoubleSpinBox) and feather.value() == pytest.approx(0.1)
    feather.setValue(0.2)
    dialog.stop_box.setValue(25)
    dialog.accept()
    assert requests == [(FlaggedRange(10, 25, ("no_face",), 10), {"feather": "0.2"})]
    assert panel.pending_dialog is None


def test_rerender_dialog_returns_only_changed_fields_with_bounds_from_swap_options(qtbot: QtBot) -> None:
    dialog = RerenderDialog(SwapOptions(), RANGES[0], frame_count=100)
    qtbot.addWidget(dialog)
    assert dialog.changes() == {}
    assert dialog.frame_range() == (10, 19)
    feather = dialog.editors["feather"]
    assert isinstance(feather, QDoubleSpinBox)
    assert (feather.minimum(), feather.maximum()) == (0.0, 0.5)
    feather.setValue(0.9)  # clamped by the pydantic bound
    assert feather.value() == 0.5
    smoothing = dialog.editors["smoothing"]
    assert isinstance(smoothing, QDoubleSpinBox) and smoothing.maximum() == 10.0
    mouth = dialog.editors["keep_mouth"]
    assert isinstance(mouth, QCheckBox) and mouth.isChecked()
    mouth.setChecked(False)
    backend = dialog.editors["backend"]
    assert isinstance(backend, QComboBox)
    assert [backend.itemText(i) for i in range(backend.count())] == ["landmark", "inswapper"]
    boost = dialog.editors["pixel_boost"]
    assert isinstance(boost, QComboBox)
    boost.setCurrentIndex(boost.findText("2"))
    assert dialog.changes() == {"feather": "0.5", "keep_mouth": "false", "pixel_boost": "2"}
    mouth.setChecked(True)  # back to the preset: no longer a change
    assert dialog.changes() == {"feather": "0.5", "pixel_boost": "2"}
    assert dialog.stop_box.maximum() == 99
