"""The persona tables in the app's SQLite database: connection settings, schema and migrations.

The GUI and the engine both write this file, so every connection uses WAL (readers never block the
writer), a generous busy timeout, and short ``BEGIN IMMEDIATE`` transactions (the write lock is taken up
front, so two writers queue instead of deadlocking on a lock upgrade). The database is shared with
other components; each keeps its own row in ``schema_versions``.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from layer_desktop.errors import PersonaError

log = logging.getLogger(__name__)

COMPONENT = "personas"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

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


def connect(path: Path) -> sqlite3.Connection:
    """Open the database in autocommit mode with WAL, a busy timeout and foreign keys, and bring the
    persona tables up to date. Raises ``PersonaError`` when it was written by a newer version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn, path)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch the file to WAL once. Changing the journal mode needs an exclusive lock, and SQLite
    answers "database is locked" at once (without its busy handler) when another process holds the
    file, as happens when the GUI and the engine open a new database together; so retry until the
    busy timeout runs out."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    if str(mode).lower() != "wal":
        log.warning("SQLite refused WAL mode for %s (got %s)", path, mode)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction holding the write lock from the start; rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    if _version(conn) == SCHEMA_VERSION:
        return
    with write_transaction(conn):
        version = _version(conn)  # again, under the write lock: another process may have migrated
        if version > SCHEMA_VERSION:
            raise PersonaError(
                f"The database {path} was written by a newer Layer Desktop (persona schema {version}, "
                f"this one reads up to {SCHEMA_VERSION}).",
                hint="Update Layer Desktop.",
                path=path,
            )
        while version < SCHEMA_VERSION:
            for statement in _statements(version):
                conn.execute(statement)
            version += 1
            conn.execute(
                "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (COMPONENT, version),
            )
            log.info("persona tables migrated to schema %d", version)


def _statements(version: int) -> list[str]:
    """The statements that bring the persona tables from ``version`` to ``version + 1``."""
    # executescript would COMMIT our transaction, so migrations are lists of single statements.
    if version == 0:
        return [s.strip() for s in _SCHEMA_V1.split(";") if s.strip()]
    raise PersonaError(f"No migration from persona schema {version}.")


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)).fetchone()
    return int(row[0]) if row else 0
