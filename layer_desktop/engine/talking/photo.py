"""The face that talks: a photo (or the persona's best photo), its one face found with the offline
detector and Face Mesh, cropped around the face to the output's shape (a square by default, like the
seed) and scaled to the output size (at most 1080p)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer, load_image
from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import ConsentRequiredError, NoFaceError

log = logging.getLogger(__name__)

MAX_SQUARE = 1080
FACE_SPAN = 4.5  # the crop is at most this many face widths across (a full-body photo becomes a portrait)
FACE_HEIGHT_AT = 0.42  # the face centre sits this far down the crop


@dataclass(frozen=True)
class Portrait:
    """The output-sized still, its face (468 Face Mesh points, output pixels), where it came from."""

    rgb: ImageRGB
    face: Face
    source_name: str
    persona: Persona | None

    @property
    def landmarks(self) -> np.ndarray:
        assert self.face.landmarks is not None
        return np.asarray(self.face.landmarks, np.float64)[:, :2]


def _no_face(name: str, persona: Persona | None) -> NoFaceError:
    if persona is not None:
        return NoFaceError(
            f"No face was found in the photo of persona {persona.name!r} ({name}).",
            hint="Add a clear, front-on photo of the face to the persona.",
        )
    return NoFaceError(
        f"No face was found in {name}: a talking head needs a photo of a face (a product shot has none).",
        hint="Use a persona to present it (--persona NAME, or the persona column of a batch), "
        "or a portrait photo with one clear, front-on face.",
        path=name,
    )


def _source(spec: TalkSpec, store: PersonaStore) -> tuple[ImageRGB, str, Persona | None]:
    if spec.photo is not None:
        return load_image(spec.photo), Path(spec.photo).name, None
    assert spec.persona is not None
    persona = store.get(spec.persona)  # PersonaNotFoundError names `layer persona list`
    if persona.consent is None:  # records always carry one; checked again for a hand-edited store
        raise ConsentRequiredError(f"Persona {persona.name!r} has no consent record.")
    chosen = sorted(persona.chosen_faces, key=lambda f: -f.quality)
    if not chosen:
        raise _no_face("its photos", persona)
    best = chosen[0]
    return load_image(store.media_path(best.sha256)), best.source_name, persona


def _largest_face(analyzer: FaceAnalyzer, rgb: ImageRGB) -> Face | None:
    faces = [f for f in analyzer.detect(rgb) if f.landmarks is not None]
    if len(faces) > 1:
        log.info("%d faces in the photo: the largest speaks", len(faces))
    return faces[0] if faces else None


def crop_box(
    width: int, height: int, face: Face, aspect: float, span: float = FACE_SPAN
) -> tuple[int, int, int, int]:
    """The crop (x0, y0, x1, y1) of ``aspect`` (w/h) around ``face``: as large as the picture allows, up
    to ``span`` face widths across; the face centred across and ``FACE_HEIGHT_AT`` down, in the picture."""
    cw = min(float(width), height * aspect, max(face.width, 8.0) * span * max(aspect, 1.0))
    ch = cw / aspect
    cx, cy = face.center
    x0 = float(np.clip(cx - cw / 2, 0, width - cw))
    y0 = float(np.clip(cy - ch * FACE_HEIGHT_AT, 0, height - ch))
    return round(x0), round(y0), round(x0 + cw), round(y0 + ch)


def output_size(crop_w: int, crop_h: int, wanted: tuple[int, int] | None) -> tuple[int, int]:
    """``wanted``, or the crop's own square side (at most 1080), made even for the encoder."""
    if wanted is not None:
        w, h = wanted
    else:
        w = h = min(crop_w, crop_h, MAX_SQUARE)
    return w - w % 2, h - h % 2


def load_portrait(spec: TalkSpec, store: PersonaStore, analyzer: FaceAnalyzer | None = None) -> Portrait:
    """The output-sized still and its face. Raises ``ImageError`` for an unreadable picture,
    ``NoFaceError`` (suggesting a persona) when it holds no face, ``PersonaNotFoundError``."""
    analyzer = analyzer or FaceAnalyzer.default()
    rgb, name, persona = _source(spec, store)
    face = _largest_face(analyzer, rgb)
    if face is None:
        raise _no_face(name, persona)
    wanted = spec.frame_size
    aspect = 1.0 if wanted is None else wanted[0] / wanted[1]
    x0, y0, x1, y1 = crop_box(rgb.shape[1], rgb.shape[0], face, aspect)
    w, h = output_size(x1 - x0, y1 - y0, wanted)
    crop = rgb[y0:y1, x0:x1]
    shrink = w < crop.shape[1]
    resized = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    still: ImageRGB = np.ascontiguousarray(resized, dtype=np.uint8)
    fitted = _largest_face(analyzer, still)
    if fitted is None:
        raise _no_face(name, persona)
    log.info("portrait %s: crop %s → %dx%d, face %.0f px", name, (x0, y0, x1, y1), w, h, fitted.width)
    return Portrait(still, fitted, name, persona)
