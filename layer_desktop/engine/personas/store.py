"""``PersonaStore``: personas in SQLite plus their media in a content-addressed folder.

Safe with several processes writing at once (the GUI and the engine): each call opens its own short
connection, and every write is one ``BEGIN IMMEDIATE`` transaction (see ``db``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from layer_desktop.engine.personas.db import connect, write_transaction
from layer_desktop.engine.personas.media_store import MediaStore
from layer_desktop.engine.personas.records import (
    Consent,
    FaceImage,
    Persona,
    VoiceSample,
    now_iso,
    vector_from_bytes,
)
from layer_desktop.errors import PersonaError, PersonaNotFoundError
from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)

_FACE_COLS = (
    "sha256, source_name, width, height, face_index, bbox, detector_score, quality, quality_reasons, "
    "flagged, flag_reason"
)
_VOICE_COLS = "sha256, source_name, duration_s, sample_rate, channels, rms_dbfs, peak_dbfs"


def name_key(name: str) -> str:
    """Names are unique ignoring case (and surrounding spaces)."""
    return name.strip().casefold()


class PersonaStore:
    """The persona library. ``database`` and ``media_dir`` default to the app's data folder."""

    def __init__(self, database: Path | None = None, media_dir: Path | None = None) -> None:
        paths = app_paths()
        self.database = database if database is not None else paths.database_file
        self.media = MediaStore(media_dir if media_dir is not None else paths.media_dir)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.database)
        try:
            yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------------ write

    def add(self, persona: Persona) -> None:
        """Insert a new persona. Raises ``PersonaError`` when its id or name (any case) is taken."""
        with self._connect() as conn, write_transaction(conn):
            self._check_free(conn, persona)
            _insert(conn, persona)
        log.info("persona %s (%s) added", persona.id, persona.name)

    def replace(self, persona: Persona) -> None:
        """Replace a stored persona (same id) with ``persona``, in one transaction."""
        with self._connect() as conn, write_transaction(conn):
            if conn.execute("DELETE FROM personas WHERE id = ?", (persona.id,)).rowcount != 1:
                raise PersonaNotFoundError(f"No persona with id {persona.id}.")
            self._check_free(conn, persona)
            _insert(conn, persona)

    def delete(self, ref: str) -> Persona:
        """Delete a persona (by id or name) and media no other persona uses; returns what was deleted."""
        with self._connect() as conn, write_transaction(conn):
            persona = _find(conn, ref)
            conn.execute("DELETE FROM personas WHERE id = ?", (persona.id,))
        self.collect_garbage()
        log.info("persona %s (%s) deleted", persona.id, persona.name)
        return persona

    def set_voice_profile(self, ref: str, backend: str, profile: Mapping[str, Any]) -> None:
        """Store (or replace) the voice profile of one backend (e.g. ``world``, ``elevenlabs``)."""
        now = now_iso()
        with self._connect() as conn, write_transaction(conn):
            persona = _find(conn, ref)
            conn.execute(
                "INSERT INTO persona_voice_profiles(persona_id, backend, profile, updated_at) "
                "VALUES (?,?,?,?) "
                "ON CONFLICT(persona_id, backend) DO UPDATE SET profile = excluded.profile, "
                "updated_at = excluded.updated_at",
                (persona.id, backend, json.dumps(dict(profile)), now),
            )
            conn.execute("UPDATE personas SET updated_at = ? WHERE id = ?", (now, persona.id))

    def collect_garbage(self) -> int:
        """Remove media files no persona refers to (old ones only; see ``MediaStore``)."""
        with self._connect() as conn:
            refs = {
                row[0]
                for sql in (
                    "SELECT sha256 FROM persona_faces",
                    "SELECT sha256 FROM persona_voice_samples",
                    "SELECT thumbnail_sha256 FROM personas WHERE thumbnail_sha256 IS NOT NULL",
                    "SELECT consent_proof_sha256 FROM personas WHERE consent_proof_sha256 IS NOT NULL",
                )
                for row in conn.execute(sql)
            }
        return self.media.collect_garbage(refs)

    @staticmethod
    def _check_free(conn: sqlite3.Connection, persona: Persona) -> None:
        row = conn.execute(
            "SELECT id, name FROM personas WHERE id = ? OR name_key = ?", (persona.id, name_key(persona.name))
        ).fetchone()
        if row is not None:
            what = "id" if row[0] == persona.id else "name"
            raise PersonaError(
                f"A persona with the {what} {persona.id if what == 'id' else persona.name!r} already exists "
                f"({row[1]!r}, {row[0]}).",
                hint="Choose another name, or delete the existing persona first.",
            )

    # ------------------------------------------------------------------ read

    def get(self, ref: str) -> Persona:
        """The persona with id or name ``ref`` (name ignoring case); raises ``PersonaNotFoundError``."""
        with self._connect() as conn:
            return _find(conn, ref)

    def exists(self, ref: str) -> bool:
        try:
            self.get(ref)
        except PersonaNotFoundError:
            return False
        return True

    def list(self) -> list[Persona]:
        """Every persona, by name."""
        with self._connect() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM personas ORDER BY name_key")]
            return [_load(conn, pid) for pid in ids]

    def media_path(self, sha256: str) -> Path:
        return self.media.path(sha256)


# ---------------------------------------------------------------------- rows


def _insert(conn: sqlite3.Connection, p: Persona) -> None:
    c = p.consent
    conn.execute(
        "INSERT INTO personas(id, name, name_key, consent_by, consent_date, consent_statement, "
        "consent_proof_sha256, consent_proof_name, thumbnail_sha256, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            p.id,
            p.name.strip(),
            name_key(p.name),
            c.given_by,
            c.date.isoformat(),
            c.statement,
            c.proof_sha256,
            c.proof_name,
            p.thumbnail_sha256,
            p.created_at,
            p.updated_at,
        ),
    )
    conn.executemany(
        f"INSERT INTO persona_faces(persona_id, position, {_FACE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (p.id, i, f.sha256, f.source_name, f.width, f.height, f.face_index, json.dumps(f.bbox),
             f.detector_score, f.quality, json.dumps(f.quality_reasons), int(f.flagged), f.flag_reason)
            for i, f in enumerate(p.faces)
        ],
    )  # fmt: skip
    conn.executemany(
        f"INSERT INTO persona_voice_samples(persona_id, position, {_VOICE_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (
                p.id,
                i,
                v.sha256,
                v.source_name,
                v.duration_s,
                v.sample_rate,
                v.channels,
                v.rms_dbfs,
                v.peak_dbfs,
            )
            for i, v in enumerate(p.voices)
        ],
    )
    conn.executemany(
        "INSERT INTO persona_embeddings(persona_id, model_id, dims, vector) VALUES (?,?,?,?)",
        [(p.id, m, int(v.size), np.asarray(v, dtype="<f4").tobytes()) for m, v in p.embeddings.items()],
    )
    conn.executemany(
        "INSERT INTO persona_voice_profiles(persona_id, backend, profile, updated_at) VALUES (?,?,?,?)",
        [(p.id, b, json.dumps(prof), p.updated_at) for b, prof in p.voice_profiles.items()],
    )


def _find(conn: sqlite3.Connection, ref: str) -> Persona:
    row = conn.execute(
        "SELECT id FROM personas WHERE id = ? OR name_key = ? ORDER BY id = ? DESC LIMIT 1",
        (ref, name_key(ref), ref),
    ).fetchone()
    if row is None:
        raise PersonaNotFoundError(f"No persona with the id or name {ref!r}.")
    return _load(conn, str(row[0]))


def _load(conn: sqlite3.Connection, persona_id: str) -> Persona:
    row = conn.execute(
        "SELECT name, consent_by, consent_date, consent_statement, consent_proof_sha256, consent_proof_name, "
        "thumbnail_sha256, created_at, updated_at FROM personas WHERE id = ?",
        (persona_id,),
    ).fetchone()
    if row is None:
        raise PersonaNotFoundError(f"No persona with id {persona_id}.")
    faces = tuple(
        FaceImage(
            sha, src, w, h, idx, tuple(json.loads(bbox)), score, q, tuple(json.loads(reasons)), bool(fl), why
        )
        for sha, src, w, h, idx, bbox, score, q, reasons, fl, why in conn.execute(
            f"SELECT {_FACE_COLS} FROM persona_faces WHERE persona_id = ? ORDER BY position", (persona_id,)
        )
    )
    voices = tuple(
        VoiceSample(*r)
        for r in conn.execute(
            f"SELECT {_VOICE_COLS} FROM persona_voice_samples WHERE persona_id = ? ORDER BY position",
            (persona_id,),
        )
    )
    embeddings = {
        m: vector_from_bytes(blob)
        for m, blob in conn.execute(
            "SELECT model_id, vector FROM persona_embeddings WHERE persona_id = ? ORDER BY model_id",
            (persona_id,),
        )
    }
    profiles = {
        b: json.loads(prof)
        for b, prof in conn.execute(
            "SELECT backend, profile FROM persona_voice_profiles WHERE persona_id = ? ORDER BY backend",
            (persona_id,),
        )
    }
    consent = Consent(row[1], dt.date.fromisoformat(row[2]), row[3], row[4], row[5])
    return Persona(persona_id, row[0], consent, faces, voices, embeddings, profiles, row[6], row[7], row[8])
