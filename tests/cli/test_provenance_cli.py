"""`layer demo` then `layer provenance show|verify|check` on its output, as a user would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from layer_desktop.cli import main
from tests.conftest import SHARED_MEDIA


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli_home")
    target = home / "demo.mp4"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(home))
        assert main(["demo", "-o", str(target)]) == 0  # the watermark is on by default
    return target


@pytest.fixture
def same_home(demo_output: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAYER_HOME", str(demo_output.parent))
    return demo_output


def test_verify_says_trusted_with_the_install_ca(same_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provenance", "verify", str(same_home)]) == 0
    assert f"{same_home.name}: Trusted" in capsys.readouterr().out


def test_show_prints_the_source_type_the_consent_and_the_models(
    same_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["provenance", "show", str(same_home)]) == 0
    text = capsys.readouterr().out
    assert "compositeWithTrainedAlgorithmicMedia" in text
    assert "consent: persona " in text
    assert "model: mediapipe_face_landmark — Apache-2.0 (MediaPipe)" in text


def test_verify_fails_on_a_tampered_copy(
    same_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy.mp4"
    shutil.copy(same_home, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the middle of a short MP4 is media data
    copy.write_bytes(bytes(data))
    assert main(["provenance", "verify", str(copy)]) == 1
    assert "Invalid" in capsys.readouterr().out


def test_check_finds_the_watermark_and_not_in_the_source(
    same_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["provenance", "check", str(same_home), "--frames", "10"]) == 0
    assert "watermark in 10 of 10 sampled frames" in capsys.readouterr().out
    source = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
    assert main(["provenance", "check", str(source), "--frames", "10"]) == 1
    assert "watermark in 0 of 10" in capsys.readouterr().out


def test_an_unsigned_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provenance", "show", str(SHARED_MEDIA / "clips" / "no_face_3s.mp4")]) == 2
    assert "carries no C2PA manifest" in capsys.readouterr().err


def test_no_watermark_leaves_the_mark_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAYER_HOME", str(tmp_path))
    target = tmp_path / "plain.mp4"
    assert main(["demo", "-o", str(target), "--no-watermark"]) == 0
    capsys.readouterr()
    assert main(["provenance", "check", str(target), "--frames", "10"]) == 1
    assert "watermark in 0 of 10" in capsys.readouterr().out
