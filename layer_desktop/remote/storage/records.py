"""Publish records (what went where, with its link) and the state of uploads in progress, in SQLite."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from layer_desktop.paths import app_paths
from layer_desktop.remote.storage import db


class PublishRecord(BaseModel):
    """One published file: where it is, what it is, and the link handed out."""

    model_config = ConfigDict(frozen=True)

    id: str
    destination: str
    kind: str
    bucket: str
    key: str
    size: int
    sha256: str
    url: str
    url_expires_at: dt.datetime | None  # None: a public URL that does not expire
    published_at: dt.datetime
    source_path: str
    project: str = ""


@dataclass
class ResumeState:
    """An upload that can be continued: the multipart upload id (S3) or session URL (GCS) and part size."""

    destination: str
    bucket: str
    key: str
    sha256: str
    size: int
    upload_id: str = field(repr=False)  # a GCS session URL lets anyone finish the upload: keep it out of logs
    part_size: int
    parts: dict[int, tuple[str, int]] = field(default_factory=dict)  # number → (etag, size)


class PublishDb:
    """Publish records and resumable uploads in the app database (``app_paths().database_file``)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or app_paths().database_file
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """One connection per ``PublishDb`` (opened on first use), one caller at a time."""
        with self._lock:
            if self._db is None:
                self._db = db.connect(self.path, check_same_thread=False)
            self._db.row_factory = None
            yield self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ------------------------------------------------------------------ records

    def add_record(self, record: PublishRecord) -> None:
        with self._conn() as conn, db.write_transaction(conn):
            conn.execute(
                "INSERT INTO publish_records(id, destination, kind, bucket, key, size, sha256, url, "
                "url_expires_at, published_at, source_path, project) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.id,
                    record.destination,
                    record.kind,
                    record.bucket,
                    record.key,
                    record.size,
                    record.sha256,
                    record.url,
                    record.url_expires_at.isoformat() if record.url_expires_at else None,
                    record.published_at.isoformat(),
                    record.source_path,
                    record.project,
                ),
            )

    def records(self, *, project: str | None = None, limit: int = 200) -> list[PublishRecord]:
        """The newest records first, for one project when given."""
        query = "SELECT * FROM publish_records"
        args: tuple[object, ...] = ()
        if project is not None:
            query, args = query + " WHERE project = ?", (project,)
        with self._conn() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(query + " ORDER BY published_at DESC LIMIT ?", (*args, limit)).fetchall()
        return [PublishRecord.model_validate(dict(row)) for row in rows]

    # ------------------------------------------------------------------ resumable uploads

    def load_upload(self, destination: str, bucket: str, key: str, sha256: str) -> ResumeState | None:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT size, upload_id, part_size FROM publish_uploads "
                "WHERE destination = ? AND bucket = ? AND key = ? AND sha256 = ?",
                (destination, bucket, key, sha256),
            ).fetchone()
            if row is None:
                return None
            parts = conn.execute(
                "SELECT part_number, etag, size FROM publish_upload_parts WHERE upload_id = ?", (row[1],)
            ).fetchall()
        state = ResumeState(destination, bucket, key, sha256, int(row[0]), str(row[1]), int(row[2]))
        state.parts = {int(n): (str(e), int(s)) for n, e, s in parts}
        return state

    def save_upload(self, state: ResumeState) -> None:
        with self._conn() as conn, db.write_transaction(conn):
            conn.execute(
                "DELETE FROM publish_uploads WHERE destination = ? AND bucket = ? AND key = ? AND sha256 = ?",
                (state.destination, state.bucket, state.key, state.sha256),
            )
            conn.execute(
                "INSERT INTO publish_uploads(destination, bucket, key, sha256, size, upload_id, part_size, "
                "started_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    state.destination,
                    state.bucket,
                    state.key,
                    state.sha256,
                    state.size,
                    state.upload_id,
                    state.part_size,
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )

    def add_part(self, state: ResumeState, number: int, etag: str, size: int) -> None:
        state.parts[number] = (etag, size)
        with self._conn() as conn, db.write_transaction(conn):
            conn.execute(
                "INSERT OR REPLACE INTO publish_upload_parts(upload_id, part_number, etag, size) "
                "VALUES (?,?,?,?)",
                (state.upload_id, number, etag, size),
            )

    def clear_upload(self, state: ResumeState) -> None:
        with self._conn() as conn, db.write_transaction(conn):
            conn.execute("DELETE FROM publish_uploads WHERE upload_id = ?", (state.upload_id,))

    def pending_uploads(self) -> int:
        with self._conn() as conn:
            return int(conn.execute("SELECT count(*) FROM publish_uploads").fetchone()[0])


def new_record_id() -> str:
    return uuid.uuid4().hex
