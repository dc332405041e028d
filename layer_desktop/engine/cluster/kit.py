"""What a worker on another machine needs for a job's chunks, sent through Ray's object store: no shared
mount, no bucket. The driver puts the source file (in pieces, so neither side holds it whole in memory),
the job's face analysis and the personas' bundles; a worker fetches them once per job into a folder of
its own, and its chunks come back as the task's result. Nothing of the driver's folders is read or
written by such a worker.

    kit = make_kit(ray, spec, folder, store)          # driver, once per job: source, personas
    kit = with_analysis(ray, kit, folder)             # driver, once the analysis is complete
    local = open_kit(ray, kit, spec, root)            # worker, once per job: spec, folder, store
"""

from __future__ import annotations

import io
import logging
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from layer_desktop.engine.cluster.errors import ClusterError
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.personas.bundle import export_persona, import_persona
from layer_desktop.engine.pipeline.analysis import AnalysisKey
from layer_desktop.engine.pipeline.job import analysis_key
from layer_desktop.engine.pipeline.spec import TransformSpec

log = logging.getLogger(__name__)

PIECE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class JobKit:
    job: str  # the job folder's name (the job id: the render spec and the watermark use it)
    source_name: str
    source_pieces: tuple[Any, ...]  # ObjectRefs of the source file's bytes, in order
    analysis: Any  # ObjectRef of a tar of the job's analysis folder (None before the analysis)
    personas: tuple[Any, ...]  # ObjectRefs of persona bundles (zip)
    key: AnalysisKey  # the driver's analysis key (its source path): the worker's copy lies elsewhere


@dataclass(frozen=True)
class LocalJob:
    spec: TransformSpec
    folder: Path
    store: PersonaStore
    key: AnalysisKey


def _persona_refs(spec: TransformSpec) -> list[str]:
    refs = [spec.persona, *(seg.persona for seg in spec.segments if seg.persona)]
    return list(dict.fromkeys(refs))


def make_kit(ray: Any, spec: TransformSpec, folder: Path, store: PersonaStore) -> JobKit:
    """Put what the job's workers need into the object store: the source and the personas
    (``with_analysis`` adds the analysis once it is complete)."""
    pieces = []
    with Path(spec.source).open("rb") as fh:
        while piece := fh.read(PIECE_BYTES):
            pieces.append(ray.put(piece))
    bundles = []
    with tempfile.TemporaryDirectory(prefix="layer-kit-") as tmp:
        for i, ref in enumerate(_persona_refs(spec)):
            bundles.append(ray.put(export_persona(store, ref, Path(tmp) / f"{i}.zip").read_bytes()))
    log.info("cluster kit for %s: source in %d pieces, %d personas", folder.name, len(pieces), len(bundles))
    return JobKit(
        folder.name, Path(spec.source).name, tuple(pieces), None, tuple(bundles), analysis_key(spec)
    )


def with_analysis(ray: Any, kit: JobKit, folder: Path) -> JobKit:
    """``kit`` with the job's analysis folder (once the analysis is complete)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder / "analysis", arcname="analysis")
    return replace(kit, analysis=ray.put(buffer.getvalue()))


def fetch_source(ray: Any, kit: JobKit, root: Path) -> Path:
    """The job's source in ``root`` (fetched once: a complete copy is kept)."""
    source = root / "source" / kit.source_name
    if source.is_file():
        return source
    source.parent.mkdir(parents=True, exist_ok=True)
    part = source.with_name(source.name + ".part")
    with part.open("wb") as fh:
        for ref in kit.source_pieces:  # one piece in memory at a time
            fh.write(ray.get(ref))
    part.replace(source)
    return source


def _plain_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's files and folders, refusing links and paths that leave the folder (Python 3.11.2,
    Debian's, has no extraction filters)."""
    members = tar.getmembers()
    for m in members:
        if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in Path(m.name).parts:
            raise ClusterError(f"The job's analysis from the driver holds an unsafe entry: {m.name!r}.")
    return members


def open_kit(ray: Any, kit: JobKit, spec: TransformSpec, root: Path) -> LocalJob:
    """The job's pieces in ``root`` (a worker's own folder): the source, the analysis, a persona store."""
    if kit.analysis is None:
        raise ClusterError("A worker was sent a job before its face analysis.")
    source = fetch_source(ray, kit, root)
    folder = root / "jobs" / kit.job
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(ray.get(kit.analysis)), mode="r") as tar:
        tar.extractall(folder, members=_plain_members(tar))
    store = PersonaStore(root / "personas.sqlite3", root / "media")
    for i, ref in enumerate(kit.personas):
        bundle = root / f"persona-{i}.zip"
        bundle.write_bytes(ray.get(ref))
        import_persona(store, bundle)
        bundle.unlink()
    local = spec.model_copy(update={"source": str(source), "output": str(folder / "output.mp4")})
    return LocalJob(local, folder, store, kit.key)
