"""`layer faces ...`: find faces in a picture, follow them through a video."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from layer_desktop.cli.common import out
from layer_desktop.engine.faces import (
    Face,
    FaceAnalyzer,
    FaceTracker,
    TrackerConfig,
    face_quality,
    load_image,
)
from layer_desktop.engine.media.reader import FrameReader

app = typer.Typer(help="Find faces in pictures and follow them through videos.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RangeOpt = Annotated[
    str, typer.Option("--range", help="BlazeFace model: short (portraits) or full (small faces).")
]


def _analyzer(detector_range: str) -> FaceAnalyzer:
    if detector_range not in ("short", "full"):
        raise typer.BadParameter("use 'short' or 'full'", param_hint="--range")
    return FaceAnalyzer.default(detector_range="short" if detector_range == "short" else "full")


def _box(face: Face) -> list[float]:
    return [round(v, 1) for v in face.bbox]


@app.command("detect")
def detect(
    image: Annotated[Path, typer.Argument(help="A photo (JPEG, PNG, …).")],
    json_output: JsonFlag = False,
    detector_range: RangeOpt = "short",
) -> None:
    """List the faces in a picture with their boxes, scores and quality."""
    rgb = load_image(image)
    faces = _analyzer(detector_range).detect(rgb)
    rows: list[dict[str, Any]] = []
    for i, face in enumerate(faces):
        q = face_quality(rgb, face)
        rows.append(
            {
                "index": i,
                "bbox": _box(face),
                "score": round(face.score, 4),
                "quality": round(q.score, 3),
                "reasons": list(q.reasons),
                "yaw": round(q.yaw, 1),
                "pitch": round(q.pitch, 1),
                "roll": round(q.roll, 1),
                "size_px": round(q.size_px, 1),
            }
        )
    if json_output:
        typer.echo(
            json.dumps({"image": str(image), "width": rgb.shape[1], "height": rgb.shape[0], "faces": rows})
        )
        return
    out.print(f"{image}: {len(rows)} face(s)")
    for r in rows:
        why = "; ".join(r["reasons"]) or "good"
        out.print(
            f"  #{r['index']} box={r['bbox']} score={r['score']:.2f} quality={r['quality']:.2f} ({why})"
        )


def _frames(video: Path) -> Iterator[np.ndarray]:
    """Upright RGB frames of a video, in order (the media engine's reader and its errors)."""
    with FrameReader(video) as reader:
        for _, rgb in reader.iter_upright():
            yield rgb


@app.command("track")
def track(
    video: Annotated[Path, typer.Argument(help="A video file.")],
    every: Annotated[int, typer.Option("--every", min=1, help="Run the detector every N frames.")] = 5,
    json_output: JsonFlag = False,
    detector_range: RangeOpt = "short",
) -> None:
    """Follow faces through a video and print each frame's track ids."""
    tracker = FaceTracker(_analyzer(detector_range), TrackerConfig(detect_every=every))
    frames: list[dict[str, Any]] = []
    for index, rgb in enumerate(_frames(video)):
        faces = tracker.update(rgb)
        frames.append({"frame": index, "faces": [{"track": f.track_id, "bbox": _box(f)} for f in faces]})
    stats = tracker.stats
    summary: dict[str, Any] = {
        "frames": stats.frames,
        "detector_runs": stats.detections,
        "landmark_updates": stats.landmark_updates,
        "scene_cuts": stats.scene_cuts,
        "tracks": sorted({f["track"] for fr in frames for f in fr["faces"]}),
    }
    if json_output:
        typer.echo(json.dumps({"video": str(video), "summary": summary, "frames": frames}))
        return
    for fr in frames:
        out.print(f"frame {fr['frame']:5d}: tracks {[f['track'] for f in fr['faces']]}")
    out.print(
        f"{summary['frames']} frames, {len(summary['tracks'])} track(s), "
        f"detector ran {summary['detector_runs']}x, {summary['scene_cuts']} scene cut(s)"
    )
