"""The publish tables in the app's SQLite database (WAL), with their own row in ``schema_versions``.

The same file holds the engine's tables; ``remote`` may not import the engine, so this small helper
follows the same rules on its own: WAL, a busy timeout, short ``BEGIN IMMEDIATE`` write transactions.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from layer_desktop.errors import PublishError

log = logging.getLogger(__name__)

COMPONENT = "publish"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

_SCHEMA_V1 = (
    """CREATE TABLE IF NOT EXISTS publish_records (
        id TEXT PRIMARY KEY,
        destination TEXT NOT NULL,
        kind TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        url TEXT NOT NULL,
        url_expires_at TEXT,
        published_at TEXT NOT NULL,
        source_path TEXT NOT NULL,
        project TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS publish_records_by_time ON publish_records(published_at)",
    "CREATE INDEX IF NOT EXISTS publish_records_by_project ON publish_records(project)",
    # an upload in progress: enough to continue it after a crash or a dropped network
    """CREATE TABLE IF NOT EXISTS publish_uploads (
        destination TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        upload_id TEXT NOT NULL UNIQUE,
        part_size INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        PRIMARY KEY (destination, bucket, key, sha256)
    )""",
    """CREATE TABLE IF NOT EXISTS publish_upload_parts (
        upload_id TEXT NOT NULL REFERENCES publish_uploads(upload_id) ON DELETE CASCADE,
        part_number INTEGER NOT NULL,
        etag TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (upload_id, part_number)
    )""",
)


def connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open the database (autocommit, WAL, busy timeout, foreign keys) with the publish tables up to date.
    Raises ``PublishError`` when they were written by a newer version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=check_same_thread
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    # Switching to WAL needs an exclusive lock and SQLite does not wait for it: retry a while.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


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
        version = _version(conn)  # again, under the write lock
        if version > SCHEMA_VERSION:
            raise PublishError(
                f"The database {path} was written by a newer Layer Desktop (publish schema {version}, "
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
            log.info("publish tables migrated to schema %d", version)


def _statements(version: int) -> tuple[str, ...]:
    if version == 0:
        return _SCHEMA_V1
    raise PublishError(f"No migration from publish schema {version}.")


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)).fetchone()
    return int(row[0]) if row else 0
