"""The engine's jobs and their events, in its SQLite database (WAL), so both survive a killed engine.

Events are numbered per job 1, 2, 3, … inside the write transaction that stores them, so a client that
saw event N and asks for ``after=N`` gets exactly the rest: no duplicate, none missing, across client
reconnects and engine restarts alike.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from layer_desktop.appdb import open_database, write_transaction
from layer_desktop.engine.server.schemas import TERMINAL, EventType, JobEvent, JobInfo, MediaInfo
from layer_desktop.errors import EngineError

COMPONENT = "engine"

_SCHEMA_V1 = (
    """CREATE TABLE IF NOT EXISTS engine_jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        request TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        stage TEXT,
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        hint TEXT,
        report TEXT,
        output_name TEXT NOT NULL,
        last_event INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS engine_events (
        job_id TEXT NOT NULL REFERENCES engine_jobs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        time REAL NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS engine_media (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        filename TEXT NOT NULL,
        path TEXT NOT NULL,
        linked INTEGER NOT NULL,
        created REAL NOT NULL
    )""",
)
MIGRATIONS = (_SCHEMA_V1,)

_JOB_COLUMNS = (
    "id, kind, state, created, updated, stage, done, total, error, hint, report, output_name, last_event"
)


class JobStore:
    """Jobs, events and known media. One connection, serialised by a lock (the engine is one process)."""

    def __init__(self, database: Path) -> None:
        self._conn = open_database(database, COMPONENT, MIGRATIONS, EngineError, check_same_thread=False)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, write_transaction(self._conn):
            yield self._conn

    # ------------------------------------------------------------------ jobs

    def create_job(self, job_id: str, kind: str, request: dict[str, Any], output_name: str) -> JobInfo:
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO engine_jobs(id, kind, state, request, created, updated, output_name) "
                "VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                (job_id, kind, json.dumps(request), now, now, output_name),
            )
            self._append(conn, job_id, "state", {"state": "queued"}, now)
        return self.job(job_id)

    def requeue(self, job_id: str, kind: str, request: dict[str, Any]) -> JobInfo:
        """Queue another run of an existing job (a re-render of a range)."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "UPDATE engine_jobs SET kind = ?, state = 'queued', request = ?, updated = ?, error = NULL, "
                "hint = NULL, stage = NULL, done = 0, total = 0 WHERE id = ?",
                (kind, json.dumps(request), now, job_id),
            )
            self._append(conn, job_id, "state", {"state": "queued", "kind": kind}, now)
        return self.job(job_id)

    def set_state(self, job_id: str, state: str, **fields: Any) -> JobInfo:
        """Change the job's state (and error/hint/report), with a ``state`` event carrying the same."""
        now = time.time()
        report = fields.get("report")
        with self._write() as conn:
            conn.execute(
                "UPDATE engine_jobs SET state = ?, updated = ?, error = ?, hint = ?, "
                "report = COALESCE(?, report) WHERE id = ?",
                (
                    state,
                    now,
                    fields.get("error"),
                    fields.get("hint"),
                    None if report is None else json.dumps(report),
                    job_id,
                ),
            )
            self._append(conn, job_id, "state", {"state": state, **fields}, now)
        return self.job(job_id)

    def progress(self, job_id: str, stage: str, done: int, total: int, extra: dict[str, Any]) -> None:
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "UPDATE engine_jobs SET stage = ?, done = ?, total = ?, updated = ? WHERE id = ?",
                (stage, done, total, now, job_id),
            )
            self._append(
                conn, job_id, "progress", {"stage": stage, "done": done, "total": total, **extra}, now
            )

    def event(self, job_id: str, kind: EventType, data: dict[str, Any]) -> None:
        with self._write() as conn:
            self._append(conn, job_id, kind, data, time.time())

    def job(self, job_id: str) -> JobInfo:
        """Raises ``KeyError`` for an unknown job."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM engine_jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise KeyError(job_id)
        return _job_info(row)

    def request(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._conn.execute("SELECT request FROM engine_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        data: dict[str, Any] = json.loads(row[0])
        return data

    def jobs(self, states: frozenset[str] | None = None) -> list[JobInfo]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_JOB_COLUMNS} FROM engine_jobs ORDER BY created").fetchall()
        infos = [_job_info(r) for r in rows]
        return [j for j in infos if states is None or j.state in states]

    def unfinished(self) -> list[JobInfo]:
        """Jobs to pick up after a restart: queued ones and those that were running, oldest first."""
        return [j for j in self.jobs() if j.state not in TERMINAL]

    def events(self, job_id: str, after: int = 0, limit: int = 500) -> list[JobEvent]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, type, time, data FROM engine_events WHERE job_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (job_id, after, limit),
            ).fetchall()
        return [
            JobEvent(id=seq, job_id=job_id, type=kind, time=t, data=json.loads(data))
            for seq, kind, t, data in rows
        ]

    @staticmethod
    def _append(conn: sqlite3.Connection, job_id: str, kind: str, data: dict[str, Any], now: float) -> None:
        row = conn.execute("SELECT last_event FROM engine_jobs WHERE id = ?", (job_id,)).fetchone()
        seq = int(row[0]) + 1
        conn.execute(
            "INSERT INTO engine_events(job_id, seq, type, time, data) VALUES (?, ?, ?, ?, ?)",
            (job_id, seq, kind, now, json.dumps(data)),
        )
        conn.execute("UPDATE engine_jobs SET last_event = ? WHERE id = ?", (seq, job_id))

    # ------------------------------------------------------------------ media

    def add_media(self, info: MediaInfo, path: Path) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO engine_media(sha256, size, filename, path, linked, created) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(sha256) DO UPDATE SET path = excluded.path, linked = excluded.linked, "
                "filename = excluded.filename",
                (info.media_id, info.size, info.filename, str(path), int(info.linked), time.time()),
            )

    def media(self, sha256: str) -> tuple[MediaInfo, Path] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT sha256, size, filename, path, linked FROM engine_media WHERE sha256 = ?", (sha256,)
            ).fetchone()
        if row is None:
            return None
        info = MediaInfo(media_id=row[0], size=row[1], filename=row[2], linked=bool(row[4]))
        return info, Path(row[3])

    def forget_media(self, sha256: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM engine_media WHERE sha256 = ?", (sha256,))


def _job_info(row: tuple[Any, ...]) -> JobInfo:
    (job_id, kind, state, created, updated, stage, done, total, error, hint, report, name, last) = row
    return JobInfo(
        job_id=job_id,
        kind=kind,
        state=state,
        created=created,
        updated=updated,
        stage=stage,
        done=done,
        total=total,
        error=error,
        hint=hint,
        report=None if report is None else json.loads(report),
        output_name=name,
        last_event=last,
    )
