"""Files players play (``tests/media_zoo.py``): probe counts the frames that decode, and ``frame_at``
returns exactly what a plain sequential decode gives, on every file of the zoo."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.engine.media import index as index_module
from layer_desktop.engine.media.audio import Damage, audio_frames, extract_audio
from layer_desktop.engine.media.chunks import load_manifest
from layer_desktop.engine.media.encode import OutputSettings
from layer_desktop.engine.media.index import build_index
from layer_desktop.engine.media.patterns import read_pattern
from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderSpec, render
from layer_desktop.errors import UnsupportedFileError
from tests.media_zoo import ZOO

Zoo = Callable[[str], Path]


def sequential_decode(path: Path) -> list[np.ndarray]:
    """Every frame as PyAV decodes the file from start to end, as RGB."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.mark.parametrize("name", sorted(ZOO))
def test_probe_counts_the_frames_that_decode(zoo: Zoo, name: str) -> None:
    path = zoo(name)
    frames = sequential_decode(path)
    info = probe(path)
    assert info.video is not None
    assert info.video.frame_count == len(frames)
    shown = [read_pattern(f) for f in frames]
    recipe = ZOO[name]
    # the pictures that decode are the ones written, in order (an edit list cuts the first ones)
    assert shown == sorted(shown) and len(set(shown)) == len(shown)
    assert shown[-1] == recipe.frames - 1
    expected = recipe.frames - len(recipe.drop) - max(-recipe.start, 0) // max(recipe.step, 1)
    assert len(frames) == (recipe.shown or expected)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_frame_at_equals_the_sequential_decode(zoo: Zoo, name: str) -> None:
    path = zoo(name)
    frames = sequential_decode(path)
    rng = random.Random(name)
    wanted = [rng.randrange(len(frames)) for _ in range(50)]
    with FrameReader(path) as reader:
        assert reader.frame_count == len(frames)
        for i in wanted:
            image = reader.frame_at(i).image
            assert np.array_equal(image, frames[i]), f"frame {i} of {name} differs from the decode"
        assert reader.seeks <= len(wanted)  # each seek lands before its frame: no retries from further back
        assert [i for i, _ in reader.iter_frames(0, len(frames))] == list(range(len(frames)))
        times = [reader.time_of(i) for i in range(len(frames))]
    assert times == sorted(times) and len(set(times)) == len(times)


@pytest.mark.parametrize(("name", "vfr"), [("webm_ms", False), ("ts_bframes", False), ("avi_dropped", True)])
def test_vfr_from_the_timeline(zoo: Zoo, name: str, vfr: bool) -> None:
    info = probe(zoo(name))
    assert info.video is not None and info.video.vfr is vfr


def test_the_packed_avi_is_packed_as_xvid_writes_it(zoo: Zoo) -> None:
    path = zoo("avi_packed_b")
    with av.open(str(path)) as c:
        sizes = [p.size for p in c.demux(video=0) if p.size]
    with av.open(str(path)) as c:
        reported = [f.pts for f in c.decode(video=0)]
    assert sum(1 for s in sizes if s <= 7) >= 10  # the N-VOP placeholders
    assert reported != sorted(
        reported
    )  # the decoder's pts come out of order: the timeline must not sort by them


def test_audio_duration_is_decoded_when_the_container_lacks_it(zoo: Zoo) -> None:
    path = zoo("mjpeg_pcm")
    with av.open(str(path)) as c:
        assert not c.streams.audio[0].duration  # AVI with PCM states no audio duration
    info = probe(path)
    assert info.audio is not None and abs(info.audio.duration - 48 / 25) < 0.01
    assert info.audio.damaged_frames == 0


def test_a_damaged_audio_frame_is_skipped_and_counted(zoo: Zoo, caplog: pytest.LogCaptureFixture) -> None:
    path = zoo("avi_ac3")
    damage = Damage()
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in audio_frames(c, c.streams.audio[0], path, damage))
    assert damage.frames == 1 and abs(samples / 48000 - 48 / 25) < 0.04
    pcm = extract_audio(path, 16000)
    assert abs(pcm.duration - 48 / 25) < 0.04
    assert "skipped an audio frame" in caplog.text


def test_interlaced_frames_are_deinterlaced_for_analysis(zoo: Zoo) -> None:
    path = zoo("ts_mpeg2_interlaced")
    with FrameReader(path) as reader:
        assert reader.interlaced and reader.field_order in ("tff", "bff")
        shown = dict(reader.iter_progressive())
        analysed = dict(reader.iter_upright())
        for i in (0, 17, 5, 47):
            single = reader.progressive_at(i).image
            assert np.array_equal(single, shown[i].to_ndarray(format="rgb24"))
            assert np.array_equal(single, analysed[i])
            assert not np.array_equal(single, reader.frame_at(i).image)  # yadif changed the woven frame
    assert sorted(shown) == list(range(48)) and not any(f.interlaced_frame for f in shown.values())


def test_the_first_frame_after_an_edit_list_needs_one_seek(zoo: Zoo) -> None:
    with FrameReader(zoo("edit_list")) as reader:
        reader.frame_at(0)
        assert reader.seeks == 1  # to the keyframe the edit list hides, not past it and back to the start


def test_the_m2ts_timestamps_wrap_and_the_timeline_runs_on(zoo: Zoo) -> None:
    path = zoo("m2ts_wrap")
    with av.open(str(path), options={"correct_ts_overflow": "0"}) as c:
        raw = [p.pts for p in c.demux(video=0) if p.pts is not None]
    assert max(raw) > 1 << 32 and min(raw) < 90000  # the 33-bit clock wraps inside the file
    with FrameReader(path) as reader:
        steps = {b - a for a, b in zip(reader.index.pts, reader.index.pts[1:], strict=False)}
        assert steps == {3600} and reader.frame_count == 48


class Fingerprints:
    """A passthrough step that notes a hash of every frame it is given."""

    tag = "passthrough"

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}

    def __call__(self, index: int, frame: av.VideoFrame) -> None:
        self.seen[index] = hashlib.sha256(frame.to_ndarray(format="rgb24").tobytes()).hexdigest()


def test_a_deinterlaced_chunk_is_the_same_alone_as_with_its_neighbours(zoo: Zoo, tmp_path: Path) -> None:
    src = zoo("ts_mpeg2_interlaced")
    wd = tmp_path / "work"
    settings = OutputSettings(preset="veryfast", hardware=False)
    spec = RenderSpec(str(src), str(tmp_path / "out.mp4"), settings=settings, chunk_frames=16)
    together, alone = Fingerprints(), Fingerprints()
    first = render(spec, together, work_dir=wd)
    assert any("deinterlaced to progressive" in n for n in first.notes)
    manifest = load_manifest(wd)
    assert manifest is not None
    (wd / manifest.chunks[1].file).unlink()  # as if the run had died while writing chunk 1
    again = render(spec, alone, work_dir=wd)
    assert again.encoded == (1,) and sorted(alone.seen) == list(range(16, 32))
    # what the processing step (and the encoder) gets for the chunk does not depend on how it was reached
    assert all(alone.seen[i] == together.seen[i] for i in range(16, 32))
    with FrameReader(src) as reader:
        woven = reader.frame_at(20).image
    assert hashlib.sha256(woven.tobytes()).hexdigest() != alone.seen[20]  # and it was deinterlaced


def test_a_ts_begun_mid_gop_shows_from_its_first_keyframe(zoo: Zoo) -> None:
    path = zoo("ts_cut_mid_gop")
    info = probe(path)
    assert info.video is not None and info.video.frame_count == 24
    assert abs(info.video.duration - 24 / 25) < 0.001  # the pictures that never decode are not counted
    with FrameReader(path) as reader:
        assert not reader.index.decoded  # found from the packets and the first GOPs, not a full decode
        assert read_pattern(reader.frame_at(0).image) == 24


def test_an_animated_gif_is_a_video_and_a_one_picture_gif_a_still(zoo: Zoo, tmp_path: Path) -> None:
    info = probe(zoo("gif_anim"))
    assert info.video is not None and info.video.frame_count == 20 and not info.video.vfr
    still = tmp_path / "one.gif"
    with av.open(str(still), "w") as out:
        stream = out.add_stream("gif", rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "gray"
        out.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")))
        out.mux(stream.encode(None))
    with pytest.raises(UnsupportedFileError, match="still image"):
        probe(still)
    with pytest.raises(UnsupportedFileError, match="still image"):
        FrameReader(still)


def test_a_decoded_timeline_is_kept_on_disk(
    zoo: Zoo, layer_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = zoo("avi_h264_b")
    index_module._cache.clear()  # as in a new process
    first = build_index(path, 0)
    stored = list((layer_home / "cache" / "timelines").glob("*.json"))
    assert first.decoded and len(stored) == 1

    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again")

    index_module._cache.clear()
    with monkeypatch.context() as m:
        m.setattr(index_module, "_build", no_decoding)
        again = build_index(path, 0)
    assert again == first and again.keys != tuple(sorted(again.keys))  # the decoder's order, kept
    stored[0].write_text("{damaged")
    index_module._cache.clear()
    assert build_index(path, 0) == first  # a damaged entry is built again
