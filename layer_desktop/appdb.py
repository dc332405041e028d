"""The app's SQLite database: connection settings, write transactions and per-component migrations.

The GUI, the engine and the publisher all write one file, so every connection uses WAL (readers never
block the writer), a generous busy timeout, and short ``BEGIN IMMEDIATE`` transactions (the write lock
is taken up front, so two writers queue instead of deadlocking on a lock upgrade). Each component keeps
its own row in ``schema_versions`` and its own list of migrations.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from layer_desktop.errors import LayerError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
Migrations = Sequence[Sequence[str]]  # migrations[n]: the statements from schema n to n + 1


def open_database(
    path: Path,
    component: str,
    migrations: Migrations,
    error: type[LayerError],
    *,
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode with WAL, a busy timeout and foreign keys, and bring
    ``component``'s tables up to schema ``len(migrations)``. Raises ``error`` when they were written by
    a newer version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _owner_only(path)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=check_same_thread
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn, path)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path, component, migrations, error)
    except BaseException:
        conn.close()
        raise
    return conn


def _owner_only(path: Path) -> None:
    """Create the database file 0600 (or tighten an older, looser one): it holds consent records,
    embeddings, signed links and upload resume URLs. SQLite gives its -wal and -shm files the main
    file's permissions, so they follow."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        # another connection may remove its WAL files at any moment (the last one to close does)
        with contextlib.suppress(FileNotFoundError):
            if path.with_name(name).stat().st_mode & 0o077:
                path.with_name(name).chmod(0o600)


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


def _version(conn: sqlite3.Connection, component: str) -> int:
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    return int(row[0]) if row else 0


def _migrate(
    conn: sqlite3.Connection, path: Path, component: str, migrations: Migrations, error: type[LayerError]
) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    target = len(migrations)
    if _version(conn, component) == target:
        return
    with write_transaction(conn):
        version = _version(conn, component)  # again, under the write lock: another process may have migrated
        if version > target:
            raise error(
                f"The database {path} was written by a newer Layer Desktop ({component} schema {version}, "
                f"this one reads up to {target}).",
                hint="Update Layer Desktop.",
                path=path,
            )
        while version < target:
            # executescript would COMMIT our transaction, so migrations are lists of single statements
            for statement in migrations[version]:
                conn.execute(statement)
            version += 1
            conn.execute(
                "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
            log.info("%s tables migrated to schema %d", component, version)
