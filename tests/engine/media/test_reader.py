"""frame_at returns exactly the frame asked for: B-frames, long GOPs, VFR, start offsets, rotation."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from layer_desktop.engine.media.patterns import read_pattern
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.errors import FrameOutOfRangeError, NoVideoStreamError, UnsupportedFileError


def test_200_random_frame_at_calls_are_exact(pattern_clip: Path) -> None:
    rng = random.Random(20261121)
    with FrameReader(pattern_clip, cache_bytes=0) as reader:
        assert reader.frame_count == 300
        assert reader.stream.codec_context.has_b_frames
        wanted = [rng.randrange(300) for _ in range(200)]
        got = [read_pattern(reader.frame_at(i).image) for i in wanted]
    assert got == wanted


def test_vfr_with_start_offset_is_exact(pattern_vfr_clip: Path) -> None:
    rng = random.Random(7)
    with FrameReader(pattern_vfr_clip, cache_bytes=0) as reader:
        assert reader.index.pts[0] == 9000  # starts 0.1 s in
        wanted = [rng.randrange(reader.frame_count) for _ in range(60)]
        assert [read_pattern(reader.frame_at(i).image) for i in wanted] == wanted
        assert reader.frame_at(0).time == 0.0
        assert reader.frame_at(1).time == pytest.approx(3000 / 90000)


def test_sequential_access_does_not_seek(pattern_clip: Path) -> None:
    with FrameReader(pattern_clip, cache_bytes=0) as reader:
        reader.frame_at(10)
        seeks = reader.seeks
        for i in range(11, 40):
            assert read_pattern(reader.frame_at(i).image) == i
        assert reader.seeks == seeks


def test_cache_returns_same_frame_without_decoding(pattern_clip: Path) -> None:
    with FrameReader(pattern_clip) as reader:
        first = reader.frame_at(123)
        seeks = reader.seeks
        again = reader.frame_at(123)
        assert reader.seeks == seeks
        assert np.array_equal(first.image, again.image)


def test_iter_frames_yields_the_range_in_order(pattern_clip: Path) -> None:
    with FrameReader(pattern_clip) as reader:
        got = [(i, read_pattern(f.to_ndarray(format="rgb24"))) for i, f in reader.iter_frames(245, 260)]
    assert got == [(i, i) for i in range(245, 260)]


def test_frame_at_time_picks_the_frame_on_screen(pattern_vfr_clip: Path) -> None:
    with FrameReader(pattern_vfr_clip) as reader:
        assert reader.frame_at_time(0.0).index == 0
        assert reader.frame_at_time(3000 / 90000 + 0.001).index == 1
        assert reader.frame_at_time(0.0329).index == 0


def test_rotation_applied_on_request(media_dir: Path) -> None:
    with FrameReader(media_dir / "clips" / "vfr_rotated.mp4") as reader:
        raw = reader.frame_at(5).image
        upright = reader.frame_at(5, rotate=True).image
    assert raw.shape == (360, 640, 3)
    assert upright.shape == (640, 360, 3)
    assert np.array_equal(upright, np.rot90(raw, k=-1))


def test_out_of_range(pattern_clip: Path) -> None:
    with FrameReader(pattern_clip) as reader, pytest.raises(FrameOutOfRangeError, match="frames 0 to 299"):
        reader.frame_at(300)


def test_no_video_and_still_images(media_dir: Path) -> None:
    with pytest.raises(NoVideoStreamError):
        FrameReader(media_dir / "bad" / "audio_only.mp4")
    with pytest.raises(UnsupportedFileError, match="still image"):
        FrameReader(media_dir / "bad" / "cmyk.jpg")
