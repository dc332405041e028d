"""Property-based fuzz of the engine API from its own OpenAPI schema (schemathesis + hypothesis): every
operation, with requests that fit the schema and requests that do not, against a real engine on
127.0.0.1 — and none may answer 5xx, and every error keeps the engine's ``{error, hint, type}`` shape.

The engine holds one real persona, one linked clip, a finished job and an upload in progress; part of the
generated requests are steered onto those, so fuzzed previews, jobs, re-renders and uploads reach past
the "not found" answers into the code behind them. Runs are derandomized (the same examples every run)
unless ``LAYER_FUZZ_SEED`` asks for other ones.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import av
import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.schemas import BaseSchema

from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.engine.server.app import create_app
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine
from layer_desktop.engine.server.service import EngineService
from tests.conftest import SHARED_MEDIA

pytestmark = pytest.mark.slow

# LAYER_FUZZ_SEED=N draws other examples (a soak: run it in a loop with N = 1, 2, 3, …); unset, the
# examples are the same every run
FUZZ_SEED = int(os.environ["LAYER_FUZZ_SEED"]) if os.environ.get("LAYER_FUZZ_SEED") else None
EXAMPLES = 40  # per operation and generation mode (fewer where there are fewer distinct requests)
CLIP_FRAMES, CLIP_SIDE = 12, 256  # small, so the jobs the fuzzer starts finish in about a second
TERMINAL = ("done", "failed", "cancelled")
# the schema does not depend on the service behind the app; built once here so each operation is a test
RAW_SCHEMA: dict[str, Any] = create_app(cast(EngineService, None), "s" * 16).openapi()
SCHEMA: BaseSchema = schemathesis.openapi.from_dict(RAW_SCHEMA)
LABELS = sorted(result.ok().label for result in SCHEMA.get_all_operations())


def negatable(label: str) -> bool:
    """Whether ``label`` takes anything a request can get wrong by type: a query or header parameter or a
    JSON body (path parameters are any text, and a binary body is any bytes)."""
    method, path = label.split(" ", 1)
    op = RAW_SCHEMA["paths"][path][method.lower()]
    return any(p["in"] in ("query", "header") for p in op.get("parameters", [])) or (
        "application/json" in op.get("requestBody", {}).get("content", {})
    )


# the answer that shows steered requests got to the code behind validation and lookups
REACHED = {
    "POST /v1/preview": 200,
    "POST /v1/jobs": 202,
    "POST /v1/jobs/{job_id}/rerender": 202,
    "GET /v1/jobs/{job_id}/result": 200,
    "GET /v1/jobs/{job_id}/records": 200,
    "GET /v1/jobs/{job_id}/events": 200,
    "GET /v1/media/{media_id}": 200,
    "PUT /v1/media/uploads/{upload_id}": 409,
    "POST /v1/media/link": 403,
}
RUNS = [(label, GenerationMode.POSITIVE) for label in LABELS] + [
    (label, GenerationMode.NEGATIVE) for label in LABELS if negatable(label)
]


@dataclass(frozen=True)
class Known:
    """What exists on the fuzzed engine, for steering generated requests onto it."""

    media: str  # sha256 of the linked clip
    persona: str
    job: str  # a finished transform (events, records, result)
    rerender_job: str  # another one, for re-renders (which send it back to the queue)
    upload: str  # an upload started and never finished
    root: str  # the folder /media/link may read


@dataclass(frozen=True)
class Http:
    url: str
    session: requests.Session  # carries the token

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=60, **kw)

    def wait_for(self, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while (info := self.call("GET", f"/v1/jobs/{job_id}").json())["state"] not in TERMINAL:
            assert time.monotonic() < deadline, info
            time.sleep(0.05)
        return dict(info)


@dataclass(frozen=True)
class Fuzzed:
    http: Http
    known: Known


def short_clip(path: Path) -> Path:
    """The first ``CLIP_FRAMES`` frames of the talking-astronaut clip, ``CLIP_SIDE`` pixels square."""
    with (
        av.open(str(SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4")) as src,
        av.open(str(path), "w") as out,
    ):
        stream = out.add_stream("libx264", rate=25, options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = CLIP_SIDE, CLIP_SIDE, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            if i == CLIP_FRAMES:
                break
            rgb = frame.to_ndarray(format="rgb24", width=CLIP_SIDE, height=CLIP_SIDE)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def finished_job(http: Http, media: str) -> str:
    spec = {"source": f"media:{media}", "output": "out.mp4", "persona": "Grace",
            "output_settings": {"preset": "veryfast", "chunk_frames": 6}}  # fmt: skip
    r = http.call("POST", "/v1/jobs", json={"spec": spec})
    assert r.status_code == 202, r.text
    info = http.wait_for(r.json()["job_id"])
    assert info["state"] == "done", info
    return str(info["job_id"])


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "allowed"
    root.mkdir()
    clip = short_clip(root / "clip.mp4")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(base / "layer_home"))  # the engine's model store looks there
        personas = PersonaStore(base / "app" / "layer.sqlite3", base / "app" / "media")
        create_persona(
            personas,
            "Grace",
            [FaceInput(SHARED_MEDIA / "faces" / "grace_hopper.jpg")],
            ConsentInput("Public domain"),
        )
        engine = InProcessEngine(EngineHome(base / "engine"), allowed_roots=[root], personas=personas)
        engine.start()
        http = Http(engine.endpoint.url, requests.Session())
        http.session.headers["Authorization"] = f"Bearer {engine.token}"
        try:
            media = http.call("POST", "/v1/media/link", json={"path": str(clip)}).json()["media_id"]
            assert media == hashlib.sha256(clip.read_bytes()).hexdigest()
            upload = hashlib.sha256(b"an upload that never ends").hexdigest()
            start = {"sha256": upload, "size": 1000, "filename": "part.mp4"}
            assert http.call("POST", "/v1/media/uploads", json=start).status_code == 200
            jobs = finished_job(http, media), finished_job(http, media)
            yield Fuzzed(http, Known(media, "Grace", *jobs, upload, str(root)))
            # nothing the fuzzer sent broke the engine, nor any job it started
            assert http.call("GET", "/v1/health").status_code == 200
            infos = http.call("GET", "/v1/jobs").json()
            internal = [j["error"] for j in infos if "Internal error" in (j["error"] or "")]
            assert internal == [], internal
        finally:
            for job in http.call("GET", "/v1/jobs").json():  # drops the queued ones, stops the running one
                http.call("POST", f"/v1/jobs/{job['job_id']}/cancel")
            http.session.close()
            engine.stop()


Steering = Literal["as generated", "known ids", "deep"]


def steer(case: schemathesis.Case, known: Known, how: Steering) -> None:
    """Point ``case`` at what exists on the engine: its ids, media, persona and allowed root ("known
    ids"), and (``deep``) a frame inside the clip, an automatic face choice, any absolute path to link —
    keeping every other generated value; deep previews use the offline swap backend (a model backend
    answers 409 on an engine without its model file) and a thumbnail big enough to hold a face; deep
    jobs a plain output name and a non-empty mark (the schema cannot say those rules)."""
    if how == "as generated":
        return
    ids = {"media_id": known.media, "upload_id": known.upload, "job_id": known.job}
    if case.path.endswith("/rerender"):
        ids["job_id"] = known.rerender_job
    for name in case.path_parameters or {}:
        case.path_parameters[name] = ids.get(name, case.path_parameters[name])
    if isinstance(case.body, dict):
        steer_body(case.path, case.body, known, deep=how == "deep")


def steer_body(path: str, body: dict[str, Any], known: Known, *, deep: bool) -> None:
    frame, first, last = body.get("frame"), body.get("first"), body.get("last")
    if path == "/v1/preview":
        body.update(media=known.media, persona=known.persona)
        if deep and isinstance(frame, int | float):  # JSON integers may come as 4874.0
            body.update(frame=int(frame) % CLIP_FRAMES, face="auto")
            if isinstance(swap := body.get("swap"), dict):  # backends this engine has (no model files)
                swap.update(backend="landmark", enhancer="none")
            if isinstance(side := body.get("max_side"), int) and 0 < side < 128:
                body["max_side"] = 128  # a thumbnail too small to find a face in answers 400
    elif path == "/v1/jobs" and isinstance(spec := body.get("spec"), dict):
        spec.update(source=f"media:{known.media}", persona=known.persona, audio="source")
        spec.pop("segments", None)  # their personas are random names: 404 before anything runs
        if deep:  # a plain output name and a readable mark: random ones are refused (422) by design
            spec.update(face="auto", output="out.mp4")
            if isinstance(mark := spec.get("disclosure"), dict) and not str(mark.get("text", "x")).strip():
                mark["text"] = "AI-generated"
    elif path == "/v1/media/link" and isinstance(text := body.get("path"), str):
        body["path"] = f"/{text}" if deep else f"{known.root}/{text}"  # absolute: past the first check
    elif (
        path.endswith("/rerender")
        and deep
        and isinstance(first, int | float)
        and isinstance(last, int | float)
    ):
        first, last = int(first), int(last)
        body.update(first=first % CLIP_FRAMES, last=max(first, last) % CLIP_FRAMES)
        body["last"] = max(body["first"], body["last"])


def assert_not_a_server_error(response: schemathesis.Response, case: schemathesis.Case) -> None:
    where = f"{case.method} {case.formatted_path} -> {response.status_code}\n{case.as_curl_command()}"
    assert response.status_code < 500, f"{where}\n{response.text[:2000]}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "hint", "type"}, f"{where}\n{body}"


@pytest.mark.parametrize(("label", "mode"), RUNS, ids=[f"{label}-{mode}" for label, mode in RUNS])
def test_operation_never_answers_with_a_server_error(
    fuzzed: Fuzzed, label: str, mode: GenerationMode
) -> None:
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=FUZZ_SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(FUZZ_SEED or 0)
    @given(case=operation.as_strategy(generation_mode=mode), how=st.sampled_from(get_args(Steering)))
    def fuzz(case: schemathesis.Case, how: Steering) -> None:
        steer(case, fuzzed.known, how)
        response = case.call(base_url=fuzzed.http.url, session=fuzzed.http.session, timeout=60)
        seen.add(response.status_code)
        assert_not_a_server_error(response, case)

    seen: set[int] = set()
    fuzz()
    if mode == GenerationMode.POSITIVE and label in REACHED:
        assert REACHED[label] in seen, f"the steered requests never got past validation: {sorted(seen)}"


def test_the_fuzz_covers_every_operation_of_the_app() -> None:
    paths = RAW_SCHEMA["paths"]
    assert len(LABELS) == sum(len(item) for item in paths.values()) >= 19
    assert "POST /v1/preview" in LABELS and "PUT /v1/media/uploads/{upload_id}" in LABELS
