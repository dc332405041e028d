"""The app database holds consent records, embeddings, signed links and upload resume URLs: it and its
WAL files are readable by their owner only, whatever the umask, and an older looser file is tightened."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.paths import app_paths
from tests.conftest import SHARED_MEDIA


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default: new files 0644
    yield
    os.umask(old)


def modes(db: Path) -> dict[str, int]:
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in files if p.exists()}


def test_the_database_and_its_wal_files_are_0600(open_umask: None) -> None:
    db = app_paths().database_file
    store = PersonaStore()
    create_persona(
        store, "Grace", [FaceInput(SHARED_MEDIA / "faces" / "grace_hopper.jpg")], ConsentInput("PD")
    )
    assert db.name == "layer.sqlite3" and store.list()[0].name == "Grace"
    reader = sqlite3.connect(db)  # the WAL files exist while a connection is open
    try:
        assert reader.execute("SELECT count(*) FROM personas").fetchone() == (1,)
        found = modes(db)
    finally:
        reader.close()
    assert set(found) >= {"layer.sqlite3", "layer.sqlite3-wal", "layer.sqlite3-shm"}
    assert set(found.values()) == {0o600}, found


def test_an_older_world_readable_database_is_tightened(open_umask: None) -> None:
    db = app_paths().database_file
    PersonaStore().list()
    for name in ("layer.sqlite3", "layer.sqlite3-wal", "layer.sqlite3-shm"):
        if (db.parent / name).exists():
            (db.parent / name).chmod(0o644)
    PersonaStore().list()
    assert set(modes(db).values()) == {0o600}
