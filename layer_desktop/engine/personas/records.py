"""The persona record: consent, face images, embeddings, voice samples and voice profiles.

Records are frozen and carry only hashes of media (files live content-addressed in ``MediaStore``).
``persona_to_dict`` / ``persona_from_dict`` give the JSON form used by ``.layerpersona`` bundles.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from layer_desktop.errors import BundleError, ConsentRequiredError

BBox = tuple[float, float, float, float]
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Consent:
    """Who agreed to their likeness and voice being used, when, and in what words."""

    given_by: str
    date: dt.date
    statement: str
    proof_sha256: str | None = None
    proof_name: str | None = None

    def __post_init__(self) -> None:
        if not self.given_by.strip():
            raise ConsentRequiredError("A persona needs a consent record: who gave consent is missing.")
        if not self.statement.strip():
            raise ConsentRequiredError("A persona needs a consent record: the consent statement is empty.")
        if self.date > dt.date.today():
            raise ConsentRequiredError(f"The consent date {self.date.isoformat()} is in the future.")


@dataclass(frozen=True)
class FaceImage:
    """One photo of the persona and the face chosen in it; ``flagged`` photos are kept but not used."""

    sha256: str
    source_name: str
    width: int
    height: int
    face_index: int
    bbox: BBox
    detector_score: float
    quality: float
    quality_reasons: tuple[str, ...] = ()
    flagged: bool = False
    flag_reason: str | None = None


@dataclass(frozen=True)
class VoiceSample:
    """One recording of the persona's voice; loudness is RMS in dBFS over the whole sample."""

    sha256: str
    source_name: str
    duration_s: float
    sample_rate: int
    channels: int
    rms_dbfs: float
    peak_dbfs: float


@dataclass(frozen=True)
class Persona:
    id: str
    name: str
    consent: Consent
    faces: tuple[FaceImage, ...]
    voices: tuple[VoiceSample, ...] = ()
    embeddings: Mapping[str, NDArray[np.float32]] = field(default_factory=dict)
    voice_profiles: Mapping[str, JsonDict] = field(default_factory=dict)
    thumbnail_sha256: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def chosen_faces(self) -> tuple[FaceImage, ...]:
        """The photos used for the face: every one not flagged as an outlier."""
        return tuple(f for f in self.faces if not f.flagged)

    def media_hashes(self) -> set[str]:
        """Every content hash this persona refers to."""
        hashes = {f.sha256 for f in self.faces} | {v.sha256 for v in self.voices}
        hashes |= {h for h in (self.thumbnail_sha256, self.consent.proof_sha256) if h}
        return hashes


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def vector_to_text(v: NDArray[np.float32]) -> str:
    return base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii")


def vector_from_bytes(data: bytes) -> NDArray[np.float32]:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def persona_to_dict(p: Persona) -> JsonDict:
    """The JSON form of a persona (embeddings as base64 little-endian float32)."""
    c = p.consent
    return {
        "id": p.id,
        "name": p.name,
        "consent": {
            "given_by": c.given_by,
            "date": c.date.isoformat(),
            "statement": c.statement,
            "proof_sha256": c.proof_sha256,
            "proof_name": c.proof_name,
        },
        "faces": [
            {**f.__dict__, "bbox": list(f.bbox), "quality_reasons": list(f.quality_reasons)} for f in p.faces
        ],
        "voices": [dict(v.__dict__) for v in p.voices],
        "embeddings": {k: vector_to_text(v) for k, v in p.embeddings.items()},
        "voice_profiles": dict(p.voice_profiles),
        "thumbnail_sha256": p.thumbnail_sha256,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def persona_from_dict(d: Mapping[str, Any]) -> Persona:
    """Inverse of ``persona_to_dict``; raises ``BundleError`` for a malformed record."""
    try:
        c = d["consent"]
        faces = tuple(
            FaceImage(**{**f, "bbox": tuple(f["bbox"]), "quality_reasons": tuple(f["quality_reasons"])})
            for f in d["faces"]
        )
        return Persona(
            id=str(d["id"]),
            name=str(d["name"]),
            consent=Consent(
                str(c["given_by"]),
                dt.date.fromisoformat(c["date"]),
                str(c["statement"]),
                c.get("proof_sha256"),
                c.get("proof_name"),
            ),
            faces=faces,
            voices=tuple(VoiceSample(**v) for v in d.get("voices", [])),
            embeddings={
                k: vector_from_bytes(base64.b64decode(v)) for k, v in d.get("embeddings", {}).items()
            },
            voice_profiles=dict(d.get("voice_profiles", {})),
            thumbnail_sha256=d.get("thumbnail_sha256"),
            created_at=str(d["created_at"]),
            updated_at=str(d["updated_at"]),
        )
    except ConsentRequiredError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"The persona record is malformed: {type(exc).__name__} {exc}.") from exc
