"""The swap stage: one interface (``Swapper``), backends ``landmark`` (offline default) and ``inswapper``,
and an optional enhancer post-stage."""

from __future__ import annotations

from layer_desktop.engine.swap.inswapper import InswapperSwapper, latent_from, read_emap
from layer_desktop.engine.swap.landmark import LandmarkSwapper
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.engine.swap.registry import BACKENDS, make_enhancer, make_swapper
from layer_desktop.engine.swap.types import Enhancer, PersonaFace, Swapper, SwapResult

__all__ = [
    "BACKENDS",
    "Enhancer",
    "InswapperSwapper",
    "LandmarkSwapper",
    "PersonaFace",
    "SwapOptions",
    "SwapResult",
    "Swapper",
    "latent_from",
    "make_enhancer",
    "make_swapper",
    "read_emap",
]
