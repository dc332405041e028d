"""Creating a persona from photos, voice samples and a consent record.

Everything is checked before anything is stored: consent first (no consent, no analysis), then each
photo and voice sample (the first bad file stops creation with an error naming it). Photos flagged as
outliers are kept, with the reason, but not used for the face or the identity embedding.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from layer_desktop.engine.faces import Embedder
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
from layer_desktop.engine.personas.records import Consent, FaceImage, Persona, VoiceSample, now_iso
from layer_desktop.engine.personas.store import PersonaStore, name_key
from layer_desktop.engine.personas.voice import analyse_voice
from layer_desktop.errors import ConsentRequiredError, PersonaError, PersonaNotFoundError

log = logging.getLogger(__name__)

MIN_QUALITY = 0.2
MIN_SIMILARITY = 0.3


@dataclass(frozen=True)
class ConsentInput:
    """Consent as the user enters it; the statement and date have defaults, the person does not."""

    given_by: str | None
    statement: str | None = None
    date: dt.date | None = None
    proof: Path | None = None


@dataclass(frozen=True)
class Thresholds:
    min_quality: float = MIN_QUALITY
    min_similarity: float = MIN_SIMILARITY


def check_consent(consent: ConsentInput, name: str) -> Consent:
    """A valid consent record (proof not yet stored); raises ``ConsentRequiredError``."""
    if not consent.given_by or not consent.given_by.strip():
        raise ConsentRequiredError(
            f"The persona {name!r} has no consent record: who gave consent is missing."
        )
    if consent.proof is not None and not consent.proof.is_file():
        raise PersonaError(f"The consent proof file {consent.proof} does not exist.", path=consent.proof)
    statement = consent.statement or (
        f"{consent.given_by.strip()} gave consent for the persona {name.strip()!r} "
        "(no written statement recorded)."
    )
    return Consent(consent.given_by.strip(), consent.date or dt.date.today(), statement.strip())


def create_persona(
    store: PersonaStore,
    name: str,
    faces: Sequence[FaceInput],
    consent: ConsentInput,
    voices: Sequence[Path] = (),
    *,
    backend: FaceBackend | None = None,
    embedder: Embedder | None = None,
    thresholds: Thresholds = Thresholds(),
) -> Persona:
    """Analyse, store and return a new persona.

    Raises ``ConsentRequiredError`` without consent, ``PersonaError`` for a missing or taken name or
    when no photo is usable, ``ImageError``/``NoFaceError``/``MultipleFacesError`` for a photo and a
    ``MediaError`` subclass for a voice sample (each naming the file).
    """
    record = check_consent(consent, name)
    if not name.strip():
        raise PersonaError("A persona needs a name.")
    _check_name_free(store, name)
    if not faces:
        raise PersonaError(f"The persona {name!r} needs at least one photo with a face.")
    analysed = [analyse_face(f, backend or DefaultFaceBackend(), embedder) for f in faces]
    flags = outlier_reasons(
        analysed, min_quality=thresholds.min_quality, min_similarity=thresholds.min_similarity
    )
    chosen = [a for a, why in zip(analysed, flags, strict=True) if why is None]
    if not chosen:
        details = "; ".join(f"{a.path.name}: {why}" for a, why in zip(analysed, flags, strict=True))
        raise PersonaError(
            f"None of the photos for {name!r} can be used ({details}).", hint="Add clearer photos."
        )
    voice_info = [(v, analyse_voice(v)) for v in voices]

    if consent.proof is not None:
        record = Consent(
            record.given_by,
            record.date,
            record.statement,
            store.media.put_file(consent.proof),
            consent.proof.name,
        )
    face_rows = [_face_row(store, a, why) for a, why in zip(analysed, flags, strict=True)]
    voice_rows = [
        VoiceSample(
            store.media.put_file(p), p.name, a.duration_s, a.sample_rate, a.channels, a.rms_dbfs, a.peak_dbfs
        )
        for p, a in voice_info
    ]
    best = max(chosen, key=lambda a: a.quality.score)
    embeddings = {}
    if embedder is not None:
        embeddings[embedder.model_id] = mean_embedding(
            [a.embedding for a in chosen if a.embedding is not None]
        )
    now = now_iso()
    persona = Persona(
        id=str(uuid.uuid4()),
        name=name.strip(),
        consent=record,
        faces=tuple(face_rows),
        voices=tuple(voice_rows),
        embeddings=embeddings,
        thumbnail_sha256=store.media.put_bytes(thumbnail_jpeg(best)),
        created_at=now,
        updated_at=now,
    )
    store.add(persona)
    for row in face_rows:
        if row.flagged:
            log.warning("persona %s: photo %s not used: %s", persona.name, row.source_name, row.flag_reason)
    return persona


def _check_name_free(store: PersonaStore, name: str) -> None:
    try:
        existing = store.get(name)
    except PersonaNotFoundError:
        return
    if name_key(existing.name) == name_key(name):
        raise PersonaError(f"A persona named {existing.name!r} already exists.", hint="Choose another name.")


def _face_row(store: PersonaStore, a: AnalysedFace, flag: str | None) -> FaceImage:
    h, w = a.rgb.shape[:2]
    x0, y0, x1, y1 = (round(float(v), 2) for v in a.face.bbox)
    return FaceImage(
        sha256=store.media.put_file(a.path),
        source_name=a.path.name,
        width=int(w),
        height=int(h),
        face_index=a.face_index,
        bbox=(x0, y0, x1, y1),
        detector_score=round(float(a.face.score), 4),
        quality=round(float(a.quality.score), 4),
        quality_reasons=tuple(a.quality.reasons),
        flagged=flag is not None,
        flag_reason=flag,
    )
