"""The render manifest: which chunks of a render are finished, with the hash of each chunk file.

A chunk is a fixed run of frames encoded as one closed GOP in its own file. The manifest is rewritten
atomically after every finished chunk, so a crash at any moment leaves a manifest that lists only chunks
whose files are complete; on restart each listed chunk is verified by size and sha256 before it is reused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.errors import RenderStateError
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ChunkRecord:
    index: int
    start: int  # first frame (inclusive)
    stop: int  # last frame + 1
    file: str  # name inside the work folder
    sha256: str
    size: int
    packets: int
    processor: str  # tag of the processing step that made it


@dataclass
class RenderManifest:
    fingerprint: str
    total_frames: int
    chunk_frames: int
    encoder: str
    chunks: dict[int, ChunkRecord] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    def to_json(self) -> bytes:
        data = asdict(self)
        data["chunks"] = [asdict(c) for c in sorted(self.chunks.values(), key=lambda c: c.index)]
        return json.dumps(data, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes, where: Path) -> RenderManifest:
        try:
            data: dict[str, Any] = json.loads(raw)
            chunks = {int(c["index"]): ChunkRecord(**c) for c in data.pop("chunks")}
            return cls(chunks=chunks, **data)
        except (ValueError, TypeError, KeyError) as exc:
            raise RenderStateError(f"The render manifest {where} is damaged: {exc}", path=where) from exc


def plan_chunks(total_frames: int, chunk_frames: int) -> list[tuple[int, int]]:
    """Split ``total_frames`` into ``(start, stop)`` runs of ``chunk_frames`` (the last may be shorter)."""
    if chunk_frames < 1:
        raise ValueError("chunk_frames must be at least 1")
    return [(s, min(s + chunk_frames, total_frames)) for s in range(0, total_frames, chunk_frames)]


def chunks_touching(plan: list[tuple[int, int]], first: int, last: int) -> list[int]:
    """Indices of the chunks that hold any frame in ``first`` .. ``last`` (inclusive)."""
    return [i for i, (s, e) in enumerate(plan) if s <= last and first < e]


def chunk_file_name(index: int) -> str:
    return f"chunk_{index:05d}.nut"


def load_manifest(work_dir: Path) -> RenderManifest | None:
    path = work_dir / MANIFEST_NAME
    if not path.exists():
        return None
    return RenderManifest.from_json(path.read_bytes(), path)


def save_manifest(work_dir: Path, manifest: RenderManifest) -> None:
    write_atomic(work_dir / MANIFEST_NAME, manifest.to_json())


def chunk_is_intact(work_dir: Path, record: ChunkRecord) -> bool:
    """True when the chunk's file exists with the recorded size and sha256."""
    path = work_dir / record.file
    if not path.is_file() or path.stat().st_size != record.size:
        return False
    return sha256_file(path) == record.sha256


def reusable_chunks(work_dir: Path, manifest: RenderManifest, plan: list[tuple[int, int]]) -> set[int]:
    """The finished chunks that match the plan and verify; the others are dropped from the manifest."""
    good: set[int] = set()
    for index, record in list(manifest.chunks.items()):
        planned = index < len(plan) and plan[index] == (record.start, record.stop)
        if planned and chunk_is_intact(work_dir, record):
            good.add(index)
        else:
            log.warning("chunk %d in %s failed verification; it will be encoded again", index, work_dir)
            del manifest.chunks[index]
    return good


def remove_stray_files(work_dir: Path, manifest: RenderManifest) -> None:
    """Delete chunk files the manifest does not list (half-written ones from a crash)."""
    listed = {c.file for c in manifest.chunks.values()}
    for path in work_dir.glob("chunk_*"):
        if path.name not in listed:
            path.unlink(missing_ok=True)
