"""Talking heads on a real engine process: `layer talk --engine URL` uploads the photo (outside the
engine's allowed folders), sends a script file as text, follows the job and downloads a disclosed
25 fps video; the job cannot be re-rendered by range, and a path instead of a media id is refused."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from layer_desktop.cli import main
from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.server.home import TOKEN_ENV
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import EngineRequestError
from tests.conftest import SHARED_MEDIA
from tests.engine.server.conftest import TOKEN, EngineProcess

pytestmark = pytest.mark.slow
PHOTO = SHARED_MEDIA / "faces" / "grace_hopper.jpg"


def test_layer_talk_on_an_engine_process_uploads_the_photo_and_downloads_the_video(
    engine_process: EngineProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_process.start()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    script = tmp_path / "script.txt"
    script.write_text("Our blue mug keeps coffee warm.", encoding="utf-8")
    out = tmp_path / "remote.mp4"
    url = engine.endpoint().url
    argv = ["talk", "--photo", str(PHOTO), "--script-file", str(script), "--size", "160", "-o", str(out)]
    assert main([*argv, "--engine", url]) == 0
    with av.open(str(out)) as c:
        assert c.metadata["layer_mode"] == "talking_head"
        assert c.streams.video[0].average_rate == 25 and c.streams.audio
        frames = sum(1 for _ in c.decode(video=0))
    assert frames > 25
    with EngineClient(engine.endpoint()) as client:
        (job,) = client.jobs()
        assert job.kind == "talk" and job.state == "done" and job.report is not None
        assert job.report["frames"] == frames and "/" not in job.report["output"]
        with pytest.raises(EngineRequestError, match="talking head"):
            client.rerender(job.job_id, 0, 5)
        bad = TalkSpec(photo=str(PHOTO), script="Hi.", output="x.mp4")  # a path, not a media id
        with pytest.raises(EngineRequestError, match="media:<sha256>"):
            client.submit_talk(bad)


def test_a_catalogue_batch_on_an_engine_process_makes_each_video_there(
    engine_process: EngineProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_process.start()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    catalogue = tmp_path / "products.json"
    products = [
        {"id": "M1", "name": "Blue mug", "description": "Keeps coffee warm.", "image": str(PHOTO)},
        {"id": "M2", "name": "Red mug", "script": "A red mug.", "image": str(PHOTO)},
    ]
    catalogue.write_text(json.dumps(products))
    out = tmp_path / "videos"
    argv = [
        "talk",
        "batch",
        str(catalogue),
        "-o",
        str(out),
        "--size",
        "128",
        "--engine",
        engine.endpoint().url,
    ]
    assert main(argv) == 0
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert [m.split("/")[-1][:3] for m in made] == ["M1-", "M2-"]
    assert all(m.startswith("default/videos/ai-generated/") for m in made)
    with EngineClient(engine.endpoint()) as client:
        jobs = client.jobs()
    assert [j.kind for j in jobs] == ["talk", "talk"] and all(j.state == "done" for j in jobs)
