"""`layer probe|thumbs|render` through the real entry point: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.media.probe import probe
from tests.conftest import SHARED_MEDIA


def test_probe_json(media_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", str(media_dir / "clips" / "vfr_rotated.mp4"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["video"]["frame_count"] == 50 and data["video"]["vfr"] is True
    assert data["video"]["rotation"] == -90


def test_probe_table(media_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", str(media_dir / "clips" / "talk_two_faces_4s.mp4")]) == 0
    text = capsys.readouterr().out
    assert "120 in 4.000 s" in text and "no (CFR)" in text


@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED_MEDIA / "bad").glob("*")))
def test_every_bad_file_gives_a_clean_error_or_a_valid_probe(
    media_dir: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", str(media_dir / "bad" / name)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if name in {"audio_only.mp4", "video_only.mp4", "speech.mp3"}:
        assert code == 0
    else:
        assert code == 2
        assert "Error:" in captured.err and name in captured.err.replace("\n", "")
        assert "What to do:" in captured.err


def test_thumbs_writes_pngs(media_dir: Path, tmp_path: Path) -> None:
    assert (
        main(["thumbs", str(media_dir / "clips" / "talk_astronaut_4s.mp4"), "-n", "6", "-o", str(tmp_path)])
        == 0
    )
    assert len(list(tmp_path.glob("thumb_*.png"))) == 6


def test_render_and_rerender(media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = media_dir / "clips" / "talk_astronaut_4s.mp4"
    out, wd = tmp_path / "out.mp4", tmp_path / "wd"
    args = ["--chunk-frames", "25", "--work-dir", str(wd)]
    assert main(["render", "--passthrough", str(src), "-o", str(out), "--preset", "veryfast", *args]) == 0
    assert "4 encoded, 0 reused of 4" in capsys.readouterr().out
    video = probe(out).video
    assert video is not None and video.frame_count == 100
    assert (
        main(
            [
                "render",
                "--passthrough",
                str(src),
                "-o",
                str(out),
                "--frames",
                "30-40",
                "--preset",
                "veryfast",
                *args,
            ]
        )
        == 0
    )
    assert "1 encoded, 3 reused of 4" in capsys.readouterr().out


def test_render_of_audio_only_file_fails_cleanly(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    assert main(["render", "--passthrough", str(media_dir / "bad" / "audio_only.mp4"), "-o", str(out)]) == 2
    assert not out.exists()


def test_bad_frame_range(media_dir: Path, tmp_path: Path) -> None:
    src = str(media_dir / "clips" / "talk_astronaut_4s.mp4")
    assert main(["render", "--passthrough", src, "-o", str(tmp_path / "o.mp4"), "--frames", "x"]) == 2
