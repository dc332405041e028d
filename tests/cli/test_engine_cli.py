"""`--engine URL`: the job commands run on an engine service (here one served from a thread on
127.0.0.1 with its own persona store), and `layer engine status|jobs|cancel`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from layer_desktop.cli import main
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.home import TOKEN_ENV, EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessEngine]:
    store = PersonaStore(tmp_path / "engine_db.sqlite3", tmp_path / "engine_media")
    with InProcessEngine(EngineHome(tmp_path / "engine"), personas=store) as served:
        monkeypatch.setenv(TOKEN_ENV, served.token)
        yield served


def test_demo_review_and_rerender_run_on_the_engine(
    engine: InProcessEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = engine.endpoint.url
    target = tmp_path / "demo.mp4"
    assert main(["demo", "-o", str(target), "--engine", url]) == 0
    printed = capsys.readouterr().out
    job_id = printed.split("job ", 1)[1].split()[0]
    assert "100 of 100 frames swapped" in printed
    with av.open(str(target)) as c:
        assert c.streams.video[0].frames == 100 and c.metadata["synthetic"] == "true"
    assert [j.job_id for j in engine.service.store.jobs()] == [job_id]
    assert engine.service.personas.list()[0].name.startswith("Demo")  # synced as a bundle

    assert main(["review", job_id, "--engine", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # the demo clip has a face in every frame

    again = tmp_path / "again.mp4"
    assert main(["rerender", job_id, "--frames", "10-12", "--set", "enabled=false", "--engine", url,
                 "-o", str(again)]) == 0  # fmt: skip
    assert "chunks: 1 encoded, 1 reused" in capsys.readouterr().out and again.is_file()  # 60-frame chunks

    assert main(["engine", "jobs", "--engine", url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["job_id"] == job_id and listed[0]["state"] == "done"
    assert main(["engine", "status", "--engine", url]) == 0
    assert "CPUExecutionProvider" in capsys.readouterr().out


def test_without_a_token_the_cli_says_where_to_find_it(
    engine: InProcessEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    assert main(["engine", "jobs", "--engine", engine.endpoint.url]) == 2
    assert TOKEN_ENV in capsys.readouterr().err
    monkeypatch.setenv(TOKEN_ENV, "wrong-token-0123456789")
    assert main(["engine", "jobs", "--engine", engine.endpoint.url]) == 2
    assert "token" in capsys.readouterr().err.lower()
    assert main(["engine", "jobs", "--engine", "ftp://nowhere"]) == 2
