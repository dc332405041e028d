"""Changing a stored persona: renaming it, adding photos and voice samples, and finding the faces in a
photo so the user can choose one before adding it.

Photos and voices are analysed exactly as ``create_persona`` does (its helpers are reused). Quality
flags depend on each photo alone, so new photos are flagged on their own; with an ``embedder`` the stored
photos are re-analysed too and the identity outlier flags and the mean embedding are recomputed over all.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from layer_desktop.engine.faces import Embedder
from layer_desktop.engine.personas.create import Thresholds, _check_name_free, _face_row
from layer_desktop.engine.personas.face_analysis import (
    AnalysedFace,
    DefaultFaceBackend,
    FaceBackend,
    FaceInput,
    analyse_face,
    mean_embedding,
    outlier_reasons,
    thumbnail_jpeg,
)
from layer_desktop.engine.personas.records import BBox, FaceImage, Persona, VoiceSample, now_iso
from layer_desktop.engine.personas.store import PersonaStore, name_key
from layer_desktop.engine.personas.voice import VoiceAnalysis, analyse_voice
from layer_desktop.errors import ImageError, PersonaError

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = Thresholds()


def rename_persona(store: PersonaStore, ref: str, new_name: str) -> Persona:
    """Give persona ``ref`` (id or name) the name ``new_name``; returns the stored persona.

    Raises ``PersonaNotFoundError`` for an unknown persona and ``PersonaError`` when the new name is
    empty or another persona has it (a change of case of the persona's own name is allowed).
    """
    persona = store.get(ref)
    name = new_name.strip()
    if not name:
        raise PersonaError("A persona needs a name.", hint="Type a name for the persona.")
    if name == persona.name:
        return persona
    if name_key(name) != name_key(persona.name):
        _check_name_free(store, name)
    store.replace(dataclasses.replace(persona, name=name, updated_at=now_iso()))
    log.info("persona %s renamed from %r to %r", persona.id, persona.name, name)
    return store.get(persona.id)


def extend_persona(
    store: PersonaStore,
    ref: str,
    faces: Sequence[FaceInput] = (),
    voices: Sequence[Path] = (),
    *,
    backend: FaceBackend | None = None,
    embedder: Embedder | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Persona:
    """Add photos and voice samples to persona ``ref``; returns the stored persona.

    Every file is checked before anything is stored. Raises ``PersonaError`` when nothing is given,
    ``ImageError``/``NoFaceError``/``MultipleFacesError`` for a photo and a ``MediaError`` subclass for a
    voice sample (each naming the file), ``PersonaNotFoundError`` for an unknown persona.
    """
    persona = store.get(ref)
    if not faces and not voices:
        raise PersonaError(
            f"Nothing to add to the persona {persona.name!r}.", hint="Choose photos or voices."
        )
    backend = backend or DefaultFaceBackend()
    new = [analyse_face(f, backend, embedder) for f in faces]
    voice_info = [(v, analyse_voice(v)) for v in voices]

    old_rows, old_analysed = list(persona.faces), []
    if embedder is not None and new:  # identity flags compare photos: re-analyse the stored ones
        old_analysed = [
            analyse_face(FaceInput(store.media_path(f.sha256), f.face_index), backend, embedder)
            for f in persona.faces
        ]
    flags = outlier_reasons(
        old_analysed + new, min_quality=thresholds.min_quality, min_similarity=thresholds.min_similarity
    )
    if old_analysed:
        old_rows = [_reflag(row, why) for row, why in zip(old_rows, flags[: len(old_rows)], strict=True)]
    new_flags = flags[len(old_analysed) :]
    new_rows = [_face_row(store, a, why) for a, why in zip(new, new_flags, strict=True)]

    embeddings = dict(persona.embeddings)
    if embedder is not None:
        chosen = [a for a, why in zip(old_analysed + new, flags, strict=True) if why is None]
        vectors = [a.embedding for a in chosen if a.embedding is not None]
        if vectors:
            embeddings[embedder.model_id] = mean_embedding(vectors)
    updated = dataclasses.replace(
        persona,
        faces=tuple(old_rows + new_rows),
        voices=persona.voices + tuple(_voice_row(store, p, a) for p, a in voice_info),
        embeddings=embeddings,
        thumbnail_sha256=_thumbnail(store, persona, new, new_flags),
        updated_at=now_iso(),
    )
    store.replace(updated)
    for row in new_rows:
        if row.flagged:
            log.warning("persona %s: photo %s not used: %s", persona.name, row.source_name, row.flag_reason)
    log.info("persona %s: added %d photo(s), %d voice sample(s)", persona.id, len(new_rows), len(voice_info))
    return store.get(persona.id)


def detect_faces(path: Path, backend: FaceBackend | None = None) -> list[BBox]:
    """The boxes (x0, y0, x1, y1, in image pixels) of every face in a photo, largest first: box ``i``
    is the face ``FaceInput(path, face_index=i)`` picks. Raises ``ImageError`` naming the file when it is
    missing or not a usable picture; a photo without faces gives an empty list."""
    if not path.is_file():
        raise ImageError(f"The picture {path} does not exist.", path=path)
    backend = backend or DefaultFaceBackend()
    faces = backend.detect(backend.load_image(path))
    return [(float(f.bbox[0]), float(f.bbox[1]), float(f.bbox[2]), float(f.bbox[3])) for f in faces]


def _reflag(row: FaceImage, why: str | None) -> FaceImage:
    return dataclasses.replace(row, flagged=why is not None, flag_reason=why)


def _voice_row(store: PersonaStore, path: Path, a: VoiceAnalysis) -> VoiceSample:
    return VoiceSample(
        store.media.put_file(path),
        path.name,
        a.duration_s,
        a.sample_rate,
        a.channels,
        a.rms_dbfs,
        a.peak_dbfs,
    )


def _thumbnail(
    store: PersonaStore, persona: Persona, new: Sequence[AnalysedFace], flags: Sequence[str | None]
) -> str | None:
    """The new best photo's thumbnail when it beats every photo the persona already uses."""
    usable = [a for a, why in zip(new, flags, strict=True) if why is None]
    if not usable:
        return persona.thumbnail_sha256
    best = max(usable, key=lambda a: a.quality.score)
    current = max((f.quality for f in persona.chosen_faces), default=-1.0)
    if persona.thumbnail_sha256 is not None and best.quality.score <= current:
        return persona.thumbnail_sha256
    return store.media.put_bytes(thumbnail_jpeg(best))
