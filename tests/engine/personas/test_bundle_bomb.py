"""Hostile ``.layerpersona`` bundles: a 3.2 MB zip bomb (3 GB of zeros as a "photo"), the same bomb with
a central directory that lies about its size, and members with the right hash that are not pictures or
recordings. Each is refused — through ``import_persona`` and through ``POST /v1/personas/bundle`` on a
real engine — with nothing stored, and the bomb within 200 MB of memory (peak RSS of a fresh process)."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from layer_desktop.engine.personas import Persona, PersonaStore, export_persona, import_persona
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine
from layer_desktop.errors import BundleError

MakePersona = Callable[..., Persona]
BOMB_MB = 3000  # inflated size of the bomb member
MB = 1 << 20


def zip_member(name: str, raw: bytes, method: int, crc: int, size: int, offset: int) -> tuple[bytes, bytes]:
    """(local header + data, central directory entry) of one member, written by hand so that a
    pre-deflated stream (and a lying size) can go in."""
    fields = (20, 0, method, 0, 0, crc, len(raw), size, len(name), 0)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name.encode() + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, offset) + name.encode()
    return local, central


def write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> None:
    """``members``: (name, raw data, method 0/8, crc, declared uncompressed size)."""
    body, directory = b"", b""
    for name, raw, method, crc, size in members:
        local, central = zip_member(name, raw, method, crc, size, len(body))
        body += local
        directory += central
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    path.write_bytes(body + directory + end)


def deflated_zeros(megabytes: int) -> bytes:
    """A raw deflate stream of ``megabytes`` MB of zeros, built from one fully flushed block repeated
    (each block starts from an empty dictionary, so copies of it chain into a valid stream)."""
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = block.compress(bytes(MB)) + block.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return one * megabytes + tail.flush(zlib.Z_FINISH)


@pytest.fixture
def exported(store: PersonaStore, make_persona: MakePersona, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """A real bundle's manifest (its persona then deleted from the library) and its first face's sha."""
    persona = make_persona()
    bundle = export_persona(store, persona.id, tmp_path / "real.layerpersona")
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    store.delete(persona.id)
    for sha in persona.media_hashes():
        store.media_path(sha).unlink(missing_ok=True)
    return manifest, persona.faces[0].sha256


def bomb(path: Path, manifest: dict[str, Any], face: str, *, lying: bool) -> Path:
    files = dict(manifest["files"])
    real_size = int(files[face]["size"])
    stream = deflated_zeros(BOMB_MB)
    declared = real_size if lying else BOMB_MB * MB
    files[face] = {**files[face], "size": declared}
    doc = json.dumps({**manifest, "files": files}).encode()
    members = [("manifest.json", doc, 0, zlib.crc32(doc), len(doc))]
    members.append((f"media/{face}", stream, 8, 0, declared))
    write_zip(path, members)
    return path


def nothing_stored(store: PersonaStore) -> bool:
    root = store.media.root
    return store.list() == [] and (not root.exists() or not any(p.is_file() for p in root.rglob("*")))


@pytest.mark.parametrize("lying", [False, True], ids=["honest-directory", "lying-directory"])
def test_a_zip_bomb_is_refused_and_nothing_is_stored(
    store: PersonaStore, exported: tuple[dict[str, Any], str], tmp_path: Path, lying: bool
) -> None:
    path = bomb(tmp_path / "bomb.layerpersona", *exported, lying=lying)
    assert 3.0e6 < path.stat().st_size < 3.5e6
    # the honest directory is refused before inflating; the lying one is cut off past its declared size
    with pytest.raises(BundleError, match=r"changed or damaged|not a readable" if lying else "inflate to"):
        import_persona(store, path)
    assert nothing_stored(store)


PEAK = """
import resource, sys
from pathlib import Path
from layer_desktop.engine.personas import PersonaStore, import_persona
from layer_desktop.errors import BundleError
store = PersonaStore(Path(sys.argv[2]) / "db.sqlite3", Path(sys.argv[2]) / "media")
store.list()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    import_persona(store, Path(sys.argv[1]))
    print("IMPORTED")
except BundleError as exc:
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("REFUSED", before, after)
"""


@pytest.mark.parametrize("lying", [False, True], ids=["honest-directory", "lying-directory"])
def test_the_zip_bomb_is_refused_within_200_mb_of_memory(
    exported: tuple[dict[str, Any], str], tmp_path: Path, lying: bool
) -> None:
    path = bomb(tmp_path / "bomb.layerpersona", *exported, lying=lying)
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(path), str(tmp_path / "fresh")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    verdict, before_kb, after_kb = done.stdout.split()
    assert verdict == "REFUSED"
    assert (int(after_kb) - int(before_kb)) * 1024 < 200 * MB  # peak RSS grew by less than 200 MB


def rewritten(
    path: Path, manifest: dict[str, Any], media: dict[str, bytes], old: str, new_bytes: bytes
) -> Path:
    """A bundle whose member ``old`` is replaced by ``new_bytes`` with every hash made consistent."""
    new = hashlib.sha256(new_bytes).hexdigest()
    doc = json.loads(json.dumps(manifest).replace(old, new))
    doc["files"][new]["size"] = len(new_bytes)
    members = []
    for sha, info in doc["files"].items():
        data = new_bytes if sha == new else media[sha]
        members.append((info["member"], data, 0, zlib.crc32(data), len(data)))
    raw = json.dumps(doc).encode()
    write_zip(path, [("manifest.json", raw, 0, zlib.crc32(raw), len(raw)), *members])
    return path


@pytest.mark.parametrize("which", ["face", "voice"])
def test_members_that_are_not_what_they_claim_are_refused(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path, which: str
) -> None:
    persona = make_persona()
    bundle = export_persona(store, persona.id, tmp_path / "real.layerpersona")
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        media = {sha: zf.read(f"media/{sha}") for sha in manifest["files"]}
    store.delete(persona.id)
    for sha in persona.media_hashes():
        store.media_path(sha).unlink(missing_ok=True)
    old = persona.faces[0].sha256 if which == "face" else persona.voices[0].sha256
    fake = b"#!/bin/sh\necho not media\n" * 40
    path = rewritten(tmp_path / "fake.layerpersona", manifest, media, old, fake)
    with pytest.raises(BundleError, match=r"not a picture|not a recording|holds no sound"):
        import_persona(store, path)
    assert nothing_stored(store)


def test_the_engine_refuses_the_bomb_and_stores_nothing(
    exported: tuple[dict[str, Any], str], tmp_path: Path
) -> None:
    path = bomb(tmp_path / "bomb.layerpersona", *exported, lying=False)
    personas = PersonaStore(tmp_path / "engine-app" / "layer.sqlite3", tmp_path / "engine-app" / "media")
    engine = InProcessEngine(EngineHome(tmp_path / "engine"), allowed_roots=[], personas=personas).start()
    try:
        with httpx.Client(
            base_url=engine.endpoint.url, headers={"Authorization": f"Bearer {engine.token}"}, timeout=60
        ) as http:
            r = http.post("/v1/personas/bundle", content=path.read_bytes())
            assert r.status_code == 400 and r.json()["type"] == "BundleError", r.text
            assert str(tmp_path) not in r.text  # no server path in the error
            assert http.get("/v1/personas").json() == []
    finally:
        engine.stop()
    assert nothing_stored(personas)
