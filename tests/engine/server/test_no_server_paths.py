"""Nothing the engine answers names an absolute path of its machine: error bodies, failed jobs' errors
and hints, finished jobs' reports — checked on a real engine on 127.0.0.1 whose every folder lies below
one temporary root."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine
from layer_desktop.engine.server.runner import OUTPUT_NAME
from layer_desktop.engine.server.scrub import scrub
from tests.conftest import SHARED_MEDIA
from tests.engine.server.test_fuzz import short_clip


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    root = tmp_path / "allowed"
    root.mkdir()
    personas = PersonaStore(tmp_path / "app" / "layer.sqlite3", tmp_path / "app" / "media")
    create_persona(
        personas, "Grace", [FaceInput(SHARED_MEDIA / "faces" / "grace_hopper.jpg")], ConsentInput("PD")
    )
    engine = InProcessEngine(EngineHome(tmp_path / "engine"), allowed_roots=[root], personas=personas).start()
    http = httpx.Client(
        base_url=engine.endpoint.url, headers={"Authorization": f"Bearer {engine.token}"}, timeout=60
    )
    try:
        yield http, root
    finally:
        http.close()
        engine.stop()


def finished(http: httpx.Client, spec: dict[str, Any]) -> dict[str, Any]:
    r = http.post("/v1/jobs", json={"spec": spec})
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]
    deadline = time.monotonic() + 120
    while (info := http.get(f"/v1/jobs/{job}").json())["state"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, info
        time.sleep(0.05)
    return dict(info)


def test_errors_and_reports_name_no_engine_path(rig: tuple[httpx.Client, Path], tmp_path: Path) -> None:
    http, root = rig
    secret = str(tmp_path)  # every folder of this engine lies below it
    outside = http.post("/v1/media/link", json={"path": str(tmp_path / "elsewhere" / "clip.mp4")})
    assert outside.status_code >= 400 and secret not in outside.text

    clip = short_clip(root / "clip.mp4")
    media = http.post("/v1/media/link", json={"path": str(clip)}).json()["media_id"]
    base = {"source": f"media:{media}", "output": "out.mp4", "persona": "Grace",
            "output_settings": {"preset": "ultrafast", "chunk_frames": 6}}  # fmt: skip
    done = finished(http, base)
    assert done["state"] == "done" and secret not in str(done)
    assert done["report"]["job_dir"] == done["job_id"] and done["report"]["output"] == OUTPUT_NAME

    broken = root / "broken.mp4"
    shutil.copyfile(SHARED_MEDIA / "bad" / "truncated_no_moov.mp4", broken)
    bad = http.post("/v1/media/link", json={"path": str(broken)})
    assert bad.status_code == 200, bad.text  # linked by hash only: the job finds it damaged
    failed = finished(http, {**base, "source": f"media:{bad.json()['media_id']}"})
    assert failed["state"] == "failed" and "broken.mp4" in failed["error"], failed
    assert secret not in str(failed)
    assert hashlib.sha256(clip.read_bytes()).hexdigest() == media


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The file /srv/engine/media/ab/abc.mp4 is damaged.", "The file abc.mp4 is damaged."),
        ("Cannot read the picture (/tmp/x/y.jpg): gone", "Cannot read the picture (y.jpg): gone"),
        ("folder /home/u/engine/jobs/1234 does not exist", "folder 1234 does not exist"),
        ("see http://127.0.0.1:8765/v1/jobs and a/b", "see http://127.0.0.1:8765/v1/jobs and a/b"),
        ("1/2 of the frames", "1/2 of the frames"),
    ],
)
def test_scrub_keeps_names_and_drops_folders(text: str, expected: str) -> None:
    assert scrub(text) == expected
