"""Flagged ranges of a render: consecutive flagged frames grouped for review (Qt-free).

The engine flags frames per record (``FrameRecord.flags``); a reviewer wants to look at stretches,
not single frames, so frames close to each other are merged into one ``FlaggedRange``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline.records import FLAGS

log = logging.getLogger(__name__)

FLAG_TEXT: dict[str, str] = {
    "no_face": "No face found",
    "face_lost": "Face lost",
    "low_confidence": "Low detection confidence",
    "jitter_spike": "Jitter spike",
    "low_similarity": "Low similarity to the persona",
    "bystander": "Swapped face is not the main subject",
    "out_of_sync": "Sound out of sync with the mouth",
    "mouth_in_silence": "Mouth open in a silence",
}
assert set(FLAG_TEXT) == set(FLAGS), "every engine flag needs a readable text"

REVIEW_STATES = ("to review", "accepted", "kept original", "re-rendered")


@dataclass(frozen=True)
class FlaggedRange:
    """Frames ``start`` .. ``stop`` (inclusive) with the union of their ``flags``; ``frames`` were flagged."""

    start: int
    stop: int
    flags: tuple[str, ...]
    frames: int
    av_offset: int | None = None  # out-of-sync ranges: frames the sound is late (negative: early)
    shot: int | None = None  # the engine's shot index of the range's first frame (None: not known)

    @property
    def key(self) -> str:
        """A stable id for review state: ``"start-stop"``."""
        return f"{self.start}-{self.stop}"

    @property
    def middle(self) -> int:
        return (self.start + self.stop) // 2

    @property
    def reason(self) -> str:
        """Human text, e.g. ``"No face found (frames 30–49)"``."""
        names = ", ".join(FLAG_TEXT.get(f, f.replace("_", " ")) for f in self.flags) or "Flagged"
        names = names[0].upper() + names[1:]
        where = f"frame {self.start}" if self.start == self.stop else f"frames {self.start}–{self.stop}"
        if self.av_offset:
            when = "late" if self.av_offset > 0 else "early"
            where += f"; sound {abs(self.av_offset)} frame{'s' if abs(self.av_offset) != 1 else ''} {when}"
        return f"{names} ({where})"


def _ordered_flags(flags: Iterable[str]) -> tuple[str, ...]:
    """Known flags in the engine's order, unknown ones after them, alphabetically."""
    found = set(flags)
    return tuple(f for f in FLAGS if f in found) + tuple(sorted(found - set(FLAGS)))


def flagged_ranges(records: Sequence[dict[str, Any]], gap: int = 0) -> list[FlaggedRange]:
    """Group flagged frames into ranges sorted by start.

    Two flagged frames belong to one range when at most ``gap`` unflagged frames lie between them
    (``gap=0``: only adjacent frames merge). Records without flags are ignored. Each range carries the
    shot of its first frame (for "accept all in this shot").
    """
    by_frame: dict[int, set[str]] = {}
    for record in records:
        if record.get("flags"):
            by_frame.setdefault(int(record["frame"]), set()).update(record["flags"])
    ranges: list[FlaggedRange] = []
    group: list[int] = []
    flags: set[str] = set()
    for frame in sorted(by_frame):
        if group and frame - group[-1] > gap + 1:
            ranges.append(FlaggedRange(group[0], group[-1], _ordered_flags(flags), len(group)))
            group, flags = [], set()
        group.append(frame)
        flags |= by_frame[frame]
    if group:
        ranges.append(FlaggedRange(group[0], group[-1], _ordered_flags(flags), len(group)))
    shots = {int(r["frame"]): r.get("shot") for r in records}
    return [replace(_with_offset(r, records), shot=shots.get(r.start)) for r in ranges]


def _with_offset(rng: FlaggedRange, records: Sequence[dict[str, Any]]) -> FlaggedRange:
    """An out-of-sync range carries the median A/V offset of its out-of-sync frames."""
    if "out_of_sync" not in rng.flags:
        return rng
    offsets = [
        int(r["av_offset"])
        for r in records
        if rng.start <= int(r["frame"]) <= rng.stop
        and "out_of_sync" in (r.get("flags") or ())
        and r.get("av_offset") is not None
    ]
    return replace(rng, av_offset=int(np.median(offsets))) if offsets else rng


def _resize_to_height(image: np.ndarray, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    width = max(1, round(w * height / h))
    return np.ascontiguousarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))


def range_thumbnails(video: Path, ranges: Sequence[FlaggedRange], height: int = 72) -> dict[str, np.ndarray]:
    """RGB thumbnails (``height`` pixels high, aspect kept) of each range's middle frame, by range key.

    Decodes, so call it off the GUI thread. Raises what ``FrameReader`` raises for an unreadable file;
    a range beyond the video's end is left out (logged).
    """
    thumbs: dict[str, np.ndarray] = {}
    with FrameReader(video, threading_mode="SLICE") as reader:
        for rng in ranges:
            index = min(rng.middle, reader.frame_count - 1)
            if index < rng.start:
                log.warning("range %s lies beyond the end of %s", rng.key, video.name)
                continue
            thumbs[rng.key] = _resize_to_height(reader.frame_at(index, rotate=True).image, height)
    return thumbs
