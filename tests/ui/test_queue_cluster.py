"""A cluster job in the studio's queue: the head engine's ``chunk`` events show how many workers share
the render and, in the job's log, which worker on which node made each chunk."""

from __future__ import annotations

import time
from typing import Any

from pytestqt.qtbot import QtBot

from layer_desktop.engine.server.schemas import JobEvent, JobInfo
from layer_desktop.ui.queue import QueuedJob, RenderQueue
from layer_desktop.ui.widgets.queue_panel import QueuePanel, row_texts


def _event(n: int, kind: str, data: dict[str, Any]) -> JobEvent:
    return JobEvent(id=n, job_id="j1", type=kind, time=time.time(), data=data)  # type: ignore[arg-type]


def test_chunk_events_show_the_workers_of_a_cluster_job(qtbot: QtBot) -> None:
    queue = RenderQueue(link=None)  # type: ignore[arg-type]  # no engine: the events are fed below
    info = JobInfo(job_id="j1", state="running", kind="transform", created=0, updated=0, output_name="a.mp4")
    queue.jobs["j1"] = QueuedJob(info, engine="remote: head")
    panel = QueuePanel(queue)
    qtbot.addWidget(panel)
    queue.event_received.emit("j1", _event(1, "progress", {"stage": "render", "done": 0, "total": 100}))
    assert row_texts(queue.jobs["j1"])[3] == "Rendering"  # nothing from the cluster yet: a plain job
    for n, (index, worker, node) in enumerate([(1, "worker 2", "gpu-b"), (0, "worker 1", "gpu-a"),
                                               (2, "worker 2", "gpu-b")], start=2):  # fmt: skip
        data = {"index": index, "frames": 25, "worker": worker, "node": node, "node_id": node, "pid": 7,
                "seconds": 1.25}  # fmt: skip
        queue.event_received.emit("j1", _event(n, "chunk", data))
    queue.event_received.emit("j1", _event(5, "progress", {"stage": "render", "done": 75, "total": 100}))
    job = queue.jobs["j1"]
    assert job.workers == {"worker 2 on gpu-b": 50, "worker 1 on gpu-a": 25}
    assert row_texts(job)[3] == "Rendering on 2 workers"
    assert "chunk 1: 25 frames by worker 1 on gpu-a in 1.2 s" in job.log
    panel.table.selectRow(0)
    assert "chunk 3: 25 frames by worker 2 on gpu-b" in panel.log.toPlainText()
    assert panel.table.item(0, 3).text() == "Rendering on 2 workers"
