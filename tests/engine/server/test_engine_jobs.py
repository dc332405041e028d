"""Jobs on a real engine process: the demo transform through the client equals the in-process render;
a SIGKILLed engine resumes its job from the last finished chunk and the client's event stream
re-attaches without a duplicate or missing event; cancel, re-render of a range, records and Range."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.personas import PersonaStore, rename_persona
from layer_desktop.engine.pipeline import TransformSpec, run_transform
from layer_desktop.engine.pipeline.demo import demo_content, ensure_demo_persona
from layer_desktop.engine.server.schemas import JobEvent
from layer_desktop.errors import EngineRequestError, JobFailedError, PersonaNotFoundError
from tests.engine.server.conftest import EngineProcess, decode

FAST = {"preset": "veryfast", "chunk_frames": 25}


@pytest.fixture
def store(layer_home: Path) -> PersonaStore:
    store = PersonaStore()
    ensure_demo_persona(store)
    return store


def demo_spec(
    store: PersonaStore, output: Path, source: Path | None = None, chunk: int = 25
) -> TransformSpec:
    return TransformSpec(
        source=str(source or demo_content().clip),
        output=str(output),
        persona=demo_content().persona_name,
        output_settings={**FAST, "chunk_frames": chunk},
        # outputs are compared across jobs: the invisible mark's payload is per job
        disclosure={"watermark": False},
    )


def long_clip(folder: Path, repeats: int = 3) -> Path:
    """The demo clip three times over (300 frames, no audio), so a job runs long enough to be killed."""
    frames = decode(demo_content().clip)
    path = folder / "long.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "16", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for img in frames * repeats:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())
    return path


def test_demo_transform_through_the_engine_equals_the_in_process_render(
    engine_process: EngineProcess, store: PersonaStore, tmp_path: Path
) -> None:
    engine = engine_process.start()
    with EngineClient(engine.endpoint) as client:
        assert client.personas() == []  # the engine has its own store: the persona travels as a bundle
        spec = demo_spec(store, tmp_path / "engine_out.mp4")
        job = client.submit_transform(spec, store)  # the demo clip is not below an allowed root: uploaded
        events = list(client.events(job.job_id))
        result = client.download(job.job_id, tmp_path / "engine_out.mp4")
        info = client.job(job.job_id)
        assert [p.name for p in client.personas()] == [demo_content().persona_name]

        # range requests return exactly the asked bytes
        ep = engine.endpoint()
        part = httpx.get(
            f"{ep.url}/v1/jobs/{job.job_id}/result",
            headers={"Authorization": f"Bearer {ep.token}", "Range": "bytes=100-199"},
        )
        assert part.status_code == 206 and part.content == result.read_bytes()[100:200]
        records = client.records(job.job_id)

    assert info.state == "done" and info.report is not None and info.report["frames"] == 100
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == "state" and events[-1].data["state"] == "done"
    assert {"state", "progress", "records"} <= {e.type for e in events}
    streamed = [r["frame"] for e in events if e.type == "records" for r in e.data["records"]]
    assert sorted(streamed) == list(range(100)) == [r["frame"] for r in records]

    reference = run_transform(
        spec.model_copy(update={"output": str(tmp_path / "in_process.mp4")}), store=store
    )
    ours, theirs = decode(result), decode(reference.output)
    assert len(ours) == len(theirs) == 100
    for a, b in zip(ours, theirs, strict=True):
        assert np.array_equal(a, b)


def test_a_killed_engine_resumes_the_job_and_the_stream_reattaches(
    engine_process: EngineProcess, store: PersonaStore, tmp_path: Path
) -> None:
    source = long_clip(tmp_path / "clips")
    engine = engine_process.start()
    seen: list[JobEvent] = []
    with EngineClient(engine.endpoint, retries=8) as client:
        spec = demo_spec(store, tmp_path / "out.mp4", source, chunk=30)
        job = client.submit_transform(spec, store)
        assert client.link(source).linked  # below an allowed root: read in place, not copied
        killed = False
        for event in client.events(job.job_id):
            seen.append(event)
            if event.type == "records" and not killed:
                engine.kill()  # mid-job, one chunk finished
                killed = True
                engine.start()  # same home: new port, same token file; the stream must re-attach
        assert killed
        final = client.job(job.job_id)
        everything = list(client.events(job.job_id, follow=False))
        out = client.download(job.job_id, tmp_path / "out.mp4")

    assert final.state == "done", final
    assert [e.id for e in seen] == [e.id for e in everything] == list(range(1, len(everything) + 1))
    assert any(e.type == "log" and "resumed" in e.data["message"] for e in seen)
    report = final.report
    assert report is not None and report["chunks_reused"] >= 1 and report["frames"] == 300
    assert report["chunks_encoded"] + report["chunks_reused"] == 10
    assert len(decode(out)) == 300
    reference = run_transform(spec.model_copy(update={"output": str(tmp_path / "ref.mp4")}), store=store)
    for a, b in zip(decode(out), decode(reference.output), strict=True):
        assert np.array_equal(a, b)


def test_cancel_is_prompt_and_rerender_changes_only_its_range(
    engine_process: EngineProcess, store: PersonaStore, tmp_path: Path
) -> None:
    source = long_clip(tmp_path / "clips")
    engine = engine_process.start()
    with EngineClient(engine.endpoint) as client:
        spec = demo_spec(store, tmp_path / "out.mp4", source, chunk=30)
        job = client.submit_transform(spec, store)
        for event in client.events(job.job_id):
            if event.type == "progress" and event.data["stage"] == "render" and event.data["done"] > 0:
                client.cancel(job.job_id)
        assert client.job(job.job_id).state == "cancelled"
        with pytest.raises(EngineRequestError) as missing:
            client.download(job.job_id, tmp_path / "none.mp4")
        assert missing.value.status == 409

        short = client.submit_transform(demo_spec(store, tmp_path / "short.mp4"), store)
        first = client.wait(short.job_id)
        before = decode(client.download(short.job_id, tmp_path / "before.mp4"))
        client.rerender(short.job_id, 30, 40, {"enabled": "false"})  # keep the original frames there
        after_info = client.wait(short.job_id)
        after = decode(client.download(short.job_id, tmp_path / "after.mp4"))

    assert first.report is not None and after_info.report is not None
    assert after_info.report["chunks_encoded"] == 1 and after_info.report["chunks_reused"] == 3
    original = decode(demo_content().clip)
    for i in range(100):
        if 30 <= i <= 40:
            assert not np.array_equal(after[i], before[i])
            # swap off: close to the source apart from the disclosure mark's corner
            assert np.abs(after[i][:400].astype(int) - original[i][:400].astype(int)).mean() < 3
        elif not 25 <= i < 50:
            assert np.array_equal(after[i], before[i])


def test_bad_submissions_are_refused_before_anything_is_queued(
    engine_process: EngineProcess, store: PersonaStore, tmp_path: Path
) -> None:
    engine = engine_process.start()
    with EngineClient(engine.endpoint) as client:
        media = client.upload(demo_content().clip)
        good = demo_spec(store, tmp_path / "x.mp4").model_copy(update={"source": f"media:{media.media_id}"})
        with pytest.raises(PersonaNotFoundError):
            client.submit(good)  # the persona was never synced to this engine
        with pytest.raises(EngineRequestError) as unknown:
            client.submit(good.model_copy(update={"source": "media:" + "0" * 64}))
        assert unknown.value.status == 404
        with pytest.raises(EngineRequestError) as path:
            client.submit(good.model_copy(update={"source": "/etc/passwd"}))
        assert path.value.status == 400
        assert client.jobs() == []

        bad = tmp_path / "clips" / "not_video.mp4"
        bad.write_bytes(b"this is text, not a video" * 100)
        job = client.submit_transform(demo_spec(store, tmp_path / "y.mp4", bad), store)
        with pytest.raises(JobFailedError) as failed:
            client.wait(job.job_id)
        assert "not_video.mp4" in str(failed.value) or "media" in str(failed.value).lower()
        assert client.health()["status"] == "ok"


def test_events_resume_from_an_event_id(
    engine_process: EngineProcess, store: PersonaStore, tmp_path: Path
) -> None:
    engine = engine_process.start()
    with EngineClient(engine.endpoint) as client:
        job = client.submit_transform(demo_spec(store, tmp_path / "z.mp4"), store)
        client.wait(job.job_id)
        full = list(client.events(job.job_id, follow=False))
        tail = list(client.events(job.job_id, after=full[4].id, follow=False))
        ep = engine.endpoint()
        with httpx.stream(
            "GET",
            f"{ep.url}/v1/jobs/{job.job_id}/events?follow=false",
            headers={"Authorization": f"Bearer {ep.token}", "Last-Event-ID": str(full[-3].id)},
        ) as r:
            raw = r.read().decode()
    assert tail == full[5:]
    assert raw.count("\nevent: ") + raw.startswith("event: ") == 2 and f"id: {full[-1].id}" in raw


def test_the_worker_survives_parallel_clients(
    engine_process: EngineProcess, store: PersonaStore, tmp_path: Path
) -> None:
    engine = engine_process.start()
    with EngineClient(engine.endpoint) as client:
        client.sync_persona(store, demo_content().persona_name)
        media = client.upload(demo_content().clip)
    ids: list[str] = []

    def submit(n: int) -> None:
        with EngineClient(engine.endpoint) as c:
            spec = demo_spec(store, tmp_path / f"p{n}.mp4")
            ids.append(c.submit(spec.model_copy(update={"source": f"media:{media.media_id}"})).job_id)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with EngineClient(engine.endpoint) as client:
        states = [client.wait(i).state for i in ids]
        jobs = client.jobs()
    assert states == ["done"] * 3 and len(jobs) == 3


def test_an_edited_persona_is_sent_again(engine_process: EngineProcess, store: PersonaStore) -> None:
    """A persona renamed in the studio after it reached the engine is synced again (newer updated_at)."""
    engine = engine_process.start()
    name = demo_content().persona_name
    with EngineClient(engine.endpoint) as client:
        first = client.sync_persona(store, name)
        assert client.sync_persona(store, name).updated_at == first.updated_at  # unchanged: not resent
        renamed = rename_persona(store, name, "Grace, renamed")
        again = client.sync_persona(store, renamed.id)
        assert again.id == first.id and again.name == "Grace, renamed" and again.updated_at > first.updated_at
        assert [p.name for p in client.personas()] == ["Grace, renamed"]
