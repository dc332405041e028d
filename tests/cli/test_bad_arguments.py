"""Every `layer` command (and subcommand) with a table of bad arguments, through the real entry point:
each exits with status 2, says what is wrong, and never shows a traceback. A new command without a
row here fails ``test_every_command_has_bad_arguments_in_the_table``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from layer_desktop.cli import app, main
from tests.conftest import SHARED_MEDIA

CLIP = str(SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4")
FACE = str(SHARED_MEDIA / "faces" / "grace_hopper.jpg")
TEXT = str(SHARED_MEDIA / "bad" / "text_renamed.mp4")
MISSING = "/nonexistent/nothing.mp4"
NOWHERE = "/nonexistent/folder/out.mp4"  # a folder that does not exist
TRANSFORM = ["transform", "--persona", "Nobody", "--video", CLIP, "-o"]
RENDER = ["render", CLIP, "--passthrough", "-o"]
WAV = str(SHARED_MEDIA / "audio" / "arctic_a0007_awb.wav")
LIPSYNC = ["--video", CLIP, "--audio"]
TALK = ["--photo", FACE, "--script", "Hello there."]

# (command path, arguments after it); "{tmp}" becomes a fresh writable folder
BAD: list[tuple[str, list[str]]] = [
    ("probe", []),
    ("probe", [MISSING]),
    ("probe", [TEXT]),
    ("thumbs", [CLIP, "-n", "0"]),
    ("thumbs", [CLIP, "-n", "-3"]),
    ("thumbs", [CLIP, "--height", "0"]),
    ("thumbs", [CLIP, "--height", "999999"]),
    ("thumbs", [MISSING]),
    ("render", [CLIP, "-o", "{tmp}/o.mp4"]),  # no --passthrough
    ("render", [CLIP, "--passthrough", "-o", CLIP]),  # the output is the input
    ("render", [*RENDER[1:], "{tmp}"]),  # a folder
    ("render", [*RENDER[1:], NOWHERE]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--preset", "bogus"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--preset", "fast:keyint=1"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--codec", "hevc", "--preset", "nope"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--crf", "-5"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--crf", "99"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--chunk-frames", "0"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--chunk-frames", "-3"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--chunk-frames", "99999999"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--codec", "vp9"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--frames", "b-a"]),
    ("render", [*RENDER[1:], "{tmp}/o.mp4", "--audio", MISSING]),
    ("render", [MISSING, "--passthrough", "-o", "{tmp}/o.mp4"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--preset", "bogus"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--crf", "-5"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--crf", "99"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--chunk-frames", "0"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--face", "1,1@99999999999"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--face", "somebody"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--detector", "huge"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--backend", "deepfake"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--voice", "robot"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--loudness", "3"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4"]),  # no such persona
    ("transform", [*TRANSFORM[1:], CLIP]),  # the output is the input
    ("transform", [*TRANSFORM[1:], "{tmp}/" + "x" * 300 + ".mp4"]),  # name too long
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--engine", "ftp://example"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--no-watermark=yes"]),  # a switch takes no value
    ("demo", ["--bogus"]),
    ("demo", ["--no-watermark=1"]),
    ("demo", ["--watermark", "--no-watermark", "extra"]),
    ("demo", ["--engine", "not a url"]),
    ("demo", ["--engine", "cluster:"]),
    ("review", []),
    ("review", ["nosuchjob"]),
    ("review", ["nosuchjob", "--engine", "file:///x"]),
    ("rerender", ["nosuchjob", "--frames", "1-2"]),
    ("rerender", ["nosuchjob", "--frames", "two"]),
    ("rerender", ["nosuchjob", "--frames", "9-1"]),
    ("rerender", ["nosuchjob", "--frames", "1-2", "--set", "novalue"]),
    ("rerender", ["nosuchjob"]),
    ("publish", [MISSING, "--to", "nowhere"]),
    ("publish", [CLIP, "--to", "nowhere"]),
    ("publish", [CLIP, "--to", "nowhere", "--expires", "-1"]),
    ("tts", ["hello", "-o", "{tmp}/o.wav", "--backend", "bogus"]),
    ("tts", ["hello", "-o", "{tmp}/o.wav", "--persona", "Nobody"]),
    ("tts", ["hello"]),
    ("faces detect", [MISSING]),
    ("faces detect", [TEXT]),
    ("faces detect", [FACE, "--range", "huge"]),
    ("faces track", [CLIP, "--every", "0"]),
    ("faces track", [MISSING]),
    ("models list", ["--bogus"]),
    ("models fetch", ["no-such-model"]),
    ("models import", ["no-such-model", FACE]),
    ("models verify", ["no-such-model"]),
    ("models remove", ["no-such-model"]),
    ("persona create", ["--name", "X", "--face", MISSING]),
    ("persona create", ["--name", "X", "--face", TEXT]),
    ("persona create", ["--name", "", "--face", FACE]),
    ("persona create", ["--name", "X", "--face", FACE, "--consent-date", "yesterday"]),
    ("persona list", ["--bogus"]),
    ("persona show", ["Nobody"]),
    ("persona export", ["Nobody", "-o", "{tmp}/p.layerpersona"]),
    ("persona import", [TEXT]),
    ("persona import", [MISSING]),
    ("persona delete", ["Nobody", "--yes"]),
    ("destinations add", ["d", "--kind", "bogus", "--bucket", "b"]),
    ("destinations list", ["--bogus"]),
    ("destinations test", ["nowhere"]),
    ("destinations remove", ["nowhere"]),
    ("voice profile", ["Nobody"]),
    ("voice convert", [MISSING, "-p", "Nobody", "-o", "{tmp}/o.wav"]),
    ("voice convert", [CLIP, "-p", "Nobody", "-o", "{tmp}/o.wav", "--backend", "bogus"]),
    ("voice convert", [CLIP, "-p", "Nobody", "-o", CLIP]),  # over its own input
    ("voice set-key", ["--bogus"]),
    ("engine status", []),
    ("engine status", ["--engine", "gopher://x"]),
    ("engine jobs", ["--engine", "not a url"]),
    ("engine cancel", ["j"]),
    ("engine cancel", ["j", "--engine", "http://"]),
    ("display-probe", ["--bogus"]),
    ("doctor", ["--bogus"]),
    ("hosts add", ["box"]),  # no --host
    ("hosts add", ["box", "--host", "127.0.0.1", "--key", MISSING, "--no-connect"]),
    ("hosts add", ["box", "--host", "127.0.0.1", "--key", FACE, "--port", "99999", "--no-connect"]),
    ("hosts add", ["bad/..", "--host", "127.0.0.1", "--key", FACE, "--no-connect"]),
    ("hosts add", ["box", "--host", "127.0.0.1", "--key", FACE, "--accept-fingerprint", "md5:ab"]),
    ("hosts bootstrap", ["nobox"]),
    ("hosts connect", ["nobox"]),
    ("hosts disconnect", ["nobox"]),
    ("hosts doctor", ["nobox"]),
    ("hosts forget-key", ["nobox"]),
    ("hosts list", ["--bogus"]),
    ("hosts logs", ["nobox"]),
    ("hosts remove", ["nobox"]),
    ("lipsync", [*LIPSYNC, MISSING, "-o", "{tmp}/o.mp4"]),
    ("lipsync", ["--video", MISSING, "--audio", WAV, "-o", "{tmp}/o.mp4"]),
    ("lipsync", [*LIPSYNC, TEXT, "-o", "{tmp}/o.mp4"]),
    ("lipsync", [*LIPSYNC, WAV, "-o", "{tmp}"]),  # a folder
    ("lipsync", [*LIPSYNC, WAV, "-o", NOWHERE]),
    ("lipsync", [*LIPSYNC, WAV, "-o", "{tmp}/o.mp4", "--backend", "bogus"]),
    ("lipsync", [*LIPSYNC, WAV, "-o", "{tmp}/o.mp4", "--strength", "7"]),
    ("lipsync", [*LIPSYNC, WAV, "-o", "{tmp}/o.mp4", "--face", "somebody"]),
    ("sync-check", [MISSING]),
    ("sync-check", [TEXT]),
    ("sync-check", [CLIP, "--face", "somebody"]),
    ("provenance check", [MISSING]),
    ("provenance check", [CLIP, "--frames", "0"]),
    ("provenance show", [MISSING]),
    ("provenance show", [TEXT]),
    ("provenance verify", [MISSING]),
    ("provenance verify", [CLIP, "--trust", MISSING]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--lipsync", "bogus"]),
    ("transform", [*TRANSFORM[1:], "{tmp}/o.mp4", "--script", "hello"]),  # a script needs lip-sync
    ("talk", []),  # nothing at all
    ("talk", ["--script", "hi", "-o", "{tmp}/o.mp4"]),  # who speaks?
    ("talk", ["--photo", FACE, "-o", "{tmp}/o.mp4"]),  # what is said?
    ("talk", [*TALK, "--persona", "Nobody", "-o", "{tmp}/o.mp4"]),  # photo and persona
    ("talk", [*TALK, "--audio", WAV, "-o", "{tmp}/o.mp4"]),  # script and audio
    ("talk", [*TALK, "--animator", "hallo9", "-o", "{tmp}/o.mp4"]),
    ("talk", [*TALK, "--animator", "liveportrait", "-o", "{tmp}/o.mp4"]),  # its models are not installed
    ("talk", TALK),  # no -o
    ("talk", [*TALK, "-o", "{tmp}"]),  # a folder
    ("talk", [*TALK, "-o", NOWHERE]),
    ("talk", [*TALK, "-o", FACE]),  # the output is the input photo
    ("talk", ["--photo", MISSING, "--script", "hi", "-o", "{tmp}/o.mp4"]),
    ("talk", ["--photo", TEXT, "--script", "hi", "-o", "{tmp}/o.mp4"]),
    ("talk", ["--persona", "Nobody", "--script", "hi", "-o", "{tmp}/o.mp4"]),
    ("talk", ["--photo", FACE, "--script", "   ", "-o", "{tmp}/o.mp4"]),
    ("talk", ["--photo", FACE, "--script-file", MISSING, "-o", "{tmp}/o.mp4"]),
    ("talk", ["--photo", FACE, "--audio", TEXT, "-o", "{tmp}/o.mp4"]),
    ("talk", ["--photo", FACE, "--audio", MISSING, "-o", "{tmp}/o.mp4"]),
    ("talk", [*TALK, "--transcript", "hello", "-o", "{tmp}/o.mp4"]),  # a transcript needs --audio
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--size", "5000"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--size", "big"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--motion", "9"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--seed", "-1"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--crf", "99"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--preset", "bogus"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--voice", "en; rm -rf /"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--voice", "zz-nonexistent"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--speech", "robot"]),
    ("talk", [*TALK, "-o", "{tmp}/o.mp4", "--engine", "http://127.0.0.1:9"]),
    ("talk batch", []),
    ("talk batch", [MISSING, "-o", "{tmp}"]),
    ("talk batch", [FACE, "-o", "{tmp}"]),  # neither .csv nor .json
    ("talk batch", [TEXT, "-o", "{tmp}"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--key-template", "{nope}/x.mp4"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--script-template", "Buy {price} now"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--size", "big"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--motion", "9"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--preset", "bogus"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--publish", "nowhere"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--engine", "http://127.0.0.1:9"]),
    ("talk batch", [FACE, "-o", "{tmp}", "--engine", "cluster:"]),  # no cluster address
    ("talk batch", [FACE, "-o", "{tmp}", "--engine", "cluster:nope"]),  # no cluster of that name
    ("demo", ["--engine", "cluster:nope"]),
    ("demo", ["--engine", "cluster:bad name"]),
    ("cluster up", []),
    ("cluster up", ["bad name!"]),
    ("cluster up", ["c1", "--host", "no-such-host"]),
    ("cluster up", ["c1", "--num-gpus", "-1"]),
    ("cluster up", ["c1", "--object-store-mb", "10"]),
    ("cluster up", ["c1", "--node-ip", "w=10.0.0.2"]),  # no --host machines
    ("cluster status", []),
    ("cluster status", ["nope"]),
    ("cluster status", ["../etc"]),
    ("cluster down", []),
    ("cluster down", ["nope"]),
    ("cluster list", ["extra"]),
    ("cluster add", []),
    ("cluster add", ["ext"]),  # no --address
    ("cluster add", ["ext", "--address", "nowhere"]),
    ("cluster add", ["ext", "--address", "ray://h:99999"]),
    ("cluster add", ["bad name", "--address", "h:6379"]),
]


def commands() -> Iterator[str]:
    def walk(cmd: object, path: list[str]) -> Iterator[str]:
        subs = getattr(cmd, "commands", None)
        if subs is None:
            yield " ".join(path)
            return
        for name, sub in subs.items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def test_every_command_has_bad_arguments_in_the_table() -> None:
    listed = set(commands())
    assert len(listed) >= 30  # `layer --help` and its groups
    assert listed - {name for name, _ in BAD} == set()


@pytest.mark.parametrize(("command", "args"), BAD, ids=[f"{c}:{' '.join(a)[-60:]}" for c, a in BAD])
def test_bad_arguments_exit_2_with_a_message_and_no_traceback(
    command: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("LAYER_ENGINE_URL", raising=False)
    argv = [*command.split(), *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    code = main(argv)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    assert code == 2, text
    assert "Error" in text or "Missing" in text or "Invalid" in text or "No such" in text, text
    assert len(text.strip()) > 20, text


def test_a_full_disk_and_an_unexpected_error_print_no_traceback(
    capsys: pytest.CaptureFixture[str], layer_home: Path
) -> None:
    import errno

    import typer

    from layer_desktop.cli.common import run_cli

    broken = typer.Typer()

    @broken.command()
    def fill(kind: str) -> None:
        if kind == "full":
            raise OSError(errno.ENOSPC, "No space left on device", "/cache/renders/chunk_0001.nut")
        raise RuntimeError("a bug of ours")

    assert run_cli(broken, ["full"]) == 2
    text = " ".join(capsys.readouterr().err.split())
    assert "The disk is full" in text and "Free disk space" in text and "Traceback" not in text
    assert run_cli(broken, ["bug"]) == 1
    text = " ".join(capsys.readouterr().err.split())
    assert "Unexpected error: RuntimeError: a bug of ours" in text and "Traceback" not in text
    log = layer_home / "logs" / "cli-errors.log"  # the traceback goes there, owner-only
    assert "RuntimeError: a bug of ours" in log.read_text() and "Traceback" in log.read_text()
    assert log.stat().st_mode & 0o077 == 0
