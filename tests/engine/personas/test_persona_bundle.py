"""`.layerpersona` export and import: round trip, re-import, tampering, truncation, zip-slip."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from layer_desktop.engine.faces import SFaceEmbedder
from layer_desktop.engine.personas import Persona, PersonaStore, export_persona, import_persona
from layer_desktop.engine.personas.records import persona_to_dict
from layer_desktop.errors import BundleError, PersonaError

MakePersona = Callable[..., Persona]


def _rewrite(src: Path, dst: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy a zip member by member; ``change`` returns new bytes, or None to drop the member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)


def test_export_delete_import_round_trips(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path, embedder: SFaceEmbedder
) -> None:
    original = make_persona(embedder=embedder)
    assert original.embeddings["sface_2021dec"].shape == (128,)
    store.set_voice_profile(original.id, "world", {"f0": 183.0})
    original = store.get(original.id)
    bundle = export_persona(store, original.name, tmp_path / "eileen.layerpersona")
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
    assert names == {"manifest.json"} | {f"media/{h}" for h in original.media_hashes()}

    store.delete(original.id)
    for sha in original.media_hashes():  # make sure the media really come from the bundle
        store.media_path(sha).unlink(missing_ok=True)
    result = import_persona(store, bundle)

    assert result.action == "created"
    assert persona_to_dict(result.persona) == persona_to_dict(original)
    assert (result.persona.embeddings["sface_2021dec"] == original.embeddings["sface_2021dec"]).all()
    for sha in original.media_hashes():
        assert store.media.has(sha)


def test_importing_twice_does_not_duplicate(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona()
    bundle = export_persona(store, persona.id, tmp_path / "p.layerpersona")

    assert import_persona(store, bundle).action == "unchanged"
    assert import_persona(store, bundle).action == "unchanged"
    assert [p.id for p in store.list()] == [persona.id]


def test_a_newer_bundle_updates_the_persona(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona()
    old = export_persona(store, persona.id, tmp_path / "old.layerpersona")
    store.set_voice_profile(persona.id, "world", {"f0": 1.0})
    new = export_persona(store, persona.id, tmp_path / "new.layerpersona")
    store.delete(persona.id)
    assert import_persona(store, old).action == "created"

    result = import_persona(store, new)

    assert result.action == "updated" and result.persona.voice_profiles == {"world": {"f0": 1.0}}
    assert len(store.list()) == 1


def test_a_name_taken_by_another_persona_is_refused(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona("Eileen")
    bundle = export_persona(store, persona.id, tmp_path / "p.layerpersona")
    store.delete(persona.id)
    make_persona("EILEEN")
    with pytest.raises(PersonaError, match="already exists"):
        import_persona(store, bundle)


def test_a_tampered_member_is_rejected(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona()
    bundle = export_persona(store, persona.id, tmp_path / "p.layerpersona")
    store.delete(persona.id)
    face = f"media/{persona.faces[0].sha256}"
    tampered = tmp_path / "tampered.layerpersona"
    _rewrite(bundle, tampered, lambda name, data: data[:-1] + b"\x00" if name == face else data)

    with pytest.raises(BundleError, match=rf"tampered\.layerpersona: the member {face} was changed"):
        import_persona(store, tampered)
    assert store.list() == []


def test_a_changed_manifest_is_rejected(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona()
    bundle = export_persona(store, persona.id, tmp_path / "p.layerpersona")
    store.delete(persona.id)

    def swap_hash(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        doc = json.loads(data)
        doc["persona"]["faces"][0]["sha256"] = "0" * 64  # a file the bundle does not carry
        return json.dumps(doc).encode()

    bad = tmp_path / "bad.layerpersona"
    _rewrite(bundle, bad, swap_hash)
    with pytest.raises(BundleError, match="does not list media"):
        import_persona(store, bad)


def test_a_truncated_bundle_is_rejected(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona()
    data = export_persona(store, persona.id, tmp_path / "p.layerpersona").read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        short = tmp_path / f"short{cut}.layerpersona"
        short.write_bytes(data[:cut])
        with pytest.raises(BundleError, match="damaged or cut short"):
            import_persona(store, short)


def test_files_that_are_not_bundles_are_rejected(
    store: PersonaStore, tmp_path: Path, media_dir: Path
) -> None:
    with pytest.raises(BundleError, match="not a readable"):
        import_persona(store, media_dir / "faces" / "astronaut.png")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else"}))
    with pytest.raises(BundleError, match=r"not a \.layerpersona"):
        import_persona(store, other)


def test_member_names_are_never_used_as_paths(
    store: PersonaStore, make_persona: MakePersona, tmp_path: Path
) -> None:
    persona = make_persona()
    bundle = export_persona(store, persona.id, tmp_path / "p.layerpersona")
    store.delete(persona.id)
    evil = tmp_path / "evil.layerpersona"
    _rewrite(bundle, evil, lambda name, data: data)
    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("../../escaped.txt", b"owned")
        zf.writestr("/tmp/abs_escaped.txt", b"owned")

    assert import_persona(store, evil).action == "created"
    assert not (tmp_path.parent / "escaped.txt").exists() and not Path("/tmp/abs_escaped.txt").exists()

    def traversal(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        doc = json.loads(data)
        doc["files"]["../../x"] = {"member": "../../x", "sha256": "../../x", "size": 1}
        doc["persona"]["thumbnail_sha256"] = "../../x"
        return json.dumps(doc).encode()

    store.delete(persona.id)
    worse = tmp_path / "worse.layerpersona"
    _rewrite(bundle, worse, traversal)
    with pytest.raises(BundleError, match="invalid media entry"):
        import_persona(store, worse)
