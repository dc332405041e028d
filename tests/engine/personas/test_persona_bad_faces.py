"""Every file of the bad-input corpus, used as a persona photo: a clear error naming it, or a persona."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.errors import ImageError, LayerError
from tests.conftest import SHARED_MEDIA

BAD = SHARED_MEDIA / "bad"
CONSENT = ConsentInput("Eileen Collins", "I agree.", dt.date(2024, 5, 1))
# Pictures in odd clothing that must load (format sniffed, CMYK and 16-bit RGBA converted).
READABLE = {"jpeg_named.png", "cmyk.jpg", "rgba16.png"}
WHY = {
    "empty.mp4": "empty",
    "one_pixel.png": "too small",
}


def test_the_corpus_is_there() -> None:
    names = {p.name for p in BAD.iterdir()}
    assert names >= READABLE | {"one_pixel.png", "empty.mp4", "text_renamed.mp4", "corrupt_header.wav"}


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.iterdir() if p.name not in READABLE))
def test_a_file_that_is_not_a_usable_photo_is_a_clear_error(store: PersonaStore, name: str) -> None:
    path = BAD / name
    with pytest.raises(ImageError) as info:
        create_persona(store, "E", [FaceInput(path)], CONSENT)
    err = info.value
    assert isinstance(err, LayerError) and err.hint
    assert str(path) in str(err)
    assert WHY.get(name, "not a picture") in str(err)
    assert store.list() == []


@pytest.mark.parametrize("name", sorted(READABLE))
def test_odd_but_valid_pictures_make_a_persona(store: PersonaStore, name: str) -> None:
    persona = create_persona(store, "E", [FaceInput(BAD / name)], CONSENT)
    (face,) = persona.faces
    assert (face.width, face.height) == (256, 256) and not face.flagged
    assert 60 < face.bbox[0] < 100 and 60 < face.bbox[1] < 100  # the astronaut's face in the crop


def test_a_missing_photo_is_named(store: PersonaStore, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"absent\.jpg does not exist"):
        create_persona(store, "E", [FaceInput(tmp_path / "absent.jpg")], CONSENT)


def test_a_photo_without_a_face_is_named(store: PersonaStore, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 180, np.uint8))
    from layer_desktop.errors import NoFaceError

    with pytest.raises(NoFaceError, match=r"No face was found in .*wall\.png"):
        create_persona(store, "E", [FaceInput(blank)], CONSENT)
