"""`layer models ...` through `layer_desktop.cli.main`, fetching from a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.models.manifest import MANIFEST_ENV
from layer_desktop.paths import app_paths

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "models"))
from range_server import RangeServer


def _flat(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())


PAYLOAD = os.urandom(200_000)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RangeServer]:
    srv = RangeServer(files={"tiny.onnx": PAYLOAD}).start()
    entry = {
        "id": "tiny",
        "task": "face_identity",
        "backend": "onnx",
        "filename": "tiny.onnx",
        "urls": [srv.url("tiny.onnx")],
        "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
        "size": len(PAYLOAD),
        "licence": {"name": "InsightFace non-commercial", "commercial_use": False},
    }
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"schema_version": 1, "models": [entry]}))
    monkeypatch.setenv(MANIFEST_ENV, str(manifest))
    try:
        yield srv
    finally:
        srv.stop()


def test_list_shows_licence_and_presence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    text = _flat(capsys.readouterr().out)
    assert "sface_" in text and "shipped" in text and "missing" in text and "NO" in text and "MIT" in text


def test_fetch_verify_remove(server: RangeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fetch", "tiny"]) == 0
    captured = capsys.readouterr()
    assert "non-commercial" in _flat(captured.err).lower() and "100%" in _flat(captured.err)
    assert "tiny: verified" in _flat(captured.out)
    installed = app_paths().models_dir / "tiny.onnx"
    assert installed.read_bytes() == PAYLOAD

    assert main(["models", "verify"]) == 0
    assert "tiny: OK" in _flat(capsys.readouterr().out)
    installed.write_bytes(b"x" * len(PAYLOAD))
    assert main(["models", "verify", "tiny"]) == 2
    assert "FAILED" in _flat(capsys.readouterr().err)
    assert not installed.exists()

    assert main(["models", "fetch", "tiny"]) == 0
    assert main(["models", "remove", "tiny"]) == 0
    assert not installed.exists()
    assert main(["models", "remove", "tiny"]) == 0
    assert "was not installed" in _flat(capsys.readouterr().out)


def test_import_and_unknown_ids(
    server: RangeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "have.onnx"
    src.write_bytes(PAYLOAD)
    assert main(["models", "import", "tiny", str(src)]) == 0
    assert (app_paths().models_dir / "tiny.onnx").read_bytes() == PAYLOAD
    src.write_bytes(b"other")
    assert main(["models", "import", "tiny", str(src)]) == 2
    assert "expected sha256" in _flat(capsys.readouterr().err)
    assert main(["models", "fetch", "nope"]) == 2
    assert "Unknown model 'nope'" in _flat(capsys.readouterr().err)
    assert server.hits == []
