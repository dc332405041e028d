"""The publish tables in the app's SQLite database, with their own row in ``schema_versions``
(connection rules and migrations: ``appdb``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from layer_desktop.appdb import open_database, write_transaction
from layer_desktop.errors import PublishError

COMPONENT = "publish"

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
MIGRATIONS = (_SCHEMA_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open the database with the publish tables up to date. Raises ``PublishError`` when they were
    written by a newer version."""
    return open_database(path, COMPONENT, MIGRATIONS, PublishError, check_same_thread=check_same_thread)


__all__ = ["SCHEMA_VERSION", "connect", "write_transaction"]
