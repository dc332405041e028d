"""The persona tables in the app's SQLite database (connection rules and migrations: ``appdb``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from layer_desktop.appdb import open_database, write_transaction
from layer_desktop.errors import PersonaError

COMPONENT = "personas"

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS personas (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    consent_by TEXT NOT NULL CHECK (length(trim(consent_by)) > 0),
    consent_date TEXT NOT NULL,
    consent_statement TEXT NOT NULL CHECK (length(trim(consent_statement)) > 0),
    consent_proof_sha256 TEXT,
    consent_proof_name TEXT,
    thumbnail_sha256 TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS persona_faces (
    persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source_name TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    face_index INTEGER NOT NULL,
    bbox TEXT NOT NULL,
    detector_score REAL NOT NULL,
    quality REAL NOT NULL,
    quality_reasons TEXT NOT NULL,
    flagged INTEGER NOT NULL,
    flag_reason TEXT,
    PRIMARY KEY (persona_id, position)
);
CREATE TABLE IF NOT EXISTS persona_embeddings (
    persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (persona_id, model_id)
);
CREATE TABLE IF NOT EXISTS persona_voice_samples (
    persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source_name TEXT NOT NULL,
    duration_s REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    rms_dbfs REAL NOT NULL,
    peak_dbfs REAL NOT NULL,
    PRIMARY KEY (persona_id, position)
);
CREATE TABLE IF NOT EXISTS persona_voice_profiles (
    persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    backend TEXT NOT NULL,
    profile TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (persona_id, backend)
);
"""

MIGRATIONS = ([s.strip() for s in _SCHEMA_V1.split(";") if s.strip()],)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Open the database with the persona tables up to date. Raises ``PersonaError`` when they were
    written by a newer version."""
    return open_database(path, COMPONENT, MIGRATIONS, PersonaError)


__all__ = ["SCHEMA_VERSION", "connect", "write_transaction"]
