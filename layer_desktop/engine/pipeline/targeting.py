"""Whom to swap: one person, found again in every shot by appearance.

Every choice starts from one person and follows them through the clip shot by shot:

    auto           the main subject: the track with the most screen presence (face area × frames)
    track:N        that track
    X,Y@FRAME      the face under the point
    like:PHOTO     nobody at first: the reference photo's face

In each shot the track most similar to that person (``faces.signature``) is taken when it is similar
enough, together with any later pieces of it in that shot; a shot that does not show them is left
alone. Bystanders, the faces that are not the main subject, are known too, so review can flag a swap
on one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces import select_by_point
from layer_desktop.engine.faces.signature import (
    face_signature,
    geometry_weight,
    mean_signature,
    similarity,
)
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.pipeline.shots import Shot, shot_of_frames
from layer_desktop.errors import FrameOutOfRangeError, NoFaceError

log = logging.getLogger(__name__)

SAME_PERSON = 0.4  # signature similarity; the same person across shots 0.44+, others under 0.35
RELIABLE_WIDTH = 48.0  # px: smaller faces' proportions are too coarse to find others by
FrameFaces = list[list[Face]]


@dataclass
class TrackInfo:
    """One track: its shot, its frames, its summed face area and its mean signature."""

    track_id: int
    shot: int
    frames: list[int] = field(default_factory=list)
    area: float = 0.0
    signatures: list[NDArray[np.float32]] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)

    @property
    def median_width(self) -> float:
        return float(np.median(self.widths)) if self.widths else 0.0

    @property
    def signature(self) -> NDArray[np.float32] | None:
        return mean_signature(self.signatures) if self.signatures else None


@dataclass(frozen=True)
class Targets:
    """The tracks to swap, the main subject's tracks, and each chosen track's similarity to the person."""

    tracks: frozenset[int]
    main: frozenset[int]
    similarity: dict[int, float]


def track_infos(frames: FrameFaces, shots: list[Shot]) -> dict[int, TrackInfo]:
    """Every track of the analysis, summarised (signatures of every 3rd frame are enough)."""
    shot = shot_of_frames(shots, len(frames))
    infos: dict[int, TrackInfo] = {}
    for i, faces in enumerate(frames):
        for f in faces:
            if f.track_id is None:
                continue
            info = infos.setdefault(f.track_id, TrackInfo(f.track_id, int(shot[i])))
            info.frames.append(i)
            info.area += f.area
            info.widths.append(f.width)
            if f.signature is not None and len(info.frames) % 3 == 1:
                info.signatures.append(f.signature)
    return infos


def follow(
    reference: NDArray[np.float32] | None,
    infos: dict[int, TrackInfo],
    *,
    seed: int | None = None,
    threshold: float = SAME_PERSON,
) -> dict[int, float]:
    """The tracks of the person ``reference`` describes (and ``seed``'s, when given), with similarities.

    Per shot, the most similar tracks that are at least ``threshold`` similar and never share a frame.
    A track taken with a face big enough to trust its signature joins the references, so the person is
    found again from the views nearest each shot's (a wide shot's small face looks more like the medium
    shot than like the close-up).
    """
    chosen: dict[int, float] = {}
    refs = [reference] if reference is not None else []
    taken: dict[int, set[int]] = {}

    def take(info: TrackInfo, score: float) -> None:
        chosen[info.track_id] = score
        taken.setdefault(info.shot, set()).update(info.frames)
        sig = info.signature
        if sig is not None and info.median_width >= RELIABLE_WIDTH:
            refs.append(sig)

    if seed is not None:
        take(infos[seed], 1.0)
    while True:
        scored = []
        for info in infos.values():
            sig = info.signature
            if info.track_id in chosen or sig is None or not refs:
                continue
            if taken.get(info.shot, set()) & set(info.frames):
                continue
            weight = geometry_weight(info.median_width)
            scored.append((max(similarity(r, sig, weight) for r in refs), info))
        best = max(scored, key=lambda p: p[0], default=None)
        if best is None or best[0] < threshold:
            return chosen
        take(best[1], best[0])


def main_subject(infos: dict[int, TrackInfo]) -> dict[int, float]:
    """The main subject's tracks: the track with the most face area over time, and the same person in
    every other shot."""
    if not infos:
        return {}
    seed = max(infos.values(), key=lambda t: t.area)
    return follow(seed.signature, infos, seed=seed.track_id)


def reference_signature(photo: Path) -> NDArray[np.float32]:
    """The signature of the single (largest) face in a reference photo.

    Raises ``ImageError`` subclasses for an unreadable photo and ``NoFaceError`` when it shows no face.
    """
    from layer_desktop.engine.faces import FaceAnalyzer
    from layer_desktop.engine.faces.image_io import load_image

    rgb = load_image(photo)
    faces = FaceAnalyzer.default(detector_range="full").detect(rgb)
    if not faces:
        raise NoFaceError(f"No face was found in the reference photo {photo}.", path=photo)
    return face_signature(rgb, faces[0])


def _seed_track(kind: str, args: tuple[float, ...], frames: FrameFaces, infos: dict[int, TrackInfo]) -> int:
    if kind == "track":
        wanted = int(args[0])
        if wanted not in infos:
            raise NoFaceError(
                f"There is no face track {wanted}; tracks found: {', '.join(str(t) for t in sorted(infos))}.",
                hint="Run `layer faces track` on the video to see its tracks.",
            )
        return wanted
    x, y, frame = args
    index = int(frame)
    if index >= len(frames):  # checked when the job starts; a plan made elsewhere checks it too
        raise FrameOutOfRangeError(f"The face point names frame {index}; the video has {len(frames)}.")
    hit = select_by_point(frames[index], x, y)
    if hit is None or hit.track_id is None:
        raise NoFaceError(f"No face is under the point {x:g},{y:g} in frame {index}.")
    return hit.track_id


def _other_person(
    reference: NDArray[np.float32] | None,
    seed: int | None,
    infos: dict[int, TrackInfo],
    main: dict[int, float],
) -> dict[int, float]:
    """The tracks of a person given by a reference or a seed track: the main subject's tracks when the
    reference is the main subject, else the most similar among the other tracks (a face too small to
    tell apart is not taken from the main subject by a look-alike)."""
    if reference is not None and seed is None and main:
        top = max(main, key=lambda t: infos[t].area)
        sig = infos[top].signature
        if sig is not None and similarity(reference, sig) >= SAME_PERSON:
            return main
    others = {t: info for t, info in infos.items() if t not in main}
    return follow(reference, others, seed=seed)


def choose_targets(
    kind: str, args: tuple[float, ...], frames: FrameFaces, shots: list[Shot], reference: Path | None = None
) -> Targets:
    """The tracks to swap for a parsed face choice (``spec.parse_face``), shot by shot.

    Raises ``NoFaceError`` when the video has no face, the track or point names none, or the reference
    photo shows none.
    """
    infos = track_infos(frames, shots)
    if not infos:
        raise NoFaceError(
            "No face was found anywhere in the video.", hint="Choose a video that shows a face."
        )
    main = main_subject(infos)
    if kind == "auto":
        chosen = main
    elif kind == "like":
        assert reference is not None
        chosen = _other_person(reference_signature(reference), None, infos, main)
    else:
        seed = _seed_track(kind, args, frames, infos)
        chosen = main if seed in main else _other_person(infos[seed].signature, seed, infos, main)
    log.info("targets (%s): tracks %s; main subject: tracks %s", kind, sorted(chosen), sorted(main))
    return Targets(frozenset(chosen), frozenset(main), chosen)
