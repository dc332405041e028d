"""The invisible watermark survives re-encoding, scaling and cropping, and is absent from sources.

The rates are logged (see them with `-o log_cli=true --log-cli-level=INFO`).
"""

from __future__ import annotations

import io
import logging
import random
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from layer_desktop.engine.media.probe import probe
from layer_desktop.engine.pipeline import TransformSpec, load_job, run_transform
from layer_desktop.engine.provenance import watermark as wm
from layer_desktop.engine.provenance.check import check_file, check_frames
from layer_desktop.engine.provenance.transform import watermark_payload
from tests.clips import reencode
from tests.conftest import SHARED_MEDIA
from tests.engine.provenance.conftest import DemoRun

Frame = NDArray[np.uint8]
log = logging.getLogger(__name__)


def _decode(data: bytes | str, limit: int | None = None) -> list[Frame]:
    src = io.BytesIO(data) if isinstance(data, bytes) else data
    with av.open(src) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames[:limit]


def _even(n: int) -> int:
    return n // 2 * 2


def _scaled(frames: list[Frame]) -> list[Frame]:
    h, w = frames[0].shape[:2]
    return [cv2.resize(f, (_even(w // 2), _even(h // 2)), interpolation=cv2.INTER_AREA) for f in frames]


def _cropped(frames: list[Frame]) -> list[Frame]:
    h, w = frames[0].shape[:2]
    return [np.ascontiguousarray(f[h // 10 : h - h // 10, w // 10 : w - w // 10]) for f in frames]


@pytest.fixture(scope="module")
def output_frames(demo_run: DemoRun) -> list[Frame]:
    return _decode(str(demo_run.output), 30)


def test_the_job_output_carries_the_jobs_payload(demo_run: DemoRun) -> None:
    report = check_file(demo_run.output, 30)
    log.info("output: mark in %d/%d frames", report.found, report.frames)
    assert report.rate >= 0.9
    assert report.payload == watermark_payload(demo_run.job.job_id)


@pytest.mark.parametrize(
    ("attack", "change"),
    [
        ("re-encode CRF 28", lambda fs: reencode(fs, 28)),
        ("scale to 50 %", _scaled),
        ("crop 10 % off each side", _cropped),
    ],
)
def test_the_mark_is_detected_after(
    attack: str, change: object, output_frames: list[Frame], demo_run: DemoRun
) -> None:
    frames = change(output_frames)  # type: ignore[operator]
    report = check_frames(frames)
    same = report.payload == watermark_payload(demo_run.job.job_id)
    size = f"{frames[0].shape[1]}x{frames[0].shape[0]}"
    low = min(d.score for d in report.detections)
    log.info(
        "%s: mark in %d/%d frames (%s), lowest score %.1f (found from %.1f); payload read back: %s",
        attack, report.found, 30, size, low, wm.THRESHOLD, same,
    )  # fmt: skip
    assert report.frames == 30
    assert report.rate >= 0.9


def test_no_mark_is_found_in_100_random_source_frames() -> None:
    pool = [f for name in ("talk_astronaut_4s", "talk_two_faces_4s", "no_face_3s", "vfr_rotated")
            for f in _decode(str(SHARED_MEDIA / "clips" / f"{name}.mp4"))]  # fmt: skip
    frames = random.Random(20).sample(pool, 100)
    report = check_frames(frames)
    top = max(d.score for d in report.detections)
    log.info("source frames: mark in %d/100; highest score %.1f", report.found, top)
    assert report.found == 0


def _psnr(a: Frame, b: Frame) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b) ** 2)))


def _smooth(frame: Frame) -> NDArray[np.bool_]:
    """Where the picture is flat or a smooth shading: luma within ±2 levels of a plane fit in 9x9 pixels
    (a gradient's local standard deviation once its slope is taken out)."""
    y = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    curvature = cv2.Laplacian(cv2.GaussianBlur(y, (0, 0), 1.0), cv2.CV_32F)
    detail = y - cv2.GaussianBlur(y, (0, 0), 2.0)
    rough = np.sqrt(np.maximum(cv2.blur(detail * detail, (9, 9)), 0)) + np.abs(cv2.blur(curvature, (9, 9)))
    return np.asarray(rough < 1.0)


def flat_and_gradient() -> Frame:
    """720p: flat mid grey above, a left-to-right gradient (40 to 220) below."""
    frame = np.full((720, 1280, 3), 128, np.uint8)
    frame[360:] = np.linspace(40, 220, 1280).astype(np.uint8)[None, :, None]
    return frame


@pytest.mark.parametrize("name", ["talk_astronaut_4s", "talk_two_faces_4s", "flat and gradient"])
def test_the_mark_is_invisible(name: str) -> None:
    frame = (
        flat_and_gradient()
        if name == "flat and gradient"
        else _decode(str(SHARED_MEDIA / "clips" / f"{name}.mp4"), 1)[0]
    )
    marked = frame.copy()
    wm.embed(marked, 0x1234)
    smooth = _smooth(frame)
    change = np.abs(marked.astype(np.int16) - frame).mean(axis=2)
    log.info(
        "%s: PSNR %.1f dB; mean change %.2f levels on its smooth %.0f %%, %.2f overall, %d at most",
        name, _psnr(marked, frame), change[smooth].mean(), 100 * smooth.mean(), change.mean(), change.max(),
    )  # fmt: skip
    assert smooth.mean() > 0.05
    assert _psnr(marked, frame) >= 42
    assert change[smooth].mean() <= 1.0
    assert wm.detect(marked).payload == 0x1234


def test_a_rotated_sources_output_is_checked_upright(demo_run: DemoRun, tmp_path: Path) -> None:
    """The render marks frames upright and stores them turned back (the source's display matrix):
    ``check`` turns them upright again before it looks."""
    spec = TransformSpec.model_validate(
        {
            "source": str(SHARED_MEDIA / "clips" / "vfr_rotated.mp4"), "output": str(tmp_path / "turned.mp4"),
            "persona": demo_run.persona.name, "output_settings": {"preset": "veryfast", "chunk_frames": 25},
        }
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(demo_run.home))
        run_transform(spec, store=demo_run.store)
        job_id = load_job(spec.output).job_id
    assert probe(Path(spec.output)).video.rotation == -90  # type: ignore[union-attr]
    report = check_file(Path(spec.output), 10)
    log.info("rotated source's output: mark in %d/%d frames", report.found, report.frames)
    assert report.found == report.frames and report.payload == watermark_payload(job_id)
