"""`layer lipsync` and `layer sync-check` through `layer_desktop.cli.main`, on the kit's clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.media.audio import extract_audio
from tests.conftest import SHARED_MEDIA

CLIP = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
SPEECH = SHARED_MEDIA / "audio" / "arctic_a0009_female.wav"
LABELS = SHARED_MEDIA / "audio" / "arctic_a0009_phone.lab"


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
def test_lipsync_then_sync_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synced.mp4"
    args = ["lipsync", "--video", str(CLIP), "--audio", str(SPEECH), "-o", str(out), "--phones", str(LABELS)]
    assert main(args) == 0
    shown = _flat(capsys.readouterr().out)
    assert "100 of 100 frames changed (mouth)" in shown
    assert "A/V sync" in shown and "confidence" in shown
    assert abs(extract_audio(out, 16_000).duration - 4.0) < 0.05  # the new speech, fitted to the clip
    assert main(["sync-check", str(out)]) == 0
    shown = _flat(capsys.readouterr().out)
    offset = int(shown.split("offset ")[-1].split(" frames")[0])
    assert abs(offset) <= 1


def test_bad_inputs_get_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync-check", str(SHARED_MEDIA / "bad" / "audio_only.mp4")]) == 2
    assert "no video" in capsys.readouterr().err.lower()
    out = tmp_path / "x.mp4"
    args = [
        "lipsync",
        "--video",
        str(CLIP),
        "--audio",
        str(SHARED_MEDIA / "bad" / "video_only.mp4"),
        "-o",
        str(out),
    ]
    assert main(args) == 2
    assert "no audio" in capsys.readouterr().err.lower()
    assert (
        main(
            ["lipsync", "--video", str(CLIP), "--audio", str(SPEECH), "-o", str(out), "--backend", "musetalk"]
        )
        == 2
    )
    assert "needs a cuda gpu and the neural extra" in _flat(capsys.readouterr().err).lower()
    assert not out.exists()
