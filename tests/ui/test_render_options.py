"""The Render dialog's choice, checked with the engine's own types: default file names never reuse an
existing file, ranges become "keep original" segments, bad values are refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer_desktop.engine.pipeline.demo import demo_content
from layer_desktop.engine.pipeline.spec import Output, Segment
from layer_desktop.errors import InputError
from layer_desktop.paths import app_paths
from layer_desktop.ui.project_file import ProjectState
from layer_desktop.ui.render_options import RenderChoice, build_spec, default_output


def test_default_output_is_next_to_the_source_and_never_an_existing_file(tmp_path: Path) -> None:
    source = tmp_path / "concert.mov"
    assert default_output(source) == tmp_path / "concert-layer.mp4"
    (tmp_path / "concert-layer.mp4").write_bytes(b"x")
    assert default_output(source) == tmp_path / "concert-layer-2.mp4"
    (tmp_path / "concert-layer-2.mp4").write_bytes(b"x")
    assert default_output(source, "mkv") == tmp_path / "concert-layer.mkv"
    assert default_output(source) == tmp_path / "concert-layer-3.mp4"


def test_the_demo_renders_to_the_app_renders_folder_not_into_the_install() -> None:
    clip = demo_content().clip
    assert default_output(clip) == app_paths().renders_dir / f"{clip.stem}-layer.mp4"


def test_ranges_become_keep_original_segments(tmp_path: Path) -> None:
    state = ProjectState(source=str(tmp_path / "v.mp4"), persona="P", in_point=10, out_point=19,
                         segments=(Segment(start=30, stop=39, swap=None),))  # fmt: skip
    whole = build_spec(state, RenderChoice(), 50)
    assert whole.segments == state.segments and whole.output == str(tmp_path / "v-layer.mp4")
    in_out = build_spec(state, RenderChoice(range="in_out"), 50)
    off = [(s.start, s.stop) for s in in_out.segments if not s.enabled]
    assert off == [(0, 9), (20, 49)]
    assert [in_out.settings_at(f)[0] for f in (9, 10, 19, 20)] == [False, True, True, False]
    only = build_spec(state, RenderChoice(range="segments"), 50)
    assert [(s.start, s.stop) for s in only.segments if not s.enabled] == [(0, 29), (40, 49)]


def test_the_choice_reaches_the_spec_and_bad_values_are_refused(tmp_path: Path) -> None:
    state = ProjectState(source=str(tmp_path / "v.mp4"), persona="P", face="track:1")
    choice = RenderChoice(output=str(tmp_path / "out" / "x.mp4"), container="mkv",
                          output_settings=Output(codec="hevc", crf=30, preset="fast"))  # fmt: skip
    spec = build_spec(state, choice, 10)
    assert spec.output == str(tmp_path / "out" / "x.mkv") and spec.face == "track:1"
    assert (spec.output_settings.codec, spec.output_settings.crf) == ("hevc", 30)
    with pytest.raises(InputError, match="no in or out point"):
        build_spec(state, RenderChoice(range="in_out"), 10)
    with pytest.raises(InputError, match="no segments"):
        build_spec(state, RenderChoice(range="segments"), 10)
    with pytest.raises(InputError, match="no persona"):
        build_spec(state.model_copy(update={"persona": None}), RenderChoice(), 10)
