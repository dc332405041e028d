"""`layer render --passthrough` on every file of ``tests/media_zoo.py``: every frame written, each within
35 dB PSNR of the source's decode; the container follows the extension; audio MP4 cannot carry is AAC."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from layer_desktop.cli import main
from layer_desktop.engine.media.patterns import read_pattern
from layer_desktop.engine.media.reader import FrameReader
from tests.media_zoo import ZOO

Zoo = Callable[[str], Path]


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def render_cli(src: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    args = ["render", str(src), "-o", str(out), "--passthrough", "--no-hardware", "--preset", "veryfast"]
    code = main([*args, "--chunk-frames", "16", "--work-dir", str(out.parent / "work"), *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert code == 0, captured.err
    return " ".join(captured.out.split())  # rich wraps long lines


@pytest.mark.parametrize("name", sorted(ZOO))
def test_passthrough_writes_every_frame(
    zoo: Zoo, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = zoo(name)
    out = tmp_path / "out.mp4"
    # interlaced: fields kept, so the output is comparable with the (woven) decode of the source; the
    # default, deinterlacing, is checked against our yadif of the source in the test below
    render_cli(src, out, capsys, *(["--field-order", "keep"] if ZOO[name].interlaced else []))
    source, written = decoded(src), decoded(out)
    assert len(written) == len(source)
    h, w = source[0].shape[:2]
    worst = min(psnr(a, b[:h, :w]) for a, b in zip(source, written, strict=True))
    assert worst >= 35.0, f"{name}: worst frame {worst:.1f} dB"


def test_odd_size_is_padded_and_the_report_says_so(
    zoo: Zoo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "odd.mp4"
    text = render_cli(zoo("odd_444"), out, capsys)
    assert "641×361 padded to 642×362" in text
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (642, 362)
        assert stream.codec_context.pix_fmt == "yuv420p"


@pytest.mark.parametrize(
    ("suffix", "container", "audio"),
    [(".mp4", "mov,mp4,m4a,3gp,3g2,mj2", "aac"), (".mov", "mov,mp4,m4a,3gp,3g2,mj2", "aac"),
     (".mkv", "matroska,webm", "pcm_s16le")],
)  # fmt: skip
def test_container_follows_the_extension_and_pcm_becomes_aac_where_needed(
    zoo: Zoo, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, container: str, audio: str
) -> None:
    src = zoo("mjpeg_pcm")
    out = tmp_path / f"cam{suffix}"
    text = render_cli(src, out, capsys)
    assert ("pcm_s16le audio encoded to AAC" in text) == (audio == "aac")
    with av.open(str(out)) as c:
        assert c.format.name == container
        assert c.streams.audio[0].codec_context.name == audio
        written = sum(f.samples for f in c.decode(audio=0)) / 48000
    with av.open(str(src)) as c:
        source = sum(f.samples for f in c.decode(audio=0)) / 48000
    assert abs(written - source) < 0.05  # AAC pads at most a frame (1024 samples)
    with av.open(str(out)) as c:
        tone = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    spectrum = np.abs(np.fft.rfft(tone[4800:43200]))
    assert abs(int(np.argmax(spectrum)) * 48000 / 38400 - 1000) < 5  # still the 1 kHz tone


def test_interlaced_source_is_deinterlaced_by_default_and_kept_on_request(
    zoo: Zoo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = zoo("ts_mpeg2_interlaced")
    with av.open(str(src)) as c:
        assert all(f.interlaced_frame for f in c.decode(video=0))
    progressive = tmp_path / "p" / "out.mp4"
    progressive.parent.mkdir()
    text = render_cli(src, progressive, capsys)
    assert "deinterlaced to progressive (yadif)" in text
    kept = tmp_path / "k" / "out.mp4"
    kept.parent.mkdir()
    text = render_cli(src, kept, capsys, "--field-order", "keep")
    assert "written interlaced, bottom field first (field order kept)" in text
    with av.open(str(progressive)) as c:
        frames = list(c.decode(video=0))
        assert not any(f.interlaced_frame for f in frames)  # the flags say what was written
    with av.open(str(kept)) as c:
        assert all(f.interlaced_frame for f in c.decode(video=0))
        assert c.streams.video[0].codec_context.field_order in (3, 5)  # bottom field first, as the source
    # the progressive output is our yadif of the source, encoded: every frame, close to it
    with FrameReader(src) as reader:
        reference = [f.to_ndarray(format="rgb24") for _, f in reader.iter_progressive()]
    assert len(frames) == len(reference)
    worst = min(psnr(f.to_ndarray(format="rgb24"), r) for f, r in zip(frames, reference, strict=True))
    assert worst >= 35.0


@pytest.mark.parametrize("name", sorted(ZOO))
def test_thumbnails_show_the_frames_they_name(
    zoo: Zoo, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["thumbs", str(zoo(name)), "-n", "4", "-o", str(tmp_path), "--height", "96"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.out + captured.err, captured.err
    pictures = sorted(tmp_path.glob("thumb_*.png"))
    assert len(pictures) == 4
    recipe = ZOO[name]
    first_shown = {"edit_list": 20, "ts_cut_mid_gop": 24}.get(name, 0)
    written = [
        i for i in range(first_shown, recipe.frames) if i not in recipe.drop
    ]  # frame n shows written[n]
    for picture in pictures:
        named = int(picture.stem.rsplit("frame", 1)[1])
        rgb = cv2.cvtColor(cv2.imread(str(picture)), cv2.COLOR_BGR2RGB)
        assert read_pattern(rgb) == written[named]
