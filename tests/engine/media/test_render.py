"""Chunked render: passthrough fidelity, SIGKILL resume, range re-render (splice).

Failures leave no output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.engine.media.chunks import MANIFEST_NAME, load_manifest
from layer_desktop.engine.media.encode import OutputSettings
from layer_desktop.engine.media.patterns import read_pattern
from layer_desktop.engine.media.pipeline import Passthrough, RenderCancelled
from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderSpec, render, rerender_range
from layer_desktop.errors import CorruptMediaError, RenderStateError

FAST = OutputSettings(preset="veryfast", crf=18, hardware=False)


def decoded_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        return sum(f.samples for f in c.decode(stream)) / stream.codec_context.sample_rate


def test_passthrough_keeps_frames_durations_audio_and_quality(media_dir: Path, tmp_path: Path) -> None:
    src = media_dir / "clips" / "talk_astronaut_4s.mp4"
    out = tmp_path / "out.mp4"
    report = render(RenderSpec(str(src), str(out), settings=OutputSettings(hardware=False), chunk_frames=25))
    assert report.chunks == 4 and report.encoded == (0, 1, 2, 3) and report.reused == ()
    a, b = probe(src), probe(out)
    assert a.video and b.video and a.audio and b.audio
    assert b.video.frame_count == a.video.frame_count == 100
    assert abs(b.video.duration - a.video.duration) <= 1 / 25
    assert abs(audio_seconds(out) - audio_seconds(src)) <= 0.020
    assert abs(b.audio.duration - a.audio.duration) <= 0.020
    frames_a, frames_b = decoded_rgb(src), decoded_rgb(out)
    assert len(frames_a) == len(frames_b) == 100
    worst = min(psnr(x, y) for x, y in zip(frames_a, frames_b, strict=True))
    assert worst >= 35.0, f"worst frame PSNR {worst:.1f} dB"
    assert b.video.color_space == "bt709"


def test_passthrough_preserves_vfr_timestamps_and_rotation(media_dir: Path, tmp_path: Path) -> None:
    src = media_dir / "clips" / "vfr_rotated.mp4"
    out = tmp_path / "vfr.mp4"
    render(RenderSpec(str(src), str(out), settings=FAST, chunk_frames=16))
    with FrameReader(src) as a, FrameReader(out) as b:
        assert a.index.pts == b.index.pts
        assert b.rotation == -90
    video = probe(out).video
    assert video is not None and video.vfr


def test_video_without_audio_renders(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "silent.mp4"
    render(RenderSpec(str(media_dir / "bad" / "video_only.mp4"), str(out), settings=FAST, chunk_frames=20))
    info = probe(out)
    assert info.audio is None and info.video is not None and info.video.frame_count == 50


def test_replacement_audio_is_encoded_and_aligned(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "dub.mp4"
    wav = media_dir / "audio" / "arctic_a0009_female.wav"
    src = media_dir / "bad" / "video_only.mp4"
    render(RenderSpec(str(src), str(out), settings=FAST, chunk_frames=50, audio=str(wav)))
    info = probe(out)
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.audio.duration == pytest.approx(3.095, abs=0.02)
    assert info.audio.start_time == pytest.approx(0.0, abs=0.001)
    assert audio_seconds(out) == pytest.approx(
        3.095, abs=1024 / 16000
    )  # decoders add the last frame's padding


CHILD = """
import sys, time
from pathlib import Path
from layer_desktop.engine.media.encode import OutputSettings
from layer_desktop.engine.media.render import RenderSpec, render

class SlowPassthrough:
    tag = "passthrough"
    def __call__(self, index, frame):
        time.sleep(0.03)
        return None

src, out, wd = sys.argv[1:4]
spec = RenderSpec(src, out, settings=OutputSettings(preset="veryfast", hardware=False), chunk_frames=10)
render(spec, SlowPassthrough(), work_dir=Path(wd))
"""


def test_render_killed_half_way_resumes_without_reencoding_finished_chunks(
    pattern_clip: Path, tmp_path: Path
) -> None:
    out, wd = tmp_path / "resumed.mp4", tmp_path / "work"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(pattern_clip), str(out), str(wd)])
    try:
        deadline = time.monotonic() + 120
        done: dict[int, dict[str, object]] = {}
        while time.monotonic() < deadline and child.poll() is None:
            if (wd / MANIFEST_NAME).exists():
                data = json.loads((wd / MANIFEST_NAME).read_text())
                done = {c["index"]: c for c in data["chunks"]}
                if len(done) >= 8:
                    break
            time.sleep(0.02)
        assert child.poll() is None, "the child finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert not out.exists(), "a killed render must not leave an output that looks complete"
    manifest = load_manifest(wd)
    assert manifest is not None
    finished = set(manifest.chunks)
    assert 8 <= len(finished) < 30
    stamps = {i: (wd / manifest.chunks[i].file).stat().st_mtime_ns for i in finished}

    report = render(RenderSpec(str(pattern_clip), str(out), settings=FAST, chunk_frames=10), work_dir=wd)

    assert set(report.reused) == finished
    assert set(report.encoded) == set(range(30)) - finished
    assert {i: (wd / manifest.chunks[i].file).stat().st_mtime_ns for i in finished} == stamps
    assert [read_pattern(f) for f in decoded_rgb(out)] == list(range(300))


class MarkRange:
    """Paints a white square in the bottom half of frames first..last (the pattern band stays readable)."""

    tag = "mark"

    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last
        self.seen: list[int] = []

    def __call__(self, index: int, frame: av.VideoFrame) -> np.ndarray | None:
        self.seen.append(index)
        if not self.first <= index <= self.last:
            return None
        image = frame.to_ndarray(format="rgb24")
        image[-40:, -40:] = 255
        return image


def test_rerender_range_touches_only_its_chunks_and_stays_frame_exact(
    pattern_clip: Path, tmp_path: Path
) -> None:
    out, wd = tmp_path / "splice.mp4", tmp_path / "work"
    spec = RenderSpec(str(pattern_clip), str(out), settings=FAST, chunk_frames=25)
    render(spec, work_dir=wd)
    before = load_manifest(wd)
    assert before is not None
    marker = MarkRange(30, 40)

    report = rerender_range(spec, 30, 40, marker, work_dir=wd)

    assert report.encoded == (1,)  # frames 25..49
    assert set(report.reused) == set(range(12)) - {1}
    assert marker.seen == list(range(25, 50))
    after = load_manifest(wd)
    assert after is not None
    for i in set(range(12)) - {1}:
        assert after.chunks[i].sha256 == before.chunks[i].sha256
    assert after.chunks[1].sha256 != before.chunks[1].sha256
    frames = decoded_rgb(out)
    assert [read_pattern(f) for f in frames] == list(range(300))
    marked = [i for i, f in enumerate(frames) if f[-30:, -30:].mean() > 240]
    assert marked == list(range(30, 41))


def test_rerender_without_earlier_render_is_a_clear_error(pattern_clip: Path, tmp_path: Path) -> None:
    spec = RenderSpec(str(pattern_clip), str(tmp_path / "x.mp4"), settings=FAST)
    with pytest.raises(RenderStateError, match="no earlier render"):
        rerender_range(spec, 0, 5, Passthrough(), work_dir=tmp_path / "none")


def test_tampered_chunk_is_encoded_again(pattern_clip: Path, tmp_path: Path) -> None:
    out, wd = tmp_path / "t.mp4", tmp_path / "work"
    spec = RenderSpec(str(pattern_clip), str(out), settings=FAST, chunk_frames=100)
    render(spec, work_dir=wd)
    manifest = load_manifest(wd)
    assert manifest is not None
    chunk = wd / manifest.chunks[1].file
    chunk.write_bytes(chunk.read_bytes()[:-10] + b"0123456789")
    report = render(spec, work_dir=wd)
    assert report.encoded == (1,) and report.reused == (0, 2)
    assert [read_pattern(f) for f in decoded_rgb(out)] == list(range(300))


def test_changed_settings_discard_old_chunks(pattern_clip: Path, tmp_path: Path) -> None:
    out, wd = tmp_path / "s.mp4", tmp_path / "work"
    render(RenderSpec(str(pattern_clip), str(out), settings=FAST, chunk_frames=150), work_dir=wd)
    other = OutputSettings(preset="veryfast", crf=30, hardware=False)
    report = render(RenderSpec(str(pattern_clip), str(out), settings=other, chunk_frames=150), work_dir=wd)
    assert report.reused == () and report.encoded == (0, 1)


def test_cancel_keeps_finished_chunks_and_writes_no_output(pattern_clip: Path, tmp_path: Path) -> None:
    out, wd = tmp_path / "c.mp4", tmp_path / "work"
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 120:
            cancel.set()

    spec = RenderSpec(str(pattern_clip), str(out), settings=FAST, chunk_frames=50)
    with pytest.raises(RenderCancelled):
        render(spec, work_dir=wd, progress=progress, cancel=cancel)
    assert not out.exists()
    manifest = load_manifest(wd)
    assert manifest is not None and 1 <= len(manifest.chunks) <= 3
    assert not list(wd.glob("*.part"))


def test_corrupt_source_fails_cleanly(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bad.mp4"
    with pytest.raises(CorruptMediaError, match=r"truncated_30pct\.mp4"):
        render(RenderSpec(str(media_dir / "bad" / "truncated_30pct.mp4"), str(out), settings=FAST))
    assert not out.exists()
    assert not list(tmp_path.glob(".*partial*"))
