"""Disclosure in every output: container tags saying what made the video, and a visible mark."""

from __future__ import annotations

import cv2
import numpy as np

from layer_desktop import __version__
from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.pipeline.spec import Disclosure
from layer_desktop.engine.swap.warp import Rect

TOOL = "Layer Desktop"
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def metadata(*, job_id: str, persona_ids: list[str], backends: list[str]) -> dict[str, str]:
    """The container tags of a transformed video (read back by `layer review` and by anyone's ffprobe)."""
    return {
        "comment": (
            f"Synthetic media: AI-generated with {TOOL} {__version__} (persona {', '.join(persona_ids)})"
        ),
        "synthetic": "true",
        "ai_generated": "true",
        "generator": f"{TOOL} {__version__}",
        "layer_job": job_id,
        "layer_persona_id": ",".join(persona_ids),
        "layer_backends": ",".join(backends),
    }


def _layout(width: int, height: int, d: Disclosure) -> tuple[Rect, float, int, tuple[int, int]]:
    scale = max(0.3, min(width, height) / 900.0)
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(d.text, _FONT, scale, thick)
    pad = max(3, round(th * 0.4))
    margin = max(4, round(min(width, height) * 0.02))
    bw, bh = tw + 2 * pad, th + base + 2 * pad
    x0 = margin if d.corner.endswith("left") else width - margin - bw
    y0 = margin if d.corner.startswith("top") else height - margin - bh
    box = Rect(max(0, x0), max(0, y0), min(width, x0 + bw), min(height, y0 + bh))
    return box, scale, thick, (x0 + pad, y0 + pad + th)


def mark_box(width: int, height: int, d: Disclosure) -> Rect:
    """Where the visible mark goes in a ``width`` x ``height`` (upright) frame."""
    return _layout(width, height, d)[0]


def draw_mark(rgb: ImageRGB, d: Disclosure) -> None:
    """Draw the visible mark (text on a darkened box) into an upright frame, in place."""
    box, scale, thick, origin = _layout(rgb.shape[1], rgb.shape[0], d)
    region = rgb[box.slices()]
    region[:] = (region.astype(np.uint16) * 2 // 5).astype(np.uint8)
    cv2.putText(rgb, d.text, origin, _FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)
