"""JSON can carry lone surrogates (``"\\ud800"``) that no file system, SQLite or OpenCV can take (OpenCV
crashes the whole process drawing one as the disclosure mark): a real engine refuses them at the
boundary with a 422 in its error shape, and keeps answering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine

LONE = "@LONE@"  # stands for a JSON escape of a lone surrogate, put in after json.dumps
MEDIA = "0" * 64


def raw(body: dict[str, Any], escape: str = "\\ud800") -> str:
    return json.dumps(body).replace(LONE, escape)


def spec(**change: Any) -> dict[str, Any]:
    return {"spec": {"source": f"media:{MEDIA}", "output": "out.mp4", "persona": "Grace", **change}}


BODIES = {
    "/v1/jobs": [
        raw(spec(disclosure={"text": f"AI {LONE}"})),
        raw(spec(persona=LONE), "\\udc80"),
        raw(spec(output=f"{LONE}.mp4"), "\\ud83d"),
    ],
    "/v1/jobs/abc/rerender": [raw({"first": 0, "last": 1, "changes": {"persona": LONE}})],
    "/v1/preview": [raw({"media": MEDIA, "frame": 0, "persona": LONE}, "\\udfff")],
    "/v1/media/link": [raw({"path": f"/tmp/{LONE}.mp4"})],
    "/v1/media/uploads": [raw({"sha256": MEDIA, "size": 1, "filename": f"{LONE}.mp4"})],
}
CASES = [(path, body) for path, bodies in BODIES.items() for body in bodies]


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    base = tmp_path_factory.mktemp("unicode")
    personas = PersonaStore(base / "app" / "layer.sqlite3", base / "app" / "media")
    engine = InProcessEngine(EngineHome(base / "engine"), allowed_roots=[base], personas=personas).start()
    client = httpx.Client(
        base_url=engine.endpoint.url, headers={"Authorization": f"Bearer {engine.token}"}, timeout=30
    )
    yield client
    client.close()
    engine.stop()


@pytest.mark.parametrize(("path", "body"), CASES)
def test_lone_surrogates_are_refused_at_the_boundary(http: httpx.Client, path: str, body: str) -> None:
    r = http.post(path, content=body.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert set(r.json()) == {"error", "hint", "type"} and "surrogate" in r.json()["error"]
    assert http.get("/v1/health").status_code == 200
