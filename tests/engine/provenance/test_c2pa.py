"""Every transform output carries a signed C2PA manifest, read back with c2pa-python's Reader."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import c2pa
import pytest

from layer_desktop.engine.pipeline import rerender_job
from layer_desktop.engine.provenance.c2pa_sign import read_manifest
from layer_desktop.engine.provenance.manifest import (
    COMPOSITE,
    CONSENT_LABEL,
    DISCLOSURE_LABEL,
    MODELS_LABEL,
)
from layer_desktop.engine.provenance.transform import watermark_payload
from tests.engine.provenance.conftest import DemoRun


def _box(path: Path, kind: bytes) -> tuple[int, int]:
    """(offset, size) of the first top-level ISO-BMFF box of type ``kind``."""
    data = path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        if name == kind:
            return pos, size
        pos += size if size else len(data) - pos
    raise AssertionError(f"no {kind!r} box in {path}")


def test_demo_output_reads_valid_and_trusted_with_the_install_ca(demo_run: DemoRun) -> None:
    untrusted = read_manifest(demo_run.output)
    trusted = read_manifest(demo_run.output, demo_run.ca)
    assert untrusted.state == "Valid", untrusted.failures
    assert trusted.state == "Trusted", trusted.failures
    sig = untrusted.manifest["signature_info"]  # type: ignore[index]
    assert sig["common_name"] == "Layer Desktop signer"
    assert sig["alg"].lower() == "es256"


def test_another_ca_as_anchor_does_not_make_it_trusted(demo_run: DemoRun, tmp_path: Path) -> None:
    from layer_desktop.engine.provenance.identity import make_ca_and_leaf

    other_ca, _, _ = make_ca_and_leaf()
    assert read_manifest(demo_run.output, other_ca).state == "Valid"


def test_manifest_names_consent_models_source_and_the_composite_source_type(demo_run: DemoRun) -> None:
    report = read_manifest(demo_run.output)
    manifest = report.manifest or {}
    assert manifest["claim_generator_info"][0]["name"] == "Layer Desktop"
    parents = [i for i in manifest["ingredients"] if i["relationship"] == "parentOf"]
    assert [p["title"] for p in parents] == ["talk_astronaut_4s.mp4"]
    edits = [a for a in report.assertion("c2pa.actions.v2")["actions"] if a["action"] == "c2pa.edited"]
    assert [e["digitalSourceType"] for e in edits] == [COMPOSITE]
    consent = report.assertion(CONSENT_LABEL)["consents"]
    assert consent == [
        {"persona_id": demo_run.persona.id, "consent_date": demo_run.persona.consent.date.isoformat()}
    ]
    assert demo_run.persona.consent.given_by not in str(manifest)  # a reference, not the person's data
    models = {m["id"]: m["licence"] for m in report.assertion(MODELS_LABEL)["models"]}
    assert models == {  # the default detector (auto) runs both BlazeFace ranges
        "mediapipe_face_detection_short_range": "Apache-2.0 (MediaPipe)",
        "mediapipe_face_detection_full_range_sparse": "Apache-2.0 (MediaPipe)",
        "mediapipe_face_landmark": "Apache-2.0 (MediaPipe)",
    }
    disclosure = report.assertion(DISCLOSURE_LABEL)
    assert disclosure["text"] == "AI-generated"
    assert disclosure["invisible_watermark"] == f"{watermark_payload(demo_run.job.job_id):04x}"


def test_one_flipped_byte_in_mdat_reads_invalid(demo_run: DemoRun, tmp_path: Path) -> None:
    copy = tmp_path / "tampered.mp4"
    shutil.copy(demo_run.output, copy)
    offset, size = _box(copy, b"mdat")
    with open(copy, "r+b") as f:
        f.seek(offset + size // 2)
        byte = f.read(1)
        f.seek(offset + size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    report = read_manifest(copy, demo_run.ca)
    assert report.state == "Invalid"
    assert any("mismatch" in code.lower() for code in report.failures), report.failures


def test_c2pa_reader_directly_sees_the_same_state(demo_run: DemoRun) -> None:
    with c2pa.Reader(str(demo_run.output)) as reader:
        assert reader.get_validation_state() == "Valid"


@pytest.mark.slow
def test_a_spliced_rerender_is_signed_again(demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYER_HOME", str(demo_run.home))
    before = read_manifest(demo_run.output).manifest or {}
    rerender_job(demo_run.job.job_id, 30, 40, {"enabled": "false"}, store=demo_run.store)
    after = read_manifest(demo_run.output, demo_run.ca)
    assert after.state == "Trusted", after.failures
    assert (after.manifest or {})["instance_id"] != before["instance_id"]
    consent = after.assertion(CONSENT_LABEL)["consents"]
    assert consent[0]["persona_id"] == demo_run.persona.id
