"""probe() reports the right facts for every clip in the media kit, and a specific error for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from layer_desktop.engine.media.probe import is_vfr, probe
from layer_desktop.errors import (
    CorruptMediaError,
    EmptyFileError,
    LayerError,
    MediaNotFoundError,
    UnsupportedFileError,
)

# clip: (fps, frames, video duration, rotation, vfr, display w×h, audio rate, audio channels)
EXPECTED = {
    "talk_astronaut_4s.mp4": ("25", 100, 4.0, 0, False, (512, 512), 48000, 2),
    "talk_two_faces_4s.mp4": ("30", 120, 4.0, 0, False, (640, 360), 44100, 1),
    "vfr_rotated.mp4": ("150000/5953", 50, 1.984, -90, True, (360, 640), 44100, 2),
    "no_face_3s.mp4": ("24", 72, 3.0, 0, False, (640, 360), 48000, 2),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_probe_reports_clip_facts(media_dir: Path, name: str) -> None:
    fps, frames, duration, rotation, vfr, display, rate, channels = EXPECTED[name]
    info = probe(media_dir / "clips" / name)
    assert info.video is not None and info.audio is not None
    assert info.video.avg_rate == fps
    assert info.video.frame_count == frames
    assert info.video.duration == pytest.approx(duration, abs=0.001)
    assert info.video.rotation == rotation
    assert info.video.vfr is vfr
    assert (info.video.display_width, info.video.display_height) == display
    assert info.video.codec == "h264" and info.video.has_b_frames
    assert info.video.color_space == "bt709" and info.video.color_range == "tv"
    assert (info.audio.sample_rate, info.audio.channels) == (rate, channels)
    json.dumps(info.to_dict())  # pure, serialisable data


def test_vfr_clip_real_rate_and_coded_size(media_dir: Path) -> None:
    video = probe(media_dir / "clips" / "vfr_rotated.mp4").video
    assert video is not None
    assert video.real_rate == "60"
    assert (video.width, video.height) == (640, 360)
    assert video.avg_fps == pytest.approx(25.197, abs=0.001)


def test_audio_only_and_video_only_files_probe(media_dir: Path) -> None:
    audio_only = probe(media_dir / "bad" / "audio_only.mp4")
    assert audio_only.video is None and audio_only.audio is not None
    assert audio_only.audio.duration == pytest.approx(3.095, abs=0.01)
    video_only = probe(media_dir / "bad" / "video_only.mp4")
    assert video_only.audio is None and video_only.video is not None
    assert video_only.video.frame_count == 50
    mp3 = probe(media_dir / "bad" / "speech.mp3")
    assert mp3.audio is not None and mp3.audio.sample_rate == 16000


BAD = {
    "empty.mp4": (EmptyFileError, "empty"),
    "truncated_30pct.mp4": (CorruptMediaError, "cut short"),
    "truncated_no_moov.mp4": (CorruptMediaError, "index"),
    "text_renamed.mp4": (UnsupportedFileError, "text file"),
    "corrupt_header.wav": (CorruptMediaError, "damaged header"),
    "jpeg_named.png": (UnsupportedFileError, "still image"),
    "cmyk.jpg": (UnsupportedFileError, "still image"),
    "rgba16.png": (UnsupportedFileError, "still image"),
    "one_pixel.png": (UnsupportedFileError, "still image"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_give_specific_errors_naming_the_file(media_dir: Path, name: str) -> None:
    kind, words = BAD[name]
    with pytest.raises(kind) as caught:
        probe(media_dir / "bad" / name)
    assert name in str(caught.value) and words in str(caught.value)
    assert caught.value.hint and caught.value.hint != LayerError.default_hint


def test_matroska_without_frame_count_is_counted_by_demuxing(media_dir: Path, tmp_path: Path) -> None:
    mkv = tmp_path / "vfr.mkv"
    with av.open(str(media_dir / "clips" / "vfr_rotated.mp4")) as src, av.open(str(mkv), "w") as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    video = probe(mkv).video
    assert video is not None
    assert video.frame_count == 50 and video.vfr and video.rotation == -90


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError, match="does not exist"):
        probe(tmp_path / "nope.mp4")


def test_vfr_detection_rule() -> None:
    assert not is_vfr([512] * 50)
    assert not is_vfr([3003, 3003, 3004, 3003])  # 29.97 fps rounding is still constant
    assert is_vfr([3000, 3000, 4500, 1500])
