"""A transform on a real local Ray cluster (two fake GPUs): its 4 chunks are encoded by two actors, at
most two at a time, and the joined output equals a single-engine render frame by frame; an actor killed
in the middle of a chunk is restarted and the output is unchanged; cancel stops every actor."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layer_desktop.engine.cluster.runner import ClusterOptions, run_transform_on_cluster
from layer_desktop.engine.cluster.worker import ChunkWorker, chunk_work_dir
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline import TransformSpec, run_transform
from layer_desktop.engine.pipeline.analysis import load_chunk
from layer_desktop.engine.pipeline.demo import demo_content, ensure_demo_persona
from layer_desktop.errors import InputError
from tests.clips import decode
from tests.remote.ssh.helpers import streams_sha256

pytestmark = pytest.mark.slow


@pytest.fixture
def store(layer_home: Path) -> PersonaStore:
    store = PersonaStore()
    ensure_demo_persona(store)
    return store


def demo_spec(output: Path, **update: Any) -> TransformSpec:
    return TransformSpec(
        source=str(demo_content().clip), output=str(output), persona=demo_content().persona_name,
        output_settings={"preset": "veryfast", "chunk_frames": 25},  # 100 frames: 4 chunks
        disclosure={"watermark": False},  # the invisible mark's payload is per job
        **update,
    )  # fmt: skip


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    running = best = 0
    for _, step in edges:
        running += step
        best = max(best, running)
    return best


def same_frames(a: Path, b: Path) -> None:
    ours, theirs = decode(a), decode(b)
    assert len(ours) == len(theirs) == 100
    for i, (x, y) in enumerate(zip(ours, theirs, strict=True)):
        assert np.array_equal(x, y), f"frame {i} differs"


def test_chunks_run_on_two_workers_and_join_to_the_single_engine_render(
    ray_cluster: Any, store: PersonaStore, tmp_path: Path
) -> None:
    reports: list[dict[str, Any]] = []
    spec = demo_spec(tmp_path / "cluster.mp4")
    report = run_transform_on_cluster(spec, store=store, on_chunk=reports.append)
    reference = run_transform(demo_spec(tmp_path / "one_engine.mp4"), store=store)

    assert sorted(r["record"]["index"] for r in reports) == [0, 1, 2, 3]
    assert len({r["pid"] for r in reports}) == 2  # one actor per (fake) GPU, both used
    assert most_at_once([(r["started"], r["finished"]) for r in reports]) <= 2
    assert report.frames == 100 and report.chunks_reused == 4  # the driver only joined them
    assert report.swapped == reference.swapped > 0
    same_frames(Path(report.output), Path(reference.output))
    # x264 with the same settings is deterministic: the same encoded streams, byte for byte
    assert streams_sha256(Path(report.output)) == streams_sha256(Path(reference.output))


def test_without_shared_storage_the_job_travels_through_the_object_store(
    ray_cluster: Any, store: PersonaStore, tmp_path: Path
) -> None:
    """Workers on other machines: they get the source, the analysis and the persona from the object
    store into folders of their own (their LAYER_HOME has no such persona) and send the chunks back."""
    reports: list[dict[str, Any]] = []
    spec = demo_spec(tmp_path / "cluster.mp4")
    report = run_transform_on_cluster(
        spec, ClusterOptions(transfer="objects"), store=store, on_chunk=reports.append
    )
    reference = run_transform(demo_spec(tmp_path / "one_engine.mp4"), store=store)
    assert sorted(r["record"]["index"] for r in reports) == [0, 1, 2, 3]
    assert len({r["pid"] for r in reports}) == 2
    job_folder = Path(report.job_dir)
    for r in reports:  # encoded in the workers' own folders, not in the driver's job folder
        assert not Path(r["work_dir"]).is_relative_to(job_folder) and "data" not in r
    assert not (job_folder / "cluster").exists()
    assert not any(Path(r["work_dir"]).parents[2].exists() for r in reports)  # their copies deleted
    assert report.chunks_reused == 4
    same_frames(Path(report.output), Path(reference.output))
    assert streams_sha256(Path(report.output)) == streams_sha256(Path(reference.output))


class DiesOnce(ChunkWorker):
    """Dies (the whole process, as on a lost machine) half-way into its first chunk 2."""

    def render_chunk(self, spec_json: str, folder: str, index: int, kit: Any = None) -> dict[str, Any]:
        marker = Path(folder) / "died_once"
        if index == 2 and not marker.exists():
            marker.write_text("x")
            work = chunk_work_dir(Path(folder), index)
            work.mkdir(parents=True, exist_ok=True)
            (work / "chunk_00002.mp4").write_bytes(b"\0" * 5000)  # a half-written chunk file
            os._exit(1)
        return super().render_chunk(spec_json, folder, index, kit)


def test_a_worker_killed_mid_chunk_is_restarted_and_the_output_is_unchanged(
    ray_cluster: Any, store: PersonaStore, tmp_path: Path
) -> None:
    reports: list[dict[str, Any]] = []
    folder = tmp_path / "job"
    spec = demo_spec(tmp_path / "cluster.mp4")
    report = run_transform_on_cluster(
        spec, store=store, folder=folder, on_chunk=reports.append, worker=DiesOnce
    )
    reference = run_transform(demo_spec(tmp_path / "one_engine.mp4"), store=store)
    assert (folder / "died_once").exists()
    assert sorted(r["record"]["index"] for r in reports) == [0, 1, 2, 3]
    same_frames(Path(report.output), Path(reference.output))


def test_cancel_stops_every_worker_and_leaves_no_output(
    ray_cluster: Any, store: PersonaStore, tmp_path: Path
) -> None:
    cancel = threading.Event()
    spec = demo_spec(tmp_path / "cancelled.mp4")
    with pytest.raises(RenderCancelled):
        run_transform_on_cluster(
            spec, ClusterOptions(workers=1), store=store, cancel=cancel, on_chunk=lambda _: cancel.set()
        )
    assert not (tmp_path / "cancelled.mp4").exists()
    # the actors are gone: the cluster's GPUs are free again
    deadline = time.monotonic() + 30.0
    while ray_cluster.available_resources().get("GPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray_cluster.available_resources().get("GPU", 0) == 2


def test_voice_and_lipsync_jobs_are_refused_before_anything_runs(store: PersonaStore, tmp_path: Path) -> None:
    for update in ({"voice": {"enabled": True}}, {"lipsync": {"enabled": True}}):
        spec = demo_spec(tmp_path / "dub.mp4", **update)
        with pytest.raises(InputError, match="one engine"):
            run_transform_on_cluster(spec, store=store)
    assert not (tmp_path / "dub.mp4").exists() and not list(tmp_path.glob("layer_home/data/jobs/*"))


def _analysis(job_dir: Path) -> list[list[tuple[int, tuple[float, ...]]]]:
    """Every frame's (track id, box) from a job's analysis chunk files."""
    frames = []
    for path in sorted((job_dir / "analysis").glob("faces_*.npz")):
        frames += [[(f.track_id, f.bbox) for f in faces] for faces in load_chunk(path)[2]]
    return frames


@pytest.mark.parametrize("transfer", ["shared", "objects"])
def test_a_long_video_is_analysed_in_ranges_as_one_engine_resumed_at_the_same_chunk(
    ray_cluster: Any, store: PersonaStore, tmp_path: Path, transfer: str
) -> None:
    """Two workers analyse chunks 0-1 and 2-3 at once; the driver links the tracks. The analysis, and so
    the video, equal one engine's whose analysis was interrupted at chunk 2 and resumed."""
    seen: list[tuple[str, int, int]] = []
    options = ClusterOptions(transfer=transfer, split_analysis_frames=50)  # 100 frames count as long
    report = run_transform_on_cluster(
        demo_spec(tmp_path / "cluster.mp4"), options, store=store, progress=lambda *p: seen.append(p)
    )
    assert [p for p in seen if p[0] == "analyse"] == [("analyse", 50, 100), ("analyse", 100, 100)]
    assert not (Path(report.job_dir) / "analysis" / "ranges").exists()  # linked and moved into place

    cancel = threading.Event()

    def stop_at_chunk_2(stage: str, done: int, total: int) -> None:
        if stage == "analyse" and done == 50:
            cancel.set()

    one = demo_spec(tmp_path / "one_engine.mp4")
    with pytest.raises(RenderCancelled):
        run_transform(one, store=store, progress=stop_at_chunk_2, cancel=cancel)
    reference = run_transform(one, store=store)  # resumes the analysis at chunk 2

    ours, theirs = _analysis(Path(report.job_dir)), _analysis(Path(reference.job_dir))
    assert len(ours) == len(theirs) == 100 and ours == theirs
    assert any(faces for faces in ours)  # the astronaut, tracked
    same_frames(Path(report.output), Path(reference.output))
    assert streams_sha256(Path(report.output)) == streams_sha256(Path(reference.output))
