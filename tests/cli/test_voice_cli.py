"""`layer voice ...` and `layer tts` through `layer_desktop.cli.main`, with real recordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layer_desktop.cli import main
from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice.espeak import find_library
from tests.conftest import SHARED_MEDIA, require_component
from tests.engine.voice.helpers import add_persona

MEDIA = SHARED_MEDIA
MALE = MEDIA / "audio" / "arctic_a0007_awb.wav"
FEMALE = MEDIA / "audio" / "arctic_a0009_female.wav"


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_profile_and_world_convert(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_persona(PersonaStore(), "Sally", [FEMALE])
    assert main(["voice", "profile", "sally"]) == 0
    shown = _flat(capsys.readouterr().out)
    assert "Voice profile of Sally" in shown and "Pitch: median 18" in shown and "arctic_a0009" in shown
    assert PersonaStore().get("Sally").voice_profiles["world"]["f0_median_hz"] > 150

    clip = MEDIA / "clips" / "talk_astronaut_4s.mp4"  # 48 kHz stereo AAC: the audio of a video
    out = tmp_path / "sally.wav"
    assert main(["voice", "convert", "--persona", "Sally", str(clip), "-o", str(out)]) == 0
    source, converted = extract_audio(clip, 48_000, channels=2), extract_audio(out, 48_000, channels=2)
    assert converted.samples.shape == source.samples.shape
    assert not np.allclose(converted.samples, source.samples, atol=1e-2)


def test_elevenlabs_without_a_key_says_what_to_do(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    try:
        add_persona(PersonaStore(), "Sally", [FEMALE])
        code = main(
            [
                "voice",
                "convert",
                "-p",
                "Sally",
                str(MALE),
                "-o",
                str(tmp_path / "x.wav"),
                "--backend",
                "elevenlabs",
            ]
        )
    finally:
        keyring.set_keyring(previous)
    err = _flat(capsys.readouterr().err)
    assert code == 2 and "Error: No ElevenLabs API key is set" in err
    assert "What to do: Set your ElevenLabs API key in Settings › Voice" in err
    assert not (tmp_path / "x.wav").exists()


def test_tts_writes_audio_and_timings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_component("espeak-ng", find_library() is not None, "apt install espeak-ng")
    wav, timings = tmp_path / "hello.wav", tmp_path / "hello.json"
    assert main(["tts", "Hello there, world.", "-o", str(wav), "--timings", str(timings)]) == 0
    data = json.loads(timings.read_text())
    assert [w["text"] for w in data["words"]] == ["Hello", "there", "world"] and data["phonemes"]
    pcm = extract_audio(wav, data["rate"])
    # duration_s is written rounded to 0.1 ms, so allow the one sample that rounding can cost
    assert abs(pcm.samples.shape[1] - data["duration_s"] * data["rate"]) <= 1.0
    assert "3 words timed" in _flat(capsys.readouterr().out)


@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")  # no terminal under pytest
def test_set_key_prompts_and_stores_in_the_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from layer_desktop.engine.voice import API_KEY_NAME
    from layer_desktop.secrets import KeyringSecrets

    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    monkeypatch.setattr("sys.stdin", io.StringIO("sk_cli_secret_123\n"))
    try:
        assert main(["voice", "set-key"]) == 0
        assert KeyringSecrets().get(API_KEY_NAME) == "sk_cli_secret_123"
    finally:
        keyring.set_keyring(previous)
    captured = capsys.readouterr()
    assert (
        "stored in the OS keyring" in captured.out and "sk_cli_secret_123" not in captured.out + captured.err
    )
