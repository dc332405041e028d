"""Review ranges: flagged frames merged into what a person would look at, one range per problem per shot.

A problem (a flag) that comes and goes inside one shot (a jittery stretch, a hand passing the face
twice) is one range from its first to its last frame there, unless it pauses for longer than
``gap`` frames (then it is a new range); a range never spans a cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from layer_desktop.engine.pipeline.records import FLAGS, FrameRecord

GAP = 50  # frames (2 s at 25 fps) a problem may pause and still be the same problem


@dataclass(frozen=True)
class ReviewRange:
    """Frames ``start`` .. ``stop`` (inclusive) of ``shot`` with ``flag``; ``frames`` were flagged."""

    flag: str
    shot: int | None
    start: int
    stop: int
    frames: int

    def to_dict(self) -> dict[str, object]:
        return {"flag": self.flag, "shot": self.shot, "start": self.start, "stop": self.stop,
                "frames": self.frames}  # fmt: skip


def review_ranges(records: Iterable[FrameRecord], gap: int = GAP) -> list[ReviewRange]:
    """The ranges of every flag, per shot, sorted by start frame then by the flag's order in ``FLAGS``."""
    by_key: dict[tuple[str, int | None], list[int]] = {}
    for r in sorted(records, key=lambda r: r.frame):
        for f in r.flags:
            by_key.setdefault((f, r.shot), []).append(r.frame)
    out: list[ReviewRange] = []
    for (flag, shot), frames in by_key.items():
        first = prev = frames[0]
        count = 1
        for frame in frames[1:]:
            if frame - prev > gap + 1:
                out.append(ReviewRange(flag, shot, first, prev, count))
                first, count = frame, 0
            prev = frame
            count += 1
        out.append(ReviewRange(flag, shot, first, prev, count))
    order = {f: i for i, f in enumerate(FLAGS)}
    return sorted(out, key=lambda r: (r.start, order.get(r.flag, len(order)), r.flag))
