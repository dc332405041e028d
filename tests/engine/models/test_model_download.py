"""The downloader against a real HTTP server on 127.0.0.1: install, resume, wrong hash, mirrors."""

from __future__ import annotations

import hashlib

import pytest
from range_server import PAYLOAD, WRONG, RangeServer

from layer_desktop.engine.models import ModelStore
from layer_desktop.errors import ModelDownloadError, ModelHashMismatch, ModelNotFoundError


def test_fetch_installs_the_verified_file_and_reports_progress(
    store: ModelStore, server: RangeServer
) -> None:
    seen: list[tuple[int, int | None]] = []
    path = store.fetch("good", progress=lambda done, total: seen.append((done, total)))

    assert path == store.models_dir / "good.onnx"
    assert path.read_bytes() == PAYLOAD
    assert not (store.models_dir / "good.onnx.part").exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert [(h.range_header, h.status) for h in server.hits] == [(None, 200)]
    assert store.status("good").presence == "installed"
    assert store.resolve("good") == path


def test_a_dropped_download_resumes_with_a_range_request(store: ModelStore, server: RangeServer) -> None:
    half = 120_000
    server.drop_after["m/good.onnx"] = half

    with pytest.raises(ModelDownloadError, match="stopped after"):
        store.fetch("good", attempts=1)
    part = store.models_dir / "good.onnx.part"
    kept = part.stat().st_size
    assert 0 < kept <= half
    assert store.status("good").presence == "partial"

    path = store.fetch("good", attempts=1)

    first, second = server.hits
    assert first.range_header is None and first.bytes_sent == half
    assert second.range_header == f"bytes={kept}-" and second.status == 206
    assert second.bytes_sent == len(PAYLOAD) - kept  # only the rest went over the wire
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(PAYLOAD).hexdigest()
    assert not part.exists()


def test_one_fetch_retries_and_resumes_after_a_drop(store: ModelStore, server: RangeServer) -> None:
    server.drop_after["m/good.onnx"] = 50_000
    assert store.fetch("good").read_bytes() == PAYLOAD
    assert [h.status for h in server.hits] == [200, 206]


def test_a_server_that_ignores_range_restarts_the_file(store: ModelStore, server: RangeServer) -> None:
    server.drop_after["m/good.onnx"] = 70_000
    with pytest.raises(ModelDownloadError):
        store.fetch("good", attempts=1)
    server.ignore_range = True
    assert store.fetch("good", attempts=1).read_bytes() == PAYLOAD
    assert server.hits[-1].status == 200 and server.hits[-1].range_header == "bytes=70000-"


def test_a_wrong_file_is_quarantined_and_never_loaded(store: ModelStore, server: RangeServer) -> None:
    expected = hashlib.sha256(PAYLOAD).hexdigest()
    actual = hashlib.sha256(WRONG).hexdigest()

    with pytest.raises(ModelHashMismatch) as info:
        store.fetch("wrong")

    assert expected in str(info.value) and actual in str(info.value)
    quarantined = list(store.quarantine_dir.iterdir())
    assert [q.read_bytes() == WRONG for q in quarantined] == [True]
    assert not (store.models_dir / "wrong.onnx").exists()
    assert not (store.models_dir / "wrong.onnx.part").exists()
    with pytest.raises(ModelNotFoundError):
        store.resolve("wrong")


def test_a_file_changed_after_install_is_refused_by_the_loader(store: ModelStore) -> None:
    path = store.fetch("good")
    path.write_bytes(WRONG)  # same size, different bytes, new mtime

    with pytest.raises(ModelHashMismatch, match=hashlib.sha256(WRONG).hexdigest()):
        store.resolve("good")
    assert not path.exists()
    assert len(list(store.quarantine_dir.iterdir())) == 1


def test_mirrors_are_tried_in_order(store: ModelStore, server: RangeServer) -> None:
    path = store.fetch("mirrored", attempts=1)
    assert path.read_bytes() == PAYLOAD
    assert [(h.path, h.status) for h in server.hits] == [("m/missing.onnx", 404), ("m/good.onnx", 200)]


def test_all_mirrors_failing_is_a_download_error(store: ModelStore, server: RangeServer) -> None:
    del server.files["m/good.onnx"]
    with pytest.raises(ModelDownloadError, match="404"):
        store.fetch("mirrored", attempts=1)
