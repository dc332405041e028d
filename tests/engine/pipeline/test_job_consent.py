"""Jobs hold their state and their personas' consent: a refused or interrupted re-render leaves the job as
it was (and later re-renders work); deleting a persona while a job uses it stops the job and removes
its partial output (the choice documented in README.md, "Consent")."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline import TransformSpec, load_job, rerender_job, run_transform
from layer_desktop.engine.pipeline.job import job_id_for, jobs_dir
from layer_desktop.errors import ConsentWithdrawnError, FrameOutOfRangeError, PersonaNotFoundError
from tests.clips import decode
from tests.conftest import SHARED_MEDIA
from tests.engine.pipeline.conftest import make_store

FRAMES, SIDE = 30, 256


def short_clip(path: Path) -> Path:
    """The first 30 frames of the talking-astronaut clip at 256×256 (a second of work per run)."""
    with (
        av.open(str(SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4")) as src,
        av.open(str(path), "w") as out,
    ):
        stream = out.add_stream("libx264", rate=25, options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = SIDE, SIDE, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            if i == FRAMES:
                break
            rgb = frame.to_ndarray(format="rgb24", width=SIDE, height=SIDE)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return path


@pytest.fixture
def setup(tmp_path: Path) -> tuple[PersonaStore, TransformSpec]:
    store = make_store(tmp_path / "home")
    spec = TransformSpec.model_validate(
        {"source": str(short_clip(tmp_path / "clip.mp4")), "output": str(tmp_path / "out.mp4"),
         "persona": "Grace", "output_settings": {"preset": "ultrafast", "chunk_frames": 10},
         "disclosure": {"watermark": False}}  # frames are compared with the source's
    )  # fmt: skip
    return store, spec


def test_a_failed_rerender_leaves_the_job_as_it_was_and_later_ones_work(
    setup: tuple[PersonaStore, TransformSpec],
) -> None:
    store, spec = setup
    run_transform(spec, store=store)
    job = load_job(spec.output)
    spec_before = (job.folder / "spec.json").read_bytes()
    swapped = decode(spec.output)

    with pytest.raises(PersonaNotFoundError):  # refused before spec.json is touched
        rerender_job(job.job_id, 12, 14, {"persona": "nobody"}, store=store)
    assert (job.folder / "spec.json").read_bytes() == spec_before
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RenderCancelled):  # stopped after spec.json was written: it gets its old bytes back
        rerender_job(job.job_id, 12, 14, {"enabled": "false"}, store=store, cancel=cancel)
    assert (job.folder / "spec.json").read_bytes() == spec_before

    report = rerender_job(job.job_id, 2, 4, {"enabled": "false"}, store=store)
    assert report.chunks_encoded >= 1
    after, source = decode(spec.output), decode(spec.source)
    assert len(after) == FRAMES
    for i in (2, 3, 4):  # swap off there: the source again, up to re-encoding noise
        assert np.abs(after[i].astype(int) - source[i].astype(int)).mean() < 4.0
        assert np.abs(swapped[i].astype(int) - source[i].astype(int)).mean() > 0.5
    assert [(s.start, s.stop, s.enabled) for s in load_job(spec.output).spec.segments] == [(2, 4, False)]


@pytest.mark.parametrize("stage", ["analyse", "render"])
def test_deleting_the_persona_during_a_job_stops_it_and_removes_its_output(
    setup: tuple[PersonaStore, TransformSpec], stage: str
) -> None:
    store, spec = setup
    deleted: list[int] = []

    def progress(now: str, done: int, total: int) -> None:
        if now == stage and done >= 1 and not deleted:
            store.delete("Grace")  # consent withdrawn while the job runs
            deleted.append(done)

    with pytest.raises(ConsentWithdrawnError, match="partial output was removed") as info:
        run_transform(spec, store=store, progress=progress)
    assert deleted and "Grace" in info.value.message
    folder = load_job_folder(spec)
    assert not Path(spec.output).exists()
    assert not (folder / "render").exists() and not (folder / "records").exists()


def load_job_folder(spec: TransformSpec) -> Path:
    return jobs_dir() / job_id_for(spec.output)


def test_a_face_point_past_the_clip_is_refused_before_analysis(
    setup: tuple[PersonaStore, TransformSpec],
) -> None:
    store, spec = setup
    far = spec.model_copy(update={"face": "10,10@500"})
    with pytest.raises(FrameOutOfRangeError, match="frame 500, but the video has 30 frames"):
        run_transform(far, store=store)
    assert not (load_job_folder(far) / "analysis").exists()
