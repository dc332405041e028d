"""Manifest loading, local import, verify and remove."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from range_server import PAYLOAD, WRONG

from layer_desktop.engine.models import ModelStore, load_manifest
from layer_desktop.engine.models.manifest import DEFAULT_MANIFEST, MANIFEST_ENV
from layer_desktop.errors import ModelError, ModelHashMismatch, ModelNotFoundError


def test_builtin_manifest_lists_the_shipped_and_downloadable_models() -> None:
    manifest = load_manifest()
    assert {"mediapipe_face_landmark", "inswapper_128_fp16", "sface_2021dec", "yunet_2023mar"} <= set(
        manifest.ids()
    )
    assert manifest.default_for("face_identity").id == "sface_2021dec"  # type: ignore[union-attr]
    assert manifest.get("w600k_r50").pairs_with == ("inswapper_128_fp16",)
    assert not manifest.get("inswapper_128_fp16").licence.commercial_use
    assert "NON-COMMERCIAL" in manifest.get("inswapper_128_fp16").licence.summary()
    sface = manifest.get("sface_2021dec")
    assert sface.size == 38696353 and sface.licence.commercial_use
    assert manifest.get("inswapper_128_fp16").inputs[1].shape == (1, 512)


def test_shipped_models_are_present_and_verify() -> None:
    store = ModelStore(load_manifest())
    for model_id in ("mediapipe_face_detection_short_range", "mediapipe_face_landmark"):
        assert store.status(model_id).presence == "shipped"
        assert store.verify(model_id).is_file()


def test_manifest_from_env_and_bad_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads(DEFAULT_MANIFEST.read_text())
    doc["models"] = doc["models"][:2]
    custom = tmp_path / "m.json"
    custom.write_text(json.dumps(doc))
    monkeypatch.setenv(MANIFEST_ENV, str(custom))
    assert len(load_manifest()) == 2

    doc["models"][0]["sha256"] = "abc"
    custom.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="sha256"):
        load_manifest(custom)
    custom.write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        load_manifest(custom)
    with pytest.raises(ModelNotFoundError, match="nope"):
        load_manifest(DEFAULT_MANIFEST).get("nope")


def test_import_copies_and_verifies(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "mine.onnx"
    src.write_bytes(PAYLOAD)
    path = store.import_file("good", src)
    assert path.read_bytes() == PAYLOAD and src.exists()
    assert store.verify("good") == path


def test_import_of_the_wrong_file_is_quarantined(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "other.onnx"
    src.write_bytes(WRONG)
    with pytest.raises(ModelHashMismatch, match=hashlib.sha256(WRONG).hexdigest()):
        store.import_file("good", src)
    assert src.read_bytes() == WRONG  # the user's file is untouched
    assert not (store.models_dir / "good.onnx").exists()
    assert len(list(store.quarantine_dir.iterdir())) == 1
    with pytest.raises(ModelError, match="no such file"):
        store.import_file("good", tmp_path / "absent.onnx")


def test_remove_deletes_the_file_and_partial(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "mine.onnx"
    src.write_bytes(PAYLOAD)
    store.import_file("good", src)
    (store.models_dir / "good.onnx.part").write_bytes(b"x")
    assert store.remove("good")
    assert store.status("good").presence == "missing"
    assert not store.remove("good")
    with pytest.raises(ModelNotFoundError):
        store.verify("good")
