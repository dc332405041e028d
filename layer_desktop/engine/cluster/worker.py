"""The Ray actor that encodes chunks of transform jobs. One actor holds one GPU, so a job's models and
analysis are loaded once per actor and reused for every chunk it is given."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from layer_desktop.engine.cluster.kit import JobKit, fetch_source, open_kit
from layer_desktop.engine.media.chunks import ChunkRecord
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.media.render import RenderSpec, encode_chunks
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline.analysis_split import RANGES, analyse_range
from layer_desktop.engine.pipeline.job import analysis_key, chunk_stage
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
        self._stages: dict[str, tuple[_Stage, Path]] = {}  # a job's stage and where its chunks are encoded
        self._roots: dict[str, Path] = {}  # a job's own folder on this worker (kit mode), by job id
        self._rows: list[FrameRecord] = []  # the review records of the chunk being encoded

    def _stage(self, spec_json: str, folder: Path, kit: JobKit | None) -> tuple[_Stage, Path]:
        """The job's stage and the folder this worker encodes its chunks in: the driver's job folder
        (shared storage), or with a ``kit`` a folder of this worker's own, filled from the object store."""
        key = hashlib.sha256(f"{folder}\n{spec_json}\n{kit is not None}".encode()).hexdigest()
        if key not in self._stages:
            spec = TransformSpec.model_validate_json(spec_json)
            if kit is None:
                stage = chunk_stage(spec, folder, PersonaStore(), on_records=self._rows.extend)
            else:
                import ray

                local = open_kit(ray, kit, spec, self._root(kit))
                folder = local.folder
                stage = chunk_stage(
                    local.spec, folder, local.store, on_records=self._rows.extend, key=local.key
                )
            self._stages[key] = stage, folder
        return self._stages[key]

    def render_chunk(
        self, spec_json: str, folder: str, index: int, kit: JobKit | None = None
    ) -> dict[str, Any]:
        """Encode chunk ``index`` (kept when an earlier attempt finished it) and write its records.
        Returns the chunk's record and review records, the encoder, the work folder and when and where
        (node, process) it ran; with a ``kit`` also the chunk's bytes (``data``), as the driver cannot
        read this worker's folders."""
        started = time.time()
        (rspec, processor, hook), job_folder = self._stage(spec_json, Path(folder), kit)
        work_dir = chunk_work_dir(job_folder, index)
        self._rows.clear()
        manifest = encode_chunks(rspec, processor, [index], work_dir=work_dir, on_chunk=hook)
        record = manifest.chunks[index]
        data = None
        if kit is not None:
            data = (work_dir / record.file).read_bytes()
            shutil.rmtree(work_dir, ignore_errors=True)
        return {
            "data": data,
            "transfer": "shared" if kit is None else "objects",
            "record": asdict(record),
            "records": [r.to_dict() for r in self._rows],
            "encoder": manifest.encoder,
            "work_dir": str(work_dir),
            "started": started,
            "finished": time.time(),
            **self._where(),
        }

    def _root(self, kit: JobKit) -> Path:
        return self._roots.setdefault(kit.job, Path(tempfile.mkdtemp(prefix="layer-worker-")))

    def analyse_chunks(
        self, spec_json: str, folder: str, first: int, stop: int, kit: JobKit | None = None
    ) -> dict[str, Any]:
        """Analyse the faces of analysis chunks ``first`` .. ``stop - 1`` (provisional track ids: the
        driver links the ranges). Shared storage: into the job folder; with a ``kit``: into this worker's
        own, and the files' bytes come back (``files``)."""
        started = time.time()
        spec = TransformSpec.model_validate_json(spec_json)
        if kit is None:
            source, out, key = Path(spec.source), Path(folder) / "analysis" / RANGES, analysis_key(spec)
        else:
            import ray

            root = self._root(kit)
            source, out, key = fetch_source(ray, kit, root), root / "jobs" / kit.job / "analysis", kit.key
        with FrameReader(str(source)) as reader:
            written = analyse_range(reader, out, key, first, stop)
        return {
            "first": first, "stop": stop, "started": started, "finished": time.time(),
            "files": None if kit is None else {f.name: f.read_bytes() for f in written},
            **self._where(),
        }  # fmt: skip

    def _where(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "node": socket.gethostname(), "node_id": _node_id(), "worker": self.name}

    def forget(self, job: str) -> None:
        """Delete this worker's copy of job ``job`` (its source, analysis and personas)."""
        root = self._roots.pop(job, None)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def _node_id() -> str:
    """The Ray node this actor runs on ("" outside Ray): two nodes may share a host name."""
    import ray

    return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else ""
