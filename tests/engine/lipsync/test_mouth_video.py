"""The offline mouth backend on the kit's talking clip, driven by a kit speech file and its phone labels;
the sync measure on the result, on shifted audio and on unrelated speech."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.engine.lipsync import LipSyncOptions
from layer_desktop.engine.lipsync.driver import mouth_track
from layer_desktop.engine.lipsync.mouth import render_mouth
from layer_desktop.engine.lipsync.phonemes import read_labels
from layer_desktop.engine.lipsync.sync import overall
from layer_desktop.engine.lipsync.video import (
    analyse_faces,
    driving_samples,
    lipsync_video,
    mouth_series,
    sync_check,
    target_plan,
)
from layer_desktop.engine.lipsync.visemes import Shape
from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderSpec, render
from layer_desktop.engine.voice.audio_file import write_audio
from tests.conftest import SHARED_MEDIA

pytestmark = pytest.mark.slow

VIDEO = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
SPEECH = SHARED_MEDIA / "audio" / "arctic_a0009_female.wav"
OTHER = SHARED_MEDIA / "audio" / "arctic_a0007_awb.wav"
LABELS = SHARED_MEDIA / "audio" / "arctic_a0009_phone.lab"
FPS = 25.0


class _AsRgb:
    """The render without lip-sync: every frame through RGB, as the transform's frames go."""

    tag = "as-rgb"

    def __call__(self, index: int, frame: av.VideoFrame) -> np.ndarray:
        return frame.to_ndarray(format="rgb24")


@dataclass(frozen=True)
class Rendered:
    output: Path
    reference: Path  # the same clip and audio rendered without lip-sync
    shapes: tuple[Shape, ...]
    work: Path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tmp = tmp_path_factory.mktemp("mouth")
    phones = read_labels(LABELS)
    out = tmp / "synced.mp4"
    report = lipsync_video(
        VIDEO, SPEECH, out, LipSyncOptions(enabled=True), phonemes=phones, work_dir=tmp / "w"
    )
    assert report.frames == 100 and report.changed == 100
    ref = tmp / "plain.mp4"
    render(RenderSpec(str(VIDEO), str(ref), audio=str(tmp / "w" / "audio.wav")), _AsRgb(), work_dir=tmp / "r")
    track = mouth_track(driving_samples(SPEECH), FPS, 100, phonemes=phones)
    return Rendered(out, ref, track.shapes, tmp)


def _frames_inside(shapes: tuple[Shape, ...], kinds: str, min_s: float = 0.0) -> list[int]:
    return [
        n
        for s in shapes
        if s.shape in kinds and s.length > min_s
        for n in range(100)
        if s.start_s <= n / FPS and (n + 1) / FPS <= s.end_s
    ]


def test_closures_and_long_silences_close_the_mouth_and_vowels_open_it(rendered: Rendered) -> None:
    gaps, _ = mouth_series(rendered.output, work=rendered.work / "m")
    closures = _frames_inside(rendered.shapes, "A")
    vowels = _frames_inside(rendered.shapes, "CD")
    silence = _frames_inside(rendered.shapes, "X", 0.35)
    assert len(closures) >= 2 and len(vowels) >= 8 and len(silence) >= 20
    open_gap = float(np.median(gaps[vowels]))
    assert open_gap > 0.15  # inner-lip gap over inter-ocular distance: clearly open
    assert gaps[closures].max() <= 0.2 * open_gap
    assert np.median(gaps[silence]) <= 0.2 * open_gap and gaps[silence].max() <= 0.3 * open_gap


def test_outside_the_lower_face_the_frames_equal_the_plain_render(rendered: Rendered) -> None:
    frames, fps, _ = analyse_faces(VIDEO, rendered.work / "w")
    plan = target_plan(VIDEO, frames)
    params = mouth_track(driving_samples(SPEECH), fps, 100, phonemes=read_labels(LABELS)).params
    with (
        FrameReader(VIDEO) as src,
        FrameReader(rendered.output) as out,
        FrameReader(rendered.reference) as ref,
    ):
        for n in range(0, 100, 9):
            target = plan[n].target
            assert target is not None and target.landmarks is not None
            scratch = src.frame_at(n).image.copy()
            moved = render_mouth(scratch, target.landmarks, params[n])
            assert moved is not None
            inside = np.zeros(scratch.shape[:2], bool)
            inside[moved.rect.slices()] = moved.mask > 0
            a = out.frame_at(n).image.astype(int)
            b = ref.frame_at(n).image.astype(int)
            diff = np.abs(a - b).max(axis=2)
            assert diff[inside].max() > 20  # the mouth did change here
            outside = ~_grow(inside, 8)  # x264 blocks next to the change may differ a little
            # re-encode noise: the plain render against the decoded source, on the same pixels
            noise = np.abs(b - src.frame_at(n).image.astype(int)).max(axis=2)[outside]
            assert diff[outside].mean() <= min(noise.mean(), 3.0)
            assert np.percentile(diff[outside], 99.9) <= np.percentile(noise, 99.9) + 2


def _grow(mask: np.ndarray, px: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)


def _with_audio(rendered: Rendered, name: str, samples: np.ndarray) -> Path:
    wav = rendered.work / f"{name}.wav"
    write_audio(wav, Pcm(samples[None].astype(np.float32), 16_000, 0.0, 16_000, 1))
    out = rendered.work / f"{name}.mp4"
    render(RenderSpec(str(rendered.output), str(out), audio=str(wav)), work_dir=rendered.work / f"r-{name}")
    return out


def test_sync_check_finds_the_offset_of_shifted_audio(rendered: Rendered) -> None:
    base, base_conf = overall(sync_check(rendered.output, work=rendered.work / "s0"))
    assert abs(base) <= 1
    speech = extract_audio(SPEECH, 16_000).mono
    shift = int(4 / FPS * 16_000)
    late = np.concatenate([np.zeros(shift, np.float32), speech])[: speech.size]
    early = np.concatenate([speech[shift:], np.zeros(shift, np.float32)])
    for name, audio, want in (("late", late, 4), ("early", early, -4)):
        found, _ = overall(sync_check(_with_audio(rendered, name, audio), work=rendered.work / f"s-{name}"))
        assert abs(found - want) <= 1, (name, found)
    other = extract_audio(OTHER, 16_000).mono
    _, other_conf = overall(sync_check(_with_audio(rendered, "other", other), work=rendered.work / "s-other"))
    assert other_conf < base_conf
