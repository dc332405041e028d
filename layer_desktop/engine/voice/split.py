"""Long audio in pieces for a cloud service, and the converted pieces joined back frame-exact.

* ``plan_pieces``: contiguous spans cut at the latest of the quietest 200 ms stretches (within 3 dB)
  in the back half of each allowed length, so cuts fall into pauses; each piece is sent with
  ``overlap_s`` of context at its inner ends and the sent span never passes ``max_piece_s``.
* ``align``: a service may add latency or padding, so each converted piece is shifted to the lag
  (±0.5 s, 5 ms steps) where its energy envelope best matches the original's, then cut or padded to
  the sent length.
* ``join``: pieces are laid back at their original positions with a 20 ms raised-cosine crossfade
  centred on each cut (inside the overlap); the result has exactly the original sample count.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from layer_desktop.engine.voice.dsp import F64, fit_length, frame_db

MAX_PIECE_S = 300.0
OVERLAP_S = 0.25
CROSSFADE_S = 0.02
_HOP_MS = 5.0
_QUIET_S = 0.2
_NEAR_QUIETEST_DB = 3.0


@dataclass(frozen=True)
class Piece:
    """``start:stop`` is the span the piece fills in the output; ``send_start:send_stop`` what is sent."""

    start: int
    stop: int
    send_start: int
    send_stop: int


def plan_pieces(
    x: F64, rate: int, max_piece_s: float = MAX_PIECE_S, overlap_s: float = OVERLAP_S
) -> list[Piece]:
    """Cut ``x`` into pieces whose sent span is at most ``max_piece_s`` seconds, at pauses."""
    n = x.size
    overlap = round(overlap_s * rate)
    limit = int(max_piece_s * rate) - 2 * overlap
    if limit <= rate:
        raise ValueError("max_piece_s must leave more than 1 s after the overlaps")
    hop = rate * _HOP_MS / 1000.0
    frames = int(n / hop) + 1
    level = uniform_filter1d(frame_db(x, rate, frames, _HOP_MS), max(1, round(_QUIET_S * 1000 / _HOP_MS)))
    cuts = [0]
    while n - cuts[-1] > limit:
        lo = cuts[-1] + limit // 2
        hi = cuts[-1] + limit - overlap  # the next piece's leading overlap must fit too
        f_lo, f_hi = int(np.ceil(lo / hop)), int(hi / hop)
        window = level[f_lo : f_hi + 1]
        best = f_lo + int(
            np.flatnonzero(window <= window.min() + _NEAR_QUIETEST_DB)[-1]
        )  # latest: fewer pieces
        cuts.append(min(hi, max(lo, round(best * hop))))
    cuts.append(n)
    return [Piece(a, b, max(0, a - overlap), min(n, b + overlap)) for a, b in itertools.pairwise(cuts)]


def _envelope(x: F64, rate: int) -> F64:
    hop = max(1, round(rate * _HOP_MS / 1000.0))
    usable = x[: x.size - x.size % hop].reshape(-1, hop)
    return np.asarray(np.sqrt((usable**2).mean(axis=1)), dtype=np.float64)


def align(reference: F64, converted: F64, rate: int, max_lag_s: float = 0.5) -> F64:
    """``converted`` shifted in time to line up with ``reference`` and fit to its exact length."""
    hop = max(1, round(rate * _HOP_MS / 1000.0))
    ref, conv = _envelope(reference, rate), _envelope(converted, rate)
    max_lag = round(max_lag_s * 1000 / _HOP_MS)
    if ref.size < 4 or conv.size < 4 or float(ref.std()) == 0.0 or float(conv.std()) == 0.0:
        return fit_length(converted, reference.size)
    ref = ref - ref.mean()
    conv = conv - conv.mean()
    best_lag, best = 0, -np.inf
    for lag in range(-max_lag, max_lag + 1):
        a = ref[max(0, -lag) :]
        b = conv[max(0, lag) :]
        m = min(a.size, b.size)
        if m < ref.size // 2:
            continue
        score = float(np.dot(a[:m], b[:m])) / m
        if score > best:
            best_lag, best = lag, score
    shift = best_lag * hop
    shifted = converted[shift:] if shift >= 0 else np.concatenate([np.zeros(-shift), converted])
    return fit_length(np.asarray(shifted, dtype=np.float64), reference.size)


def join(
    pieces: list[Piece], converted: list[F64], n: int, rate: int, crossfade_s: float = CROSSFADE_S
) -> F64:
    """Converted pieces (each as long as its sent span) laid back into one signal of ``n`` samples."""
    out = np.zeros(n)
    half = round(crossfade_s * rate / 2)
    for i, (piece, y) in enumerate(zip(pieces, converted, strict=True)):
        if y.size != piece.send_stop - piece.send_start:
            raise ValueError("a converted piece does not match the length that was sent")
        first = i == 0
        last = i == len(pieces) - 1
        a = piece.start if first else max(piece.send_start, piece.start - half)
        b = piece.stop if last else min(piece.send_stop, piece.stop + half)
        w = np.ones(b - a)
        if not first:
            w[: piece.start + half - a] = _ramp(piece.start + half - a)
        if not last:
            w[piece.stop - half - a :] = _ramp(b - (piece.stop - half))[::-1]
        out[a:b] += w * y[a - piece.send_start : b - piece.send_start]
    return out


def _ramp(width: int) -> F64:
    if width <= 0:
        return np.zeros(0)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * (np.arange(width) + 0.5) / width), dtype=np.float64)
