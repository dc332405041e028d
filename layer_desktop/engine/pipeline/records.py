"""Per-frame review records of a transform job, the rules that flag frames, and their storage.

Records are kept per render chunk (``records/chunk_NNNNN.json``), written when the chunk's video is
finished, so records and pixels always describe the same render, also after a splice.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from layer_desktop.engine.lipsync.review import sync_flags
from layer_desktop.settings import write_atomic

LOW_CONFIDENCE = 0.6
LOW_PRESENCE = 0.5
JITTER_SPIKE = 0.02  # of the face size; the smoothed talk clip stays under 0.005
LOW_SIMILARITY = 0.35
FLAGS = (
    "no_face",
    "face_lost",
    "low_confidence",
    "jitter_spike",
    "low_similarity",
    "bystander",
    "out_of_sync",
    "mouth_in_silence",
)


@dataclass(frozen=True)
class FrameRecord:
    frame: int
    faces_found: int
    track: int | None
    confidence: float | None
    presence: float | None
    jitter: float | None
    applied: bool
    skip_reason: str | None
    backend: str | None
    reference: int | None = None
    similarity: float | None = None
    ms: dict[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    shot: int | None = None
    bystander: bool = False  # the swapped face is not the main subject
    av_offset: int | None = None  # lip-sync review: frames the sound is late (negative: early)
    sync_confidence: float | None = None
    mouth_open_in_silence: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": list(self.flags)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameRecord:
        return cls(**{**d, "flags": tuple(d.get("flags", ()))})


def flag(record: FrameRecord, swap_on: bool, track_lost: bool) -> FrameRecord:
    """The record with its review flags set by the rules."""
    flags = []
    # a frame without the person is a problem only inside a shot that shows them before and after it
    if swap_on and record.faces_found == 0 and track_lost:
        flags.append("no_face")
    if swap_on and track_lost:
        flags.append("face_lost")
    if (record.confidence is not None and record.confidence < LOW_CONFIDENCE) or (
        record.presence is not None and record.presence < LOW_PRESENCE
    ):
        flags.append("low_confidence")
    if record.jitter is not None and record.jitter > JITTER_SPIKE:
        flags.append("jitter_spike")
    if record.similarity is not None and record.similarity < LOW_SIMILARITY:
        flags.append("low_similarity")
    if record.applied and record.bystander:
        flags.append("bystander")
    flags.extend(sync_flags(record.av_offset, record.sync_confidence, record.mouth_open_in_silence))
    return replace(record, flags=tuple(flags))


class RecordBook:
    """Collects records from the processing thread and writes a chunk's file when the chunk is done."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pending: dict[int, FrameRecord] = {}
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, record: FrameRecord) -> None:
        with self._lock:
            self._pending[record.frame] = record

    def chunk_done(self, index: int, start: int, stop: int) -> list[FrameRecord]:
        """Write the records of frames ``start`` .. ``stop - 1`` as chunk ``index``'s file; returns them."""
        with self._lock:
            rows = [self._pending.pop(i) for i in range(start, stop) if i in self._pending]
        write_atomic(
            self.folder / f"chunk_{index:05d}.json", json.dumps([r.to_dict() for r in rows]).encode()
        )
        return rows


def load_records(folder: Path) -> list[FrameRecord]:
    """Every stored record, in frame order."""
    rows: list[FrameRecord] = []
    for path in sorted(folder.glob("chunk_*.json")):
        rows.extend(FrameRecord.from_dict(d) for d in json.loads(path.read_text()))
    return sorted(rows, key=lambda r: r.frame)
