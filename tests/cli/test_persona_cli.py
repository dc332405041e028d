"""`layer persona ...` through `layer_desktop.cli.main`, with real photos and recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.personas import PersonaStore
from tests.conftest import SHARED_MEDIA

MEDIA = SHARED_MEDIA
ASTRONAUT = str(MEDIA / "faces" / "astronaut.png")
HOPPER = str(MEDIA / "faces" / "grace_hopper.jpg")
VOICE = str(MEDIA / "audio" / "arctic_a0007_awb.wav")


def _flat(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())


def _create(*extra: str, name: str = "Eileen") -> int:
    return main(["persona", "create", "--name", name, "--face", ASTRONAUT, "--voice", VOICE, *extra])


def test_create_list_show_export_delete_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proof = tmp_path / "form.txt"
    proof.write_text("signed")
    assert (
        _create(
            "--consent-by", "Eileen Collins", "--consent-statement", "I agree.",
            "--consent-date", "2024-05-01", "--consent-proof", str(proof),
        )
        == 0
    )  # fmt: skip
    (persona,) = PersonaStore().list()
    assert persona.consent.statement == "I agree." and persona.consent.proof_name == "form.txt"
    assert f"Created persona 'Eileen' ({persona.id})" in _flat(capsys.readouterr().out)

    assert main(["persona", "list"]) == 0
    assert "Eileen" in _flat(capsys.readouterr().out)
    assert main(["persona", "show", "EILEEN"]) == 0
    shown = _flat(capsys.readouterr().out)
    assert persona.id in shown and "astronaut.png" in shown and "arctic_a0007_awb.wav" in shown

    bundle = tmp_path / "eileen.layerpersona"
    assert main(["persona", "export", persona.id, "-o", str(bundle)]) == 0
    assert bundle.is_file()
    assert main(["persona", "delete", "Eileen", "--yes"]) == 0
    assert PersonaStore().list() == []
    capsys.readouterr()

    assert main(["persona", "import", str(bundle)]) == 0
    assert f"Imported persona 'Eileen' ({persona.id})" in _flat(capsys.readouterr().out)
    assert main(["persona", "import", str(bundle)]) == 0
    assert "Already up to date" in _flat(capsys.readouterr().out)
    assert [p.id for p in PersonaStore().list()] == [persona.id]


def test_consent_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert _create() == 2
    err = _flat(capsys.readouterr().err)
    assert "no consent record" in err and "--consent-by" in err
    assert PersonaStore().list() == []


def test_face_index_picks_a_face_in_a_group_photo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2
    import numpy as np

    group = tmp_path / "group.png"
    canvas = np.full((360, 620, 3), 255, np.uint8)
    canvas[:260, :260] = cv2.imread(ASTRONAUT)[30:290, 100:360]
    canvas[:360, 260:620] = cv2.imread(HOPPER)[60:420, 90:450]
    cv2.imwrite(str(group), canvas)
    base = ["persona", "create", "--consent-by", "Grace", "--face", str(group)]

    assert main([*base, "--name", "G"]) == 2
    assert "2 faces were found" in _flat(capsys.readouterr().err)
    assert main([*base, "--name", "G", "--face-index", "0"]) == 0
    assert main([*base, "--face", HOPPER, "--name", "H", "--face-index", "0", "--face-index", "0"]) == 0
    assert main([*base, "--face", HOPPER, "--name", "I", "--face-index", "0", "--face-index", "0", "-"
                 "-face-index", "1"]) == 2  # fmt: skip
    assert sorted(p.name for p in PersonaStore().list()) == ["G", "H"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--face", str(MEDIA / "bad" / "one_pixel.png")], "too small"),
        (["--face", ASTRONAUT, "--voice", str(MEDIA / "bad" / "corrupt_header.wav")], "damaged header"),
        (["--face", ASTRONAUT, "--consent-date", "yesterday"], "not a date"),
    ],
)
def test_bad_input_is_a_clean_error(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["persona", "create", "--name", "E", "--consent-by", "E", *args])
    assert code == 2
    assert words in _flat(capsys.readouterr().err)
    assert PersonaStore().list() == []


def test_unknown_persona(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["persona", "show", "nobody"]) == 2
    assert "No persona with the id or name 'nobody'" in _flat(capsys.readouterr().err)
    assert main(["persona", "delete", "nobody", "--yes"]) == 2


def test_a_damaged_bundle_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.layerpersona"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert main(["persona", "import", str(bad)]) == 2
    assert "not a readable .layerpersona file" in _flat(capsys.readouterr().err)
