"""wav2lip and EDTalk backends with generated models of the real signatures, on the kit's photo."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from layer_desktop.engine.faces import FaceAnalyzer, load_image
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.lipsync import LipSyncOptions, make_lipsyncer
from layer_desktop.engine.lipsync.backends import MODEL_IDS
from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.lipsync.onnx_backends import MESH_JAW_68, MESH_NOSE_68, EdTalkSyncer, Wav2LipSyncer
from layer_desktop.engine.models import ModelStore, load_manifest
from layer_desktop.errors import ModelError, ModelNotFoundError
from tests.conftest import SHARED_MEDIA
from tests.engine.lipsync.conftest import edtalk_model, wav2lip_model

SPEECH = np.sin(2 * np.pi * 220 * np.arange(RATE) / RATE).astype(np.float32) * 0.3


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, Face]:
    rgb = load_image(SHARED_MEDIA / "faces" / "astronaut.png")
    return rgb, FaceAnalyzer.default().detect_one(rgb)


def _mel() -> np.ndarray:
    from layer_desktop.engine.lipsync.mel import mel_spectrogram

    return mel_spectrogram(SPEECH)


def _hull(face: Face, grow: int) -> np.ndarray:
    """The lower-face hull (jaw 3..13 + nose, as the 68-point layout) in the frame, grown or shrunk."""
    assert face.landmarks is not None
    lm = face.landmarks[:, :2]
    pts = np.vstack([lm[list(MESH_JAW_68[3:14])], lm[list(MESH_NOSE_68[::-1])]])
    mask = np.zeros((512, 512), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    kernel = np.ones((2 * abs(grow) + 1, 2 * abs(grow) + 1), np.uint8)
    return (cv2.dilate(mask, kernel) if grow > 0 else cv2.erode(mask, kernel)).astype(bool)


def test_wav2lip_that_returns_the_unmasked_face_leaves_the_frame_as_it_was(
    tmp_path: Path, photo: tuple[np.ndarray, Face]
) -> None:
    rgb, face = photo
    syncer = Wav2LipSyncer(wav2lip_model(tmp_path / "w.onnx"), _mel(), 25.0, 0.5)
    out = rgb.copy()
    result = syncer.apply(out, face, 3)
    assert result is not None and result.mask.max() > 0.99
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 2


def test_wav2lip_constant_colour_changes_exactly_the_lower_face(
    tmp_path: Path, photo: tuple[np.ndarray, Face]
) -> None:
    rgb, face = photo
    green_bgr = (0.1, 0.9, 0.1)
    syncer = Wav2LipSyncer(wav2lip_model(tmp_path / "w.onnx", green_bgr), _mel(), 25.0, 0.5)
    out = rgb.copy()
    syncer.apply(out, face, 0)
    changed = np.abs(out.astype(int) - rgb.astype(int)).max(axis=2) > 0
    assert not changed[~_hull(face, 2)].any()  # nothing outside the lower-face hull
    inner = _hull(face, -4)
    assert changed[inner].all()  # everything well inside it
    off = np.abs(out[inner] - np.array([25.5, 229.5, 25.5]))  # and there it is the model's colour
    assert np.median(off) <= 1.0 and off.max() <= 6  # (the frame's detail stays where a channel hardly moves)


def test_edtalk_identity_keeps_the_frame_and_constant_colour_stays_in_the_crop_box(
    tmp_path: Path, photo: tuple[np.ndarray, Face]
) -> None:
    rgb, face = photo
    same = rgb.copy()
    EdTalkSyncer(edtalk_model(tmp_path / "e.onnx"), _mel(), 25.0, 0.5).apply(same, face, 0)
    assert np.abs(same.astype(int) - rgb.astype(int)).max() <= 2
    out = rgb.copy()
    result = EdTalkSyncer(edtalk_model(tmp_path / "c.onnx", (1.0, 0.0, 1.0)), _mel(), 25.0, 0.5).apply(
        out, face, 0
    )
    assert result is not None
    changed = np.abs(out.astype(int) - rgb.astype(int)).max(axis=2) > 0
    outside = np.ones(changed.shape, bool)
    outside[result.rect.slices()] = False
    assert not changed[outside].any()
    cx, cy = (int(v) for v in face.center)
    assert np.abs(out[cy, cx].astype(int) - [255, 0, 255]).max() <= 3  # the face centre is the model's


def test_a_model_with_other_inputs_is_refused(tmp_path: Path, photo: tuple[np.ndarray, Face]) -> None:
    rgb, face = photo
    syncer = EdTalkSyncer(wav2lip_model(tmp_path / "w.onnx"), _mel(), 25.0, 0.5)
    with pytest.raises(ModelError, match="weight"):
        syncer.apply(rgb.copy(), face, 0)


@pytest.mark.parametrize("backend", ["wav2lip", "wav2lip_gan", "edtalk"])
def test_a_missing_model_names_the_fetch_command(tmp_path: Path, backend: str) -> None:
    store = ModelStore(models_dir=tmp_path / "models")
    with pytest.raises(ModelNotFoundError) as err:
        make_lipsyncer(LipSyncOptions(enabled=True, backend=backend), SPEECH, 25.0, 25, models=store)  # type: ignore[arg-type]
    assert f"layer models fetch {MODEL_IDS[backend]}" in (err.value.hint or "")


def test_an_installed_model_is_used_and_its_licence_shown(tmp_path: Path) -> None:
    manifest = json.loads(Path(load_manifest.__code__.co_filename).with_name("manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["id"] == "wav2lip_96")
    assert entry["licence"]["commercial_use"] is False and entry["urls"]
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    wav2lip_model(models_dir / entry["filename"])
    shown: list[str] = []
    syncer = make_lipsyncer(
        LipSyncOptions(enabled=True, backend="wav2lip"), SPEECH, 25.0, 25,
        models=ModelStore(models_dir=models_dir), on_licence=lambda spec: shown.append(spec.id),
    )  # fmt: skip
    assert isinstance(syncer, Wav2LipSyncer) and shown == ["wav2lip_96"]
