"""The persona tables: schema version, WAL, a newer database refused."""

from __future__ import annotations

import sqlite3

import pytest

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.personas.db import SCHEMA_VERSION, connect
from layer_desktop.errors import PersonaError


def test_schema_is_versioned_and_wal(store: PersonaStore) -> None:
    assert store.list() == []
    conn = sqlite3.connect(store.database)
    try:
        assert conn.execute(
            "SELECT version FROM schema_versions WHERE component = 'personas'"
        ).fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_a_database_from_a_newer_version_is_refused(store: PersonaStore) -> None:
    store.list()
    conn = sqlite3.connect(store.database)
    conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'personas'")
    conn.commit()
    conn.close()
    with pytest.raises(PersonaError, match="newer Layer Desktop"):
        connect(store.database)
