"""`layer faces detect|track` from the command line (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layer_desktop.cli import main


def test_detect_json_lists_the_face_with_quality(media_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faces", "detect", str(media_dir / "faces" / "grace_hopper.jpg"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["width"], report["height"]) == (512, 600)
    (face,) = report["faces"]
    x0, y0, x1, _ = face["bbox"]
    assert abs(x0 - 180) < 30 and abs(y0 - 139) < 30 and 150 < x1 - x0 < 240
    assert face["score"] > 0.8 and 0.0 <= face["quality"] <= 1.0 and isinstance(face["reasons"], list)


def test_detect_bad_image_prints_message_and_hint(
    media_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faces", "detect", str(media_dir / "bad" / "one_pixel.png")]) == 2
    err = capsys.readouterr().err
    assert "too small" in err and "What to do" in err


def test_track_json_gives_two_ids_on_every_frame(media_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = media_dir / "clips" / "talk_two_faces_4s.mp4"
    assert main(["faces", "track", str(clip), "--every", "10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["frames"] == 120 and report["summary"]["tracks"] == [0, 1]
    assert report["summary"]["detector_runs"] == 12
    assert all(sorted(f["track"] for f in fr["faces"]) == [0, 1] for fr in report["frames"])


def test_track_video_without_pictures_is_a_clear_error(
    media_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faces", "track", str(media_dir / "bad" / "audio_only.mp4")]) == 2
    assert "no video track" in capsys.readouterr().err
