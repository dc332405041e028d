"""Creating personas from real photos and recordings: consent, face choice, outliers, voice."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from layer_desktop.engine.faces import SFaceEmbedder
from layer_desktop.engine.personas import (
    ConsentInput,
    FaceInput,
    PersonaStore,
    Thresholds,
    create_persona,
)
from layer_desktop.errors import (
    ConsentRequiredError,
    CorruptMediaError,
    MultipleFacesError,
    NoAudioStreamError,
    PersonaError,
    PersonaNotFoundError,
)

CONSENT = ConsentInput("Eileen Collins", "I agree.", dt.date(2024, 5, 1))


def test_create_stores_faces_voice_consent_and_thumbnail(
    store: PersonaStore, astronaut: Path, hopper: Path, voice: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "signed.txt"
    proof.write_text("signed form")
    persona = create_persona(
        store,
        "Eileen",
        [FaceInput(astronaut)],
        ConsentInput("Eileen Collins", "I agree to this.", dt.date(2024, 5, 1), proof),
        [voice],
    )

    loaded = store.get(persona.id)
    assert loaded == store.get("eileen") and loaded.name == "Eileen"
    assert loaded.consent.given_by == "Eileen Collins" and loaded.consent.date == dt.date(2024, 5, 1)
    assert store.media_path(loaded.consent.proof_sha256 or "").read_text() == "signed form"
    (face,) = loaded.faces
    assert store.media_path(face.sha256).read_bytes() == astronaut.read_bytes()
    assert face.source_name == "astronaut.png" and (face.width, face.height) == (512, 512)
    x0, y0, x1, _ = face.bbox
    assert 150 < x0 < 200 and 60 < y0 < 110 and 80 < x1 - x0 < 130  # the face dlib finds at (175, 76)
    assert 0 < face.quality <= 1 and not face.flagged
    (sample,) = loaded.voices
    assert sample.duration_s == pytest.approx(3.095, abs=0.01) and sample.sample_rate == 16000
    assert -30 < sample.rms_dbfs < -10 and sample.peak_dbfs <= 0
    thumb = store.media_path(loaded.thumbnail_sha256 or "").read_bytes()
    assert thumb[:3] == b"\xff\xd8\xff"  # a JPEG
    assert loaded.created_at == loaded.updated_at != ""


def test_consent_is_required_and_nothing_is_stored_without_it(store: PersonaStore, astronaut: Path) -> None:
    for consent in (ConsentInput(None), ConsentInput("   ")):
        with pytest.raises(ConsentRequiredError, match="consent"):
            create_persona(store, "Eileen", [FaceInput(astronaut)], consent)
    with pytest.raises(ConsentRequiredError, match="future"):
        create_persona(store, "Eileen", [FaceInput(astronaut)], ConsentInput("E", date=dt.date(2999, 1, 1)))
    assert store.list() == []
    assert not store.media.root.exists() or not any(store.media.root.rglob("*"))


def test_the_database_itself_refuses_a_persona_without_consent(store: PersonaStore, make_persona) -> None:  # type: ignore[no-untyped-def]
    persona = make_persona()
    conn = sqlite3.connect(store.database)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE personas SET consent_by = '  ' WHERE id = ?", (persona.id,))
    conn.close()


def test_names_are_unique_ignoring_case(store: PersonaStore, make_persona, astronaut: Path) -> None:  # type: ignore[no-untyped-def]
    make_persona("Eileen")
    with pytest.raises(PersonaError, match="already exists"):
        create_persona(store, "EILEEN ", [FaceInput(astronaut)], CONSENT)
    assert [p.name for p in store.list()] == ["Eileen"]


def test_several_faces_need_a_choice(store: PersonaStore, two_faces: Path) -> None:
    with pytest.raises(MultipleFacesError, match=r"2 faces .*two\.png"):
        create_persona(store, "X", [FaceInput(two_faces)], CONSENT)
    with pytest.raises(MultipleFacesError, match="no face number 5"):
        create_persona(store, "X", [FaceInput(two_faces, face_index=5)], CONSENT)

    largest = create_persona(store, "Grace", [FaceInput(two_faces, face_index=0)], CONSENT)
    other = create_persona(store, "Eileen", [FaceInput(two_faces, face_index=1)], CONSENT)

    assert largest.faces[0].bbox[0] > 260  # Grace Hopper's face is the larger, on the right
    assert other.faces[0].bbox[2] < 260 and other.faces[0].face_index == 1


def test_an_identity_outlier_is_flagged_and_not_used(
    store: PersonaStore, media_dir: Path, hopper: Path, embedder: SFaceEmbedder
) -> None:
    same = [
        media_dir / "faces" / "astronaut.png",
        media_dir / "bad" / "cmyk.jpg",
        media_dir / "bad" / "rgba16.png",
    ]
    persona = create_persona(
        store,
        "Eileen",
        [FaceInput(p) for p in [*same, hopper]],
        CONSENT,
        embedder=embedder,
        thresholds=Thresholds(min_similarity=0.8),
    )

    flagged = {f.source_name: f.flag_reason for f in persona.faces if f.flagged}
    assert list(flagged) == ["grace_hopper.jpg"]
    assert "same person" in (flagged["grace_hopper.jpg"] or "")
    assert [f.source_name for f in persona.chosen_faces] == ["astronaut.png", "cmyk.jpg", "rgba16.png"]
    vector = store.get(persona.id).embeddings["sface_2021dec"]
    assert vector.shape == (128,) and abs(float((vector**2).sum()) - 1.0) < 1e-4


def test_without_an_embedder_low_quality_photos_are_flagged(
    store: PersonaStore, astronaut: Path, hopper: Path
) -> None:
    persona = create_persona(
        store,
        "Mix",
        [FaceInput(astronaut), FaceInput(hopper)],
        CONSENT,
        thresholds=Thresholds(min_quality=0.9),
    )
    by_name = {f.source_name: f for f in persona.faces}
    assert by_name["astronaut.png"].flagged and "low quality" in (by_name["astronaut.png"].flag_reason or "")
    assert "small" in (by_name["astronaut.png"].flag_reason or "")
    assert not by_name["grace_hopper.jpg"].flagged
    assert persona.embeddings == {}

    with pytest.raises(PersonaError, match="None of the photos"):
        create_persona(store, "Bad", [FaceInput(astronaut)], CONSENT, thresholds=Thresholds(min_quality=0.99))


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("bad/corrupt_header.wav", CorruptMediaError, "damaged header"),
        ("bad/video_only.mp4", NoAudioStreamError, "no audio"),
        ("bad/truncated_30pct.mp4", CorruptMediaError, "cut short"),
    ],
)
def test_a_bad_voice_sample_is_a_clear_error(
    store: PersonaStore, astronaut: Path, media_dir: Path, name: str, error: type[Exception], words: str
) -> None:
    bad = media_dir / name
    with pytest.raises(error, match=words) as info:
        create_persona(store, "E", [FaceInput(astronaut)], CONSENT, [bad])
    assert str(bad) in str(info.value)
    assert store.list() == []


def test_other_audio_formats_are_read(store: PersonaStore, astronaut: Path, media_dir: Path) -> None:
    persona = create_persona(
        store,
        "E",
        [FaceInput(astronaut)],
        CONSENT,
        [media_dir / "bad" / "speech.mp3", media_dir / "bad" / "audio_only.mp4"],
    )
    mp3, mp4 = persona.voices
    assert mp3.duration_s == pytest.approx(4.0, abs=0.1) and mp3.sample_rate == 16000
    assert mp4.sample_rate == 48000 and mp4.duration_s == pytest.approx(3.1, abs=0.1)


def test_delete_removes_rows_and_unshared_media(store: PersonaStore, make_persona) -> None:  # type: ignore[no-untyped-def]
    a = make_persona("A")
    b = make_persona("B")  # same photo and voice: shared media
    store.delete("a")
    assert [p.id for p in store.list()] == [b.id]
    with pytest.raises(PersonaNotFoundError):
        store.get(a.id)
    assert all(store.media.has(h) for h in b.media_hashes())


def test_voice_profiles_per_backend(store: PersonaStore, make_persona) -> None:  # type: ignore[no-untyped-def]
    persona = make_persona()
    store.set_voice_profile(persona.id, "world", {"f0_median_hz": 183.0})
    store.set_voice_profile(persona.name, "elevenlabs", {"voice_id": "abc"})
    store.set_voice_profile(persona.id, "world", {"f0_median_hz": 180.0})
    loaded = store.get(persona.id)
    assert loaded.voice_profiles == {"elevenlabs": {"voice_id": "abc"}, "world": {"f0_median_hz": 180.0}}
    assert loaded.updated_at > persona.updated_at
