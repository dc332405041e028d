"""Two processes writing the persona database at once (the GUI and the engine)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from layer_desktop.engine.personas import PersonaStore

WRITER = r"""
import datetime as dt, sys, time
from pathlib import Path
from layer_desktop.engine.personas import Consent, FaceImage, Persona, PersonaStore
from layer_desktop.engine.personas.records import now_iso
import numpy as np
store = PersonaStore()
tag, count, sync = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
(sync / f"ready-{tag}").touch()
while not (sync / "go").exists():  # start together, so the writes really overlap
    time.sleep(0.005)
for i in range(count):
    sha = store.media.put_bytes(f"{tag}-{i}".encode() * 100)
    now = now_iso()
    face = FaceImage(sha, f"{tag}{i}.jpg", 64, 64, 0, (1.0, 2.0, 30.0, 40.0), 0.9, 0.8)
    store.add(Persona(f"{tag}-{i:03d}", f"{tag} {i}", Consent(tag, dt.date(2024, 1, 1), "ok"), (face,),
                      embeddings={"m": np.ones(8, np.float32)}, created_at=now, updated_at=now))
    store.set_voice_profile(f"{tag}-{i:03d}", "world", {"i": i})
"""


def test_two_processes_create_personas_at_once(layer_home: Path, tmp_path: Path) -> None:
    count = 40
    env = {**os.environ, "LAYER_HOME": str(layer_home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, tag, str(count), str(tmp_path)], env=env, stderr=subprocess.PIPE
        )
        for tag in ("gui", "engine")
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{t}").exists() for t in ("gui", "engine")):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "writers did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()

    store = PersonaStore()
    personas = store.list()
    assert sorted(p.id for p in personas) == sorted(
        f"{tag}-{i:03d}" for tag in ("gui", "engine") for i in range(count)
    )
    assert all(p.voice_profiles["world"]["i"] == int(p.id[-3:]) and len(p.faces) == 1 for p in personas)
    assert all(store.media.has(p.faces[0].sha256) for p in personas)
    conn = sqlite3.connect(store.database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()
