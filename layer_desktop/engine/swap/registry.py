"""Building the swap stage a job asks for: backend by name, its models from the model store."""

from __future__ import annotations

import logging
from typing import get_args

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces import ArcFaceEmbedder, FaceAnalyzer, load_image
from layer_desktop.engine.faces.geometry import iou
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.personas.face_analysis import mean_embedding
from layer_desktop.engine.swap.enhance import GfpganEnhancer
from layer_desktop.engine.swap.inswapper import InswapperSwapper
from layer_desktop.engine.swap.landmark import LandmarkSwapper
from layer_desktop.engine.swap.occlusion import Occluder, default_occluders
from layer_desktop.engine.swap.occlusion_model import OnnxOccluder
from layer_desktop.engine.swap.options import SwapBackendName, SwapOptions
from layer_desktop.engine.swap.persona_faces import persona_faces
from layer_desktop.engine.swap.types import Enhancer, Swapper
from layer_desktop.errors import NoFaceError

log = logging.getLogger(__name__)

BACKENDS: tuple[str, ...] = get_args(SwapBackendName)
INSWAPPER_MODEL = "inswapper_128_fp16"
ARCFACE_MODEL = "w600k_r50"
GFPGAN_MODEL = "gfpgan_1.4"


def arcface_embedding(store: PersonaStore, persona: Persona, models: ModelStore) -> NDArray[np.float32]:
    """The persona's ArcFace embedding: stored, or computed now from its photos (model from the store)."""
    if ARCFACE_MODEL in persona.embeddings:
        return np.asarray(persona.embeddings[ARCFACE_MODEL], np.float32)
    embedder = ArcFaceEmbedder(models.verify(ARCFACE_MODEL))
    analyzer = FaceAnalyzer.default()
    vectors = []
    for image in persona.chosen_faces:
        rgb = load_image(store.media_path(image.sha256))
        faces = analyzer.detect(rgb)
        if faces:
            vectors.append(embedder.embed(rgb, max(faces, key=lambda f: iou(f.bbox, image.bbox))))
    if not vectors:
        raise NoFaceError(f"No face could be found in the photos of persona {persona.name!r}.")
    return mean_embedding(vectors)


def make_occluders(options: SwapOptions, models: ModelStore | None = None) -> tuple[Occluder, ...]:
    """What finds occluders for ``options.occlusion``: the offline skin check, plus the XSeg-class model
    of that id from the model store. Raises ``ModelNotFoundError`` (fetch command as hint) when the
    model is not installed."""
    found = default_occluders(options)
    if options.occlusion in ("xseg", "occluder"):
        models = models or ModelStore()
        found += (OnnxOccluder(models.verify(options.occlusion), name=options.occlusion),)
    return found


def make_swapper(
    options: SwapOptions, persona: Persona, store: PersonaStore, models: ModelStore | None = None
) -> Swapper:
    """The swapper for ``options.backend``. Raises ``ModelNotFoundError`` (with the fetch command as
    hint) when a model backend's file is missing, ``NoFaceError`` when the persona has no usable face."""
    occluders = make_occluders(options, models)
    if options.backend == "inswapper":
        models = models or ModelStore()
        path = models.verify(INSWAPPER_MODEL)
        embedding = arcface_embedding(store, persona, models)
        return InswapperSwapper(path, embedding, options, occluders=occluders)
    return LandmarkSwapper(persona_faces(store, persona), options, occluders=occluders)


def make_enhancer(options: SwapOptions, models: ModelStore | None = None) -> Enhancer | None:
    """The enhancer post-stage, or None when off (the default)."""
    if options.enhancer == "none":
        return None
    models = models or ModelStore()
    return GfpganEnhancer(models.verify(GFPGAN_MODEL), options.enhancer_blend)
