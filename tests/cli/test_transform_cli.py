"""`layer demo|transform|review|rerender` through the real entry point."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.cli import main
from layer_desktop.engine.pipeline import Disclosure
from layer_desktop.engine.pipeline.disclosure import mark_box
from layer_desktop.paths import resources_dir


def _decode(path: Path) -> tuple[list[np.ndarray], float, dict[str, str]]:
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].sample_rate
        return frames, samples / rate, dict(c.metadata)


def test_demo_writes_a_playable_mp4_with_audio_disclosure_and_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo.mp4"
    assert main(["demo", "-o", str(target)]) == 0
    printed = capsys.readouterr().out
    assert str(target) in printed.replace("\n", "") and "100 of 100 frames swapped" in printed
    frames, audio_seconds, tags = _decode(target)
    src, _, _ = _decode(resources_dir() / "demo" / "talk_astronaut_4s.mp4")
    assert len(frames) == 100 and frames[0].shape == (512, 512, 3)
    assert abs(audio_seconds - 4.0) < 0.05
    assert tags["synthetic"] == "true" and tags["layer_backends"].endswith("landmark")
    assert "AI-generated" in tags["comment"] and tags["layer_persona_id"]
    box = mark_box(512, 512, Disclosure())
    mark = frames[50][box.slices()].astype(int)
    assert (mark.min(axis=2) > 200).sum() > 30  # white text
    assert np.abs(mark - src[50][box.slices()].astype(int)).mean() > 20
    # a second run resumes the finished job: nothing is encoded again
    assert main(["demo", "-o", str(target)]) == 0
    assert "0 encoded, 2 reused" in capsys.readouterr().out
    assert main(["review", str(target)]) == 0
    assert "nothing flagged in 100 frames" in capsys.readouterr().out


def test_transform_errors_are_clear(
    media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = str(media_dir / "clips" / "talk_astronaut_4s.mp4")
    assert main(["transform", "--persona", "Nobody", "--video", clip, "-o", str(tmp_path / "o.mp4")]) == 2
    assert "Error:" in capsys.readouterr().err
    assert main(["transform", "--persona", "x", "--video", clip, "-o", "o.mp4", "--face", "left"]) == 2
    assert "track:N" in capsys.readouterr().err.replace("\n", "")
    assert main(["rerender", "nojob", "--frames", "1-2"]) == 2
    assert "no transform job" in capsys.readouterr().err
    assert main(["rerender", "nojob", "--frames", "9-2"]) == 2
