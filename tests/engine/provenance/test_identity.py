"""The signing identity: made once per install, its key in the keyring (or a 0600 file), or the user's own."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from layer_desktop.engine.provenance.c2pa_sign import read_manifest, sign_output
from layer_desktop.engine.provenance.identity import (
    install_identity,
    make_ca_and_leaf,
    provenance_dir,
    user_identity,
)
from layer_desktop.engine.provenance.manifest import ProvenanceFacts
from layer_desktop.errors import ProvenanceError
from tests.conftest import SHARED_MEDIA

FACTS = ProvenanceFacts(
    title="out.mp4", job_id="j1", source_title=None, edits=("talking_head",), consents=(), models=(),
    disclosure="AI-generated", visible_mark=True,
)  # fmt: skip


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_identity_is_made_once_and_its_key_kept_in_the_keyring() -> None:
    first = install_identity()
    second = install_identity()
    assert first.key_store == "keyring"
    assert second.chain_pem == first.chain_pem and second.key_pem == first.key_pem
    assert not (provenance_dir() / "signing-key.pem").exists()
    assert b"PRIVATE KEY" not in (provenance_dir() / "signer.pem").read_bytes()


def test_without_a_keyring_the_key_goes_to_a_file_only_the_owner_reads(no_keyring: None) -> None:
    identity = install_identity()
    key_file = provenance_dir() / "signing-key.pem"
    assert identity.key_store == "file"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert install_identity().key_pem == key_file.read_bytes()


def test_a_lost_key_makes_a_new_identity_instead_of_failing(no_keyring: None) -> None:
    first = install_identity()
    (provenance_dir() / "signing-key.pem").unlink()
    second = install_identity()
    assert second.chain_pem != first.chain_pem


def test_a_users_own_certificate_signs_and_its_own_ca_trusts_it(tmp_path: Path) -> None:
    ca, leaf, key = make_ca_and_leaf()
    (tmp_path / "chain.pem").write_bytes(leaf + ca)
    (tmp_path / "key.pem").write_bytes(key)
    identity = user_identity(tmp_path / "chain.pem", tmp_path / "key.pem")
    video = tmp_path / "clip.mp4"
    video.write_bytes((SHARED_MEDIA / "clips" / "no_face_3s.mp4").read_bytes())
    sign_output(video, FACTS, identity, None)
    assert read_manifest(video, ca).state == "Trusted"
    report = read_manifest(video)
    assert report.state == "Valid"
    actions = report.assertion("c2pa.actions.v2")["actions"]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[1]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    ca, leaf, _ = make_ca_and_leaf()
    _, _, other_key = make_ca_and_leaf()
    (tmp_path / "chain.pem").write_bytes(leaf + ca)
    (tmp_path / "key.pem").write_bytes(other_key)
    with pytest.raises(ProvenanceError, match="does not belong"):
        user_identity(tmp_path / "chain.pem", tmp_path / "key.pem")


def test_an_unsigned_file_reads_as_no_manifest(tmp_path: Path) -> None:
    assert read_manifest(SHARED_MEDIA / "clips" / "no_face_3s.mp4").state is None
