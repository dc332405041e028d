"""Project files: exact save/load, clear errors, undoable edits, debounced autosave, recent files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.engine.pipeline.spec import Segment, TransformSpec
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.errors import InputError
from layer_desktop.ui.project import (
    ProjectDocument,
    ProjectState,
    autosave_file,
    load_project,
    recent_projects,
    recover_autosave,
    remember_recent,
    save_project,
)


def full_state() -> ProjectState:
    return ProjectState(
        source="/videos/talk.mp4",
        persona="Ada",
        segments=(
            Segment(start=0, stop=24, persona="Bea", swap=SwapOptions(feather=0.2)),
            Segment(start=50, stop=80, enabled=False),
        ),
        markers=(3, 40),
        in_point=2,
        out_point=90,
        job_id="job-1",
        output="/renders/talk_ada.mp4",
        review={"0-24": "accepted", "50-80": "original"},
        current_frame=17,
        compare_mode="original",
    )


@pytest.fixture
def doc(qtbot: QtBot) -> Iterator[ProjectDocument]:
    d = ProjectDocument(ProjectState(source="/v.mp4", persona="Ada"), frame_count=100, autosave_ms=50)
    yield d
    d._autosave.stop()


def test_save_load_round_trip_is_equal(tmp_path: Path) -> None:
    path = tmp_path / "p.layer"
    save_project(path, full_state())
    assert load_project(path) == full_state()
    assert json.loads(path.read_text())["schema_version"] == 1


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "p.layer"
    save_project(path, ProjectState(persona="one"))
    save_project(path, full_state())
    assert [p.name for p in tmp_path.iterdir()] == ["p.layer"]
    assert load_project(path).persona == "Ada"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema_version": 99, "persona": "x"}', "newer Layer Desktop"),
        ('{"schema_version": 1, "segments": [{"start": 5, "stop": 1}]}', "bad value"),
        ("[1, 2]", "not a Layer project"),
    ],
)
def test_bad_files_raise_input_error_naming_the_file(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "bad.layer"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_project(path)
    assert words in str(info.value) and str(path) in str(info.value)


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found") as info:
        load_project(tmp_path / "gone.layer")
    assert "gone.layer" in str(info.value)


def test_segment_edits_undo_and_redo_to_exact_states(doc: ProjectDocument) -> None:
    states = [doc.state]
    doc.add_segment(10, 40, persona="Bea")
    states.append(doc.state)
    doc.add_segment(41, 60, enabled=False)
    states.append(doc.state)
    doc.update_segment(0, stop=30, swap=SwapOptions(feather=0.3))
    states.append(doc.state)
    doc.split_segment(0, 20)
    states.append(doc.state)
    doc.merge_segments(0)
    states.append(doc.state)
    doc.remove_segment(1)
    states.append(doc.state)

    assert [s.segments for s in states[1:3]] == [
        (Segment(start=10, stop=40, persona="Bea"),),
        (Segment(start=10, stop=40, persona="Bea"), Segment(start=41, stop=60, enabled=False)),
    ]
    split = states[4].segments
    assert [(s.start, s.stop, s.persona) for s in split[:2]] == [(10, 19, "Bea"), (20, 30, "Bea")]
    assert split[0].swap == SwapOptions(feather=0.3)
    assert states[5].segments[0] == Segment(start=10, stop=30, persona="Bea", swap=SwapOptions(feather=0.3))
    assert states[6].segments == (states[5].segments[0],)
    assert doc.undo_stack.count() == 6 and doc.undo_stack.undoText() == "Remove segment"

    for expected in reversed(states[:-1]):
        doc.undo_stack.undo()
        assert doc.state == expected
    for expected in states[1:]:
        doc.undo_stack.redo()
        assert doc.state == expected


def test_other_edits_are_undoable_and_view_state_is_not(doc: ProjectDocument) -> None:
    seen: list[ProjectState] = []
    doc.changed.connect(seen.append)
    before = doc.state
    doc.set_persona("Bea")
    doc.set_in(5)
    doc.set_out(50)
    doc.add_marker(30)
    doc.add_marker(10)
    doc.set_review("10-20", "rerendered")
    doc.set_job("j-7", "/out.mp4")
    after = doc.state
    assert (after.persona, after.in_point, after.out_point, after.markers) == ("Bea", 5, 50, (10, 30))
    assert after.review == {"10-20": "rerendered"} and (after.job_id, after.output) == ("j-7", "/out.mp4")
    doc.set_view(current_frame=42, compare_mode="split")
    assert doc.state.current_frame == 42 and doc.undo_stack.count() == 7
    for _ in range(7):
        doc.undo_stack.undo()
    assert doc.state == before.model_copy(update={"current_frame": 42, "compare_mode": "split"})
    assert len(seen) == 15 and seen[-1] == doc.state


def test_invalid_edits_raise_input_error_and_push_nothing(doc: ProjectDocument) -> None:
    doc.add_segment(10, 20)
    bad = [
        lambda: doc.add_segment(30, 10),
        lambda: doc.add_segment(90, 100),  # frame 100 is past the last frame (99)
        lambda: doc.update_segment(0, colour="red"),
        lambda: doc.update_segment(3, stop=5),
        lambda: doc.split_segment(0, 10),
        lambda: doc.merge_segments(0),
        lambda: doc.set_in(200),
        lambda: doc.remove_marker(7),
        lambda: doc.set_review("x", "accepted"),
        lambda: doc.set_review("1-2", "maybe"),
    ]
    for edit in bad:
        with pytest.raises(InputError) as info:
            edit()
        assert info.value.hint
    doc.set_out(15)
    with pytest.raises(InputError, match="after the out point"):
        doc.set_in(16)
    assert doc.undo_stack.count() == 2


def test_autosave_writes_the_project_file_after_the_debounce(doc: ProjectDocument, qtbot: QtBot,
                                                              tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "mine.layer"
    doc.save(path)
    assert not doc.is_dirty
    dirty: list[bool] = []
    doc.dirty_changed.connect(dirty.append)
    doc.add_segment(1, 9, persona="Bea")
    assert doc.is_dirty and load_project(path).segments == ()
    qtbot.waitUntil(lambda: load_project(path).segments == doc.state.segments, timeout=3000)
    assert not doc.is_dirty and dirty == [True, False]
    assert recent_projects() == [path.resolve()]


def test_untitled_autosave_is_recoverable(doc: ProjectDocument, qtbot: QtBot, tmp_path: Path) -> None:
    assert recover_autosave() is None
    doc.add_segment(5, 15)
    doc.set_view(current_frame=12)
    with qtbot.waitSignal(doc.autosaved, timeout=3000) as blocker:
        pass
    assert blocker.args == [autosave_file()]
    assert recover_autosave() == doc.state
    assert doc.is_dirty  # the user's own file is still unsaved
    doc.save(tmp_path / "named.layer")
    assert not autosave_file().exists() and recover_autosave() is None


def test_open_remembers_recent_and_loads_the_state(tmp_path: Path, qtbot: QtBot) -> None:
    path = tmp_path / "p.layer"
    save_project(path, full_state())
    opened = ProjectDocument.open(path, frame_count=100)
    assert opened.state == full_state() and opened.path == path and not opened.is_dirty
    assert recent_projects() == [path.resolve()]


def test_recent_files_most_recent_first_deduped_capped_and_pruned(tmp_path: Path) -> None:
    files = [tmp_path / f"p{i}.layer" for i in range(12)]
    for f in files:
        f.write_text("{}")
        remember_recent(f)
    remember_recent(files[3])
    recent = recent_projects()
    assert recent[0] == files[3].resolve() and len(recent) == 10 and len(set(recent)) == 10
    assert recent[1:3] == [files[11].resolve(), files[10].resolve()]
    files[11].unlink()
    assert files[11].resolve() not in recent_projects()


def test_to_spec_builds_a_valid_transform_spec() -> None:
    state = full_state()
    spec = state.to_spec("/out/final.mp4")
    assert isinstance(spec, TransformSpec)
    assert (spec.source, spec.output, spec.persona) == ("/videos/talk.mp4", "/out/final.mp4", "Ada")
    assert spec.segments == state.segments
    assert spec.settings_at(10)[1] == "Bea" and spec.settings_at(60)[0] is False
    assert TransformSpec.model_validate_json(spec.model_dump_json()) == spec
    with pytest.raises(InputError, match="no persona"):
        ProjectState(source="/v.mp4").to_spec("/o.mp4")


def test_keyframes_are_undoable_saved_and_reach_the_spec(doc: ProjectDocument, tmp_path: Path) -> None:
    doc.add_segment(0, 49)
    doc.set_keyframe(0, "blend", 0, 0.0)
    doc.set_keyframe(0, "blend", 49, 1.0)
    doc.set_keyframe(0, "blend", 49, 0.9)  # same option and frame: replaced, not added
    keys = doc.state.segments[0].keyframes
    assert [(k.option, k.frame, k.value) for k in keys] == [("blend", 0, 0.0), ("blend", 49, 0.9)]
    doc.undo_stack.undo()
    assert doc.state.segments[0].keyframes[-1].value == 1.0
    doc.undo_stack.redo()
    with pytest.raises(InputError, match="not inside segment"):
        doc.set_keyframe(0, "blend", 60, 0.5)
    with pytest.raises(InputError, match="Bad keyframe"):
        doc.set_keyframe(0, "blend", 10, 1.5)
    doc.save(tmp_path / "k.layer")
    again = load_project(tmp_path / "k.layer")
    assert again.segments[0].keyframes == doc.state.segments[0].keyframes
    assert again.to_spec("o.mp4").keyframed_at(20)[1] == pytest.approx(0.9 * 20 / 49)
