"""The Ray actor that encodes chunks of transform jobs. One actor holds one GPU, so a job's models and
analysis are loaded once per actor and reused for every chunk it is given."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from layer_desktop.engine.media.chunks import ChunkRecord
from layer_desktop.engine.media.render import RenderSpec, encode_chunks
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline.job import chunk_stage
from layer_desktop.engine.pipeline.processor import TransformProcessor
from layer_desktop.engine.pipeline.records import FrameRecord
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.paths import HOME_ENV

_Stage = tuple[RenderSpec, TransformProcessor, Callable[[ChunkRecord], None]]


def chunk_work_dir(folder: Path, index: int) -> Path:
    """Where a worker encodes chunk ``index`` of the job in ``folder`` (its own manifest: chunks of one
    job are encoded by several processes at once)."""
    return folder / "cluster" / f"chunk_{index:05d}"


class ChunkWorker:
    """Encodes chunks; made a Ray actor by the runner (``ray.remote(ChunkWorker)``)."""

    def __init__(self, layer_home: str | None = None, name: str = "worker") -> None:
        self.name = name  # shown in the job's progress: which worker encoded which chunk
        if layer_home:
            os.environ[HOME_ENV] = layer_home  # the driver's persona store and model folder
        self._stages: dict[str, _Stage] = {}
        self._rows: list[FrameRecord] = []  # the review records of the chunk being encoded

    def _stage(self, spec_json: str, folder: Path) -> _Stage:
        key = hashlib.sha256(f"{folder}\n{spec_json}".encode()).hexdigest()
        if key not in self._stages:
            spec = TransformSpec.model_validate_json(spec_json)
            self._stages[key] = chunk_stage(spec, folder, PersonaStore(), on_records=self._rows.extend)
        return self._stages[key]

    def render_chunk(self, spec_json: str, folder: str, index: int) -> dict[str, Any]:
        """Encode chunk ``index`` (kept when an earlier attempt finished it) and write its records.
        Returns the chunk's record and review records, the encoder, the work folder and when and where
        (node, process) it ran."""
        started = time.time()
        rspec, processor, hook = self._stage(spec_json, Path(folder))
        work_dir = chunk_work_dir(Path(folder), index)
        self._rows.clear()
        manifest = encode_chunks(rspec, processor, [index], work_dir=work_dir, on_chunk=hook)
        return {
            "record": asdict(manifest.chunks[index]),
            "records": [r.to_dict() for r in self._rows],
            "encoder": manifest.encoder,
            "work_dir": str(work_dir),
            "started": started,
            "finished": time.time(),
            "pid": os.getpid(),
            "node": socket.gethostname(),
            "node_id": _node_id(),
            "worker": self.name,
        }


def _node_id() -> str:
    """The Ray node this actor runs on ("" outside Ray): two nodes may share a host name."""
    import ray

    return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else ""
