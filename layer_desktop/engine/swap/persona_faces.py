"""The persona's usable photos, analysed for swapping (landmarks and pose), from the persona store."""

from __future__ import annotations

import logging

from layer_desktop.engine.faces import FaceAnalyzer, head_pose, load_image
from layer_desktop.engine.faces.geometry import iou
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.swap.types import PersonaFace
from layer_desktop.errors import NoFaceError

log = logging.getLogger(__name__)


def persona_faces(
    store: PersonaStore, persona: Persona, analyzer: FaceAnalyzer | None = None
) -> list[PersonaFace]:
    """Each chosen photo of ``persona`` with its face re-detected (the one matching the stored box).

    Raises ``NoFaceError`` when no photo yields a face.
    """
    analyzer = analyzer or FaceAnalyzer.default()
    out = []
    for image in persona.chosen_faces:
        rgb = load_image(store.media_path(image.sha256))
        faces = analyzer.detect(rgb)
        if not faces:
            log.warning("persona %s: no face found again in %s", persona.name, image.source_name)
            continue
        face = max(faces, key=lambda f: iou(f.bbox, image.bbox))
        out.append(PersonaFace(rgb, face, image.quality, head_pose(face)))
    if not out:
        raise NoFaceError(
            f"No face could be found in the photos of persona {persona.name!r}.",
            hint="Add a clear photo of the face to the persona.",
        )
    return out
