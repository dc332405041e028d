"""The first "done when" of the talking head: the kit photo and a typed script → a 25 fps video as long
as the speech (±1 frame), disclosed (tags, mark, C2PA), with Face Mesh finding the face in every frame,
the inner lips closed on bilabials and open on open vowels, blinks (eye aspect ratio dips) and a frame
border that stays still while the face moves."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from layer_desktop.engine.lipsync.video import analyse_faces, mouth_series, target_plan
from layer_desktop.engine.lipsync.visemes import Shape
from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.engine.pipeline.disclosure import draw_mark, mark_box
from layer_desktop.engine.provenance.c2pa_sign import read_manifest
from layer_desktop.engine.provenance.manifest import CONSENT_LABEL, GENERATED, MODELS_LABEL
from tests.engine.talking.conftest import Talked

pytestmark = pytest.mark.slow
FPS = 25


def _frames(path: object) -> list[NDArray[np.uint8]]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _inside(shapes: tuple[Shape, ...], kinds: str, frames: int) -> list[int]:
    return [
        n
        for s in shapes
        if s.shape in kinds
        for n in range(frames)
        if s.start_s <= n / FPS and (n + 1) / FPS <= s.end_s
    ]


def _ear(lm: NDArray[np.floating]) -> float:
    """Eye aspect ratio of both eyes (Face Mesh points): lid gaps over eye widths."""
    p = np.asarray(lm, np.float64)[:, :2]

    def one(a: int, b: int, c: int, d: int, left: int, right: int) -> float:
        gaps = np.linalg.norm(p[a] - p[b]) + np.linalg.norm(p[c] - p[d])
        return float(gaps / (2 * np.linalg.norm(p[left] - p[right])))

    return (one(160, 144, 158, 153, 33, 133) + one(385, 380, 387, 373, 362, 263)) / 2


def test_a_25_fps_video_as_long_as_the_speech_with_its_sound(talked: Talked) -> None:
    speech_s = talked.animator.speech.duration_s
    assert 2.0 <= speech_s <= 4.5  # a short script keeps the test short
    with av.open(str(talked.output)) as c:
        video, audio = c.streams.video[0], c.streams.audio[0]
        assert video.average_rate == FPS
        assert (video.width, video.height) == (448, 448)
        frames = sum(1 for _ in c.decode(video=0))
    assert abs(frames / FPS - speech_s) <= 1 / FPS
    assert talked.report.frames == frames and talked.report.fps == FPS
    sound = extract_audio(talked.output, 16_000)
    assert abs(sound.duration - speech_s) <= 1 / FPS
    assert float(np.sqrt(np.mean(sound.mono**2))) > 0.02  # speech, not silence
    assert audio.codec_context.name == "aac"


def test_disclosure_tags_mark_and_a_generated_c2pa_manifest(talked: Talked) -> None:
    with av.open(str(talked.output)) as c:
        tags = dict(c.metadata)
    assert tags["synthetic"] == "true" and tags["ai_generated"] == "true"
    assert tags["layer_mode"] == "talking_head"
    assert "offline animator" in tags["layer_animator"]
    assert "animate" in tags["layer_backends"].split(",")
    first = _frames(talked.output)[0].astype(int)
    still = talked.animator.portrait.rgb
    marked = still.copy()
    draw_mark(marked, talked.spec.disclosure)
    box = mark_box(448, 448, talked.spec.disclosure).slices()
    assert np.abs(first[box] - marked[box].astype(int)).mean() < 4  # the mark, as the transform draws it
    assert np.abs(first[box] - still[box].astype(int)).mean() > 10
    assert (first[box].min(axis=2) > 200).sum() > 30  # white text
    report = read_manifest(talked.output)
    assert report.state == "Valid", report.failures
    actions = report.assertion("c2pa.actions.v2")["actions"]
    assert actions[0]["action"] == "c2pa.created" and actions[0]["digitalSourceType"] == GENERATED
    edits = [a["parameters"]["layer.edit"] for a in actions if a["action"] == "c2pa.edited"]
    assert edits == ["talking_head"]
    models = {m["id"] for m in report.assertion(MODELS_LABEL)["models"]}
    assert {"animate", "tts:espeak-ng", "mediapipe_face_landmark"} <= models
    assert report.assertion(CONSENT_LABEL)["consents"] == []  # a plain photo: no persona


def test_face_mesh_finds_the_face_in_every_frame_and_the_lips_follow_the_visemes(talked: Talked) -> None:
    gaps, fps = mouth_series(talked.output, work=talked.home / "mouth")
    assert fps == FPS and not np.isnan(gaps).any()
    shapes, n = talked.animator.mouth.track.shapes, len(gaps)
    closures, vowels = _inside(shapes, "A", n), _inside(shapes, "CD", n)
    assert len(closures) >= 3 and len(vowels) >= 8, (len(closures), len(vowels))
    open_gap = float(np.median(gaps[vowels]))
    assert open_gap > 0.15  # inner-lip gap over inter-ocular distance: clearly open
    assert float(np.median(gaps[closures])) <= 0.2 * open_gap
    assert gaps[closures].max() <= 0.35 * open_gap


def test_blinks_dip_the_eye_aspect_ratio_at_least_once_per_six_seconds(talked: Talked) -> None:
    found, _, _ = analyse_faces(talked.output, talked.home / "eyes")
    plan = target_plan(talked.output, found)
    ear = np.array([_ear((p.raw or p.target).landmarks) for p in plan])  # type: ignore[union-attr, arg-type]
    ratio = ear / np.median(ear)
    shut = talked.animator.eyes >= 0.99
    assert shut.any()
    dips = np.flatnonzero(ratio < 0.8)
    assert set(dips) <= set(np.flatnonzero(talked.animator.eyes > 0))  # only where the eyes close
    events = len([i for i in dips if i - 1 not in dips])
    assert events >= max(1, math.ceil(len(ear) / FPS / 6))
    assert ratio[shut].max() < 0.8  # every fully shut frame reads shut
    assert np.percentile(ratio[talked.animator.eyes == 0], 5) > 0.85  # open eyes read open


def test_the_border_stays_still_while_the_face_moves(talked: Talked) -> None:
    frames = np.stack(_frames(talked.output)).astype(np.int16)
    h, w = frames.shape[1:3]
    band = int(0.05 * min(h, w))
    edge = np.ones((h, w), bool)
    edge[band : h - band, band : w - band] = False
    change = np.abs(np.diff(frames, axis=0)).mean(axis=3)  # (n-1, h, w)
    border = change[:, edge].mean(axis=1)
    assert border.max() < 2.0, border.max()
    found, _, _ = analyse_faces(talked.output, talked.home / "eyes")
    nose = np.array([(p.raw or p.target).landmarks[1][:2] for p in target_plan(talked.output, found)])  # type: ignore[union-attr, index]
    assert np.ptp(nose, axis=0).max() > 2.0  # the head moved (pixels)
    face = talked.animator.portrait.face
    x0, y0, x1, y1 = (round(v) for v in face.bbox)
    assert change[:, max(0, y0) : y1, max(0, x0) : x1].mean() > 4 * border.mean()
