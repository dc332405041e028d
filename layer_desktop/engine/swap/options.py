"""Swap options as one typed, JSON-serializable spec (the UI turns it into a form; `--set k=v` edits it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SwapBackendName = Literal["landmark", "inswapper"]
EnhancerName = Literal["none", "gfpgan"]
# what finds things in front of the face: "skin" is the offline colour/shading check; a model id adds
# that model (XSeg-class ONNX from the model store) to it
OcclusionName = Literal["none", "skin", "xseg", "occluder"]
PixelBoost = Literal[1, 2, 4]


class SwapOptions(BaseModel):
    """How a face is swapped and blended. Sizes are fractions of the face size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: SwapBackendName = "landmark"
    feather: float = Field(default=0.08, ge=0.0, le=0.5)
    inset: float = Field(default=0.02, ge=0.0, le=0.3)
    keep_eyes: bool = True
    keep_mouth: bool = True
    colour_transfer: bool = True
    match_detail: bool = True  # soften a sharp photo to the video's level of detail (less shimmer)
    # temporal smoothing of the target landmarks: Gaussian sigma in frames, centred (no lag); 0 = off.
    # 2 frames: the 720p bench flickers 1.21x the source (1.5: 1.32x), the mouth still follows speech
    smoothing: float = Field(default=2.0, ge=0.0, le=10.0)
    pixel_boost: PixelBoost = 1  # inswapper: 2 or 4 runs 2x2 / 4x4 shifted passes for large faces
    enhancer: EnhancerName = "none"
    enhancer_blend: float = Field(default=0.8, ge=0.0, le=1.0)
    # lighting: the target's low frequencies (light, shadows, light colour) under the persona's detail;
    # light_scale is the split (Gaussian sigma) as a fraction of the face size; off = Reinhard colour match
    relight: bool = True
    light_scale: float = Field(default=0.08, ge=0.02, le=0.5)
    skin_tone: float = Field(default=0.3, ge=0.0, le=1.0)  # how much of the persona's skin tone comes over
    occlusion: OcclusionName = "skin"
