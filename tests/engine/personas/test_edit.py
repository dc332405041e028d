"""Editing stored personas: renaming, adding photos and voices, and listing the faces in a photo."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer_desktop.engine.faces import SFaceEmbedder
from layer_desktop.engine.personas import (
    FaceInput,
    PersonaStore,
    detect_faces,
    extend_persona,
    rename_persona,
)
from layer_desktop.errors import ImageError, MultipleFacesError, PersonaError, PersonaNotFoundError


def test_rename_keeps_the_persona_and_frees_the_old_name(store: PersonaStore, make_persona) -> None:  # type: ignore[no-untyped-def]
    before = make_persona("Eileen")
    renamed = rename_persona(store, "eileen", "  Commander Collins ")
    assert renamed.id == before.id and renamed.name == "Commander Collins"
    assert renamed.faces == before.faces and renamed.consent == before.consent
    assert renamed.updated_at > before.updated_at
    assert store.get("commander collins").id == before.id
    with pytest.raises(PersonaNotFoundError):
        store.get("Eileen")
    assert rename_persona(store, before.id, "COMMANDER collins").name == "COMMANDER collins"  # case only


def test_rename_refuses_an_empty_or_taken_name(store: PersonaStore, make_persona) -> None:  # type: ignore[no-untyped-def]
    make_persona("Eileen")
    make_persona("Grace")
    with pytest.raises(PersonaError, match="needs a name"):
        rename_persona(store, "Eileen", "   ")
    with pytest.raises(PersonaError, match="already exists"):
        rename_persona(store, "Eileen", "grace")
    assert sorted(p.name for p in store.list()) == ["Eileen", "Grace"]


def test_extend_adds_photos_and_voices(store: PersonaStore, make_persona, hopper: Path, voice: Path) -> None:  # type: ignore[no-untyped-def]
    before = make_persona("Eileen")
    after = extend_persona(store, "Eileen", [FaceInput(hopper)], [voice])
    assert [f.source_name for f in after.faces] == ["astronaut.png", "grace_hopper.jpg"]
    assert store.media_path(after.faces[1].sha256).read_bytes() == hopper.read_bytes()
    assert 0 < after.faces[1].quality <= 1 and after.faces[1].face_index == 0
    assert len(after.voices) == 2 and after.voices[1].duration_s == pytest.approx(3.095, abs=0.01)
    assert after.updated_at > before.updated_at and after.created_at == before.created_at
    assert store.get(before.id) == after


def test_extend_checks_every_file_before_storing(  # type: ignore[no-untyped-def]
    store: PersonaStore, make_persona, two_faces: Path, media_dir: Path
) -> None:
    before = make_persona("Eileen")
    with pytest.raises(MultipleFacesError, match=r"two\.png"):
        extend_persona(store, "Eileen", [FaceInput(two_faces)])
    with pytest.raises(ImageError, match=r"one_pixel\.png"):
        extend_persona(store, "Eileen", [FaceInput(media_dir / "bad" / "one_pixel.png")])
    with pytest.raises(PersonaError, match="Nothing to add"):
        extend_persona(store, "Eileen")
    assert store.get("Eileen") == before


def test_extend_with_a_chosen_face_and_embedder_recomputes_identity(  # type: ignore[no-untyped-def]
    store: PersonaStore, make_persona, two_faces: Path, embedder: SFaceEmbedder
) -> None:
    make_persona("Eileen", embedder=embedder)
    after = extend_persona(store, "Eileen", [FaceInput(two_faces, face_index=1)], embedder=embedder)
    (_, added) = after.faces
    assert added.face_index == 1 and added.bbox[2] <= 270  # the smaller face is the astronaut (left)
    assert not any(f.flagged for f in after.faces)  # the same person twice
    vector = after.embeddings["sface_2021dec"]
    assert vector.shape == (128,) and abs(float((vector**2).sum()) - 1.0) < 1e-4


def test_detect_faces_lists_boxes_largest_first(two_faces: Path, hopper: Path, media_dir: Path) -> None:
    boxes = detect_faces(two_faces)
    assert len(boxes) == 2
    areas = [(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes]
    assert areas[0] > areas[1]
    assert boxes[0][0] > 260 and boxes[1][2] <= 270  # largest = Grace Hopper on the right
    assert len(detect_faces(hopper)) == 1
    with pytest.raises(ImageError, match=r"missing\.png"):
        detect_faces(media_dir / "missing.png")
