"""Every output setting is typed with its real domain, at the engine API (pydantic), in code (the
``OutputSettings`` dataclass) and at the encoder (one that still refuses names the setting)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from pydantic import ValidationError

from layer_desktop.engine.media.domain import PRESETS
from layer_desktop.engine.media.encode import OutputSettings, add_video_stream
from layer_desktop.engine.pipeline import TransformSpec
from layer_desktop.engine.pipeline.plan import smooth_runs
from layer_desktop.engine.pipeline.spec import parse_face
from layer_desktop.errors import EncodeError, InputError

BASE: dict[str, Any] = {"source": "in.mp4", "output": "out.mp4", "persona": "Grace"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"output_settings": {"preset": "bogus"}}, "preset"),
        ({"output_settings": {"preset": "fast:keyint=1"}}, "preset"),
        ({"output_settings": {"codec": "hevc", "preset": "nope"}}, "preset"),
        ({"output_settings": {"crf": -5}}, "crf"),
        ({"output_settings": {"crf": 99}}, "crf"),
        ({"output_settings": {"codec": "vp9"}}, "codec"),
        ({"output_settings": {"chunk_frames": 0}}, "chunk_frames"),
        ({"output_settings": {"chunk_frames": -3}}, "chunk_frames"),
        ({"output_settings": {"chunk_frames": 10_001}}, "chunk_frames"),
        ({"disclosure": {"text": ""}}, "visible mark needs a text"),
        ({"disclosure": {"text": "   "}}, "visible mark needs a text"),
        ({"disclosure": {"text": "x" * 121}}, "text"),
        ({"disclosure": {"text": "AI\x00"}}, "control"),
        ({"schema_version": 999}, "schema_version"),
        ({"output": "x" * 200_000}, "output"),
        ({"output": "dir/" + "x" * 300 + ".mp4"}, "longer than 255 bytes"),
        ({"output": "a\nb.mp4"}, "control"),
        ({"output": "folder/"}, "not a folder"),
        ({"output": ""}, "empty"),
        ({"face": "1,1@99999999999"}, "out of range"),
    ],
)
def test_values_outside_their_domain_are_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        TransformSpec.model_validate({**BASE, **change})


def test_the_edges_of_each_domain_are_accepted() -> None:
    for preset in PRESETS:
        for codec in ("h264", "hevc"):
            TransformSpec.model_validate({**BASE, "output_settings": {"codec": codec, "preset": preset}})
    for crf, chunk in ((0, 1), (51, 10_000)):
        TransformSpec.model_validate({**BASE, "output_settings": {"crf": crf, "chunk_frames": chunk}})
    spec = TransformSpec.model_validate({**BASE, "disclosure": {"visible_mark": False, "text": ""}})
    assert spec.disclosure.text == ""  # no mark: no text needed
    assert parse_face("10,20@99999999") == ("point", (10.0, 20.0, 99999999.0))


@pytest.mark.parametrize(
    "kw", [{"preset": "bogus"}, {"crf": -1}, {"crf": 52}, {"codec": "vp9"}, {"codec": "hevc", "preset": "x"}]
)
def test_output_settings_built_in_code_are_checked_too(kw: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        OutputSettings(**kw)


def test_an_encoder_that_refuses_to_open_names_the_setting(tmp_path: Path) -> None:
    with av.open(str(tmp_path / "e.mp4"), "w") as out, pytest.raises(EncodeError) as info:
        add_video_stream(
            out, "libx264", OutputSettings(preset="veryfast", crf=23, pix_fmt="rgb24"),
            width=64, height=64, rate=Fraction(25), time_base=Fraction(1, 25), gop=10,
        )  # fmt: skip
    text = info.value.message
    assert "preset 'veryfast'" in text and "CRF 23" in text and "pixel format rgb24" in text


@pytest.mark.parametrize("sigma", [5e-324, 1e-300, 1e-9, 0.1])
def test_a_vanishing_smoothing_leaves_the_landmarks_as_they_are(sigma: float) -> None:
    # the fuzz found smoothing=1e-300 (valid: ≥ 0) crashing scipy with a division by zero
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 100, (12, 5, 2)).astype(np.float32)
    present = np.ones(12, dtype=bool)
    out = smooth_runs(points, present, np.full(12, sigma))
    assert np.array_equal(out, points)
    assert not np.array_equal(smooth_runs(points, present, np.full(12, 1.5)), points)
