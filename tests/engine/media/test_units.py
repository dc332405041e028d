"""Pure pieces of the media engine: encoder options, chunk planning, manifest, thumbnails, audio."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from layer_desktop.engine.media.audio import extract_audio, waveform_peaks
from layer_desktop.engine.media.chunks import (
    ChunkRecord,
    RenderManifest,
    chunks_touching,
    plan_chunks,
)
from layer_desktop.engine.media.encode import OutputSettings, choose_encoder, encodable_size, encoder_options
from layer_desktop.engine.media.join import (
    audio_needs_encoding,
    container_for,
    decode_timestamps,
    reorder_delay,
)
from layer_desktop.engine.media.probe import is_vfr
from layer_desktop.engine.media.thumbs import evenly_spaced, thumbnail_strip
from layer_desktop.errors import CorruptMediaError, NoAudioStreamError, RenderStateError


def test_x264_options_close_every_gop() -> None:
    opts = encoder_options(OutputSettings(crf=20, preset="slow"), "libx264", 60)
    assert opts["crf"] == "20" and opts["preset"] == "slow"
    assert "keyint=60" in opts["x264-params"] and "open-gop=0" in opts["x264-params"]


def test_nvenc_options_map_preset_and_quality() -> None:
    opts = encoder_options(OutputSettings(crf=23, preset="medium"), "h264_nvenc", 48)
    assert opts == {"preset": "p5", "rc": "vbr", "cq": "23", "b": "0", "g": "48", "forced-idr": "1"}


def test_hardware_encoder_falls_back_with_a_reason() -> None:
    choice = choose_encoder(OutputSettings(hardware=True))
    if choice.hardware:  # a machine with NVENC
        assert choice.name == "h264_nvenc" and choice.fallback_reason is None
    else:
        assert choice.name == "libx264" and choice.fallback_reason and "h264_nvenc" in choice.fallback_reason
    assert choose_encoder(OutputSettings(hardware=False, codec="hevc")).name == "libx265"


def test_chunk_plan_and_range_lookup() -> None:
    plan = plan_chunks(100, 25)
    assert plan == [(0, 25), (25, 50), (50, 75), (75, 100)]
    assert plan_chunks(101, 25)[-1] == (100, 101)
    assert chunks_touching(plan, 30, 40) == [1]
    assert chunks_touching(plan, 24, 25) == [0, 1]
    with pytest.raises(ValueError):
        plan_chunks(10, 0)


def test_manifest_round_trip_and_damage(tmp_path: Path) -> None:
    m = RenderManifest("f" * 64, 100, 25, "libx264")
    m.chunks[0] = ChunkRecord(0, 0, 25, "chunk_00000.nut", "a" * 64, 10, 25, "passthrough")
    again = RenderManifest.from_json(m.to_json(), tmp_path)
    assert again == m
    with pytest.raises(RenderStateError, match="damaged"):
        RenderManifest.from_json(b'{"chunks": 3}', tmp_path / "manifest.json")


def test_decode_timestamps_rise_and_never_pass_pts() -> None:
    pts = [0, 2048, 1024, 512, 1536, 4096, 3072, 2560, 3584]  # B-pyramid decode order
    delay = reorder_delay(pts)
    dts = decode_timestamps(pts, delay)
    assert all(b > a for a, b in itertools.pairwise(dts))
    assert all(d <= p for d, p in zip(dts, pts, strict=True))


def test_evenly_spaced() -> None:
    assert evenly_spaced(100, 4) == [12, 37, 62, 87]
    assert evenly_spaced(3, 10) == [0, 1, 2]
    assert evenly_spaced(0, 5) == []


def test_thumbnail_strip_fast_and_exact(media_dir: Path) -> None:
    clip = media_dir / "clips" / "vfr_rotated.mp4"
    fast = thumbnail_strip(clip, 5, height=64)
    exact = thumbnail_strip(clip, 5, height=64, exact=True)
    assert [t.index for t in exact] == evenly_spaced(50, 5)
    assert all(t.image.shape[0] == 64 and t.image.shape[1] == 36 for t in fast + exact)  # upright portrait
    assert {t.index for t in fast} <= {0, 30}  # keyframes only (GOP 30)


def test_extract_audio_rate_duration_and_peaks(media_dir: Path) -> None:
    pcm = extract_audio(media_dir / "clips" / "talk_astronaut_4s.mp4", 16000)
    assert pcm.rate == 16000 and pcm.samples.shape == (1, 64000)
    assert pcm.duration == pytest.approx(4.0, abs=0.001)
    stereo = extract_audio(media_dir / "clips" / "talk_astronaut_4s.mp4", 48000, channels=2)
    assert stereo.samples.shape == (2, 192000)
    peaks = waveform_peaks(pcm.mono, 40)
    assert peaks.shape == (40, 2) and np.all(peaks[:, 0] <= peaks[:, 1])
    # speech runs from about 0.41 s to 3.44 s: the first bucket is quieter than the middle
    assert peaks[0, 1] - peaks[0, 0] < peaks[20, 1] - peaks[20, 0]
    mp3 = extract_audio(media_dir / "bad" / "speech.mp3", 16000)
    assert mp3.duration == pytest.approx(4.0, abs=0.05)


def test_extract_audio_errors(media_dir: Path) -> None:
    with pytest.raises(NoAudioStreamError, match=r"video_only\.mp4"):
        extract_audio(media_dir / "bad" / "video_only.mp4")
    with pytest.raises(CorruptMediaError, match=r"corrupt_header\.wav"):
        extract_audio(media_dir / "bad" / "corrupt_header.wav")


def test_odd_sides_are_padded_only_where_chroma_is_subsampled() -> None:
    assert encodable_size(641, 361, "yuv420p") == (642, 362)
    assert encodable_size(641, 361, "yuv422p") == (642, 361)
    assert encodable_size(641, 361, "yuv444p") == (641, 361)
    assert encodable_size(640, 360, "yuv420p") == (640, 360)


def test_container_and_audio_follow_the_extension() -> None:
    assert container_for(Path("a.MKV")) == "matroska" and container_for(Path("a.mov")) == "mov"
    assert container_for(Path("a.mp4")) == container_for(Path("a.weird")) == "mp4"
    assert audio_needs_encoding("pcm_s16le", "mp4") and audio_needs_encoding("opus", "mov")
    assert audio_needs_encoding("vorbis", "mp4") and not audio_needs_encoding("aac", "mp4")
    assert not audio_needs_encoding("pcm_s16le", "matroska") and not audio_needs_encoding("ac3", "mp4")


def test_interlaced_x264_keeps_the_field_order() -> None:
    assert "tff=1" in encoder_options(OutputSettings(), "libx264", 30, "tff")["x264-params"]
    assert "bff=1" in encoder_options(OutputSettings(), "libx264", 30, "bff")["x264-params"]
    assert "ff=1" not in encoder_options(OutputSettings(), "libx264", 30)["x264-params"]


def test_millisecond_and_1001_rounding_is_not_vfr() -> None:
    assert not is_vfr([33, 34, 33, 33, 34, 33], Fraction(1, 1000))  # 30 fps in WebM/MKV
    assert not is_vfr([2970, 3060, 2970, 3060], Fraction(1, 90000))  # the same, converted to 90 kHz
    assert not is_vfr([1001, 1001, 1002, 1001], Fraction(1, 30000))
    assert is_vfr([33, 50, 33, 17], Fraction(1, 1000))
