"""Phonemes → Rhubarb-style mouth shapes → per-frame mouth parameters.

Shapes (Rhubarb Lip Sync): A closed (M, B, P), B slightly open with teeth, C open, D wide open,
E rounded, F puckered, G F/V (teeth on the lip), H L (tongue), X rest. Timing rules: a shape lasts
at least 70 ms; pauses under 120 ms keep the shape before them, pauses up to 350 ms relax the mouth,
longer ones go to rest; a P/B/M closure starts 40–120 ms before its sound. Frames average the shapes
over their interval, so short shapes still show and transitions are not stepped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.voice.speech import Timing

MIN_SHAPE_S = 0.07
KEEP_PAUSE_S = 0.12
RELAX_PAUSE_S = 0.35
CLOSURE_LEAD_S = (0.04, 0.12)
SHAPES = "ABCDEFGHX"
RELAXED = "R"  # a pause of 120–350 ms: lips loosely together

# (open, width, pucker): open 0 closed .. 1 wide open; width -1 narrow .. +1 wide; pucker 0 .. 1
PARAMS: dict[str, tuple[float, float, float]] = {
    "A": (0.0, 0.0, 0.0),
    "B": (0.22, 0.15, 0.0),
    "C": (0.65, 0.1, 0.0),
    "D": (0.95, 0.2, 0.0),
    "E": (0.45, -0.2, 0.35),
    "F": (0.18, -0.5, 0.9),
    "G": (0.1, 0.05, 0.0),
    "H": (0.4, 0.0, 0.0),
    "X": (0.0, 0.0, 0.0),
    RELAXED: (0.05, 0.0, 0.0),
}

_ARPABET = {
    "aa": "D", "ae": "C", "ah": "C", "ao": "E", "aw": "D", "ay": "D", "eh": "C", "er": "E", "ey": "C",
    "ih": "B", "iy": "B", "ow": "E", "oy": "E", "uh": "F", "uw": "F", "ax": "C", "axr": "E", "ix": "B",
    "b": "A", "m": "A", "p": "A", "em": "A", "f": "G", "v": "G", "l": "H", "el": "H", "w": "F", "r": "E",
    "sil": "X", "pau": "X", "sp": "X", "spn": "X", "nsn": "X", "ssil": "X",
}  # fmt: skip
# eSpeak NG's English phoneme names, by their first character (after the stress marks)
_ESPEAK_FIRST = {
    "a": "D", "A": "D", "e": "C", "E": "C", "i": "B", "I": "B", "o": "E", "O": "E", "u": "F", "U": "F",
    "@": "C", "3": "E", "V": "C", "0": "E", "p": "A", "b": "A", "m": "A", "f": "G", "v": "G", "l": "H",
    "w": "F", "r": "E",
}  # fmt: skip


@dataclass(frozen=True)
class Shape:
    shape: str
    start_s: float
    end_s: float

    @property
    def length(self) -> float:
        return self.end_s - self.start_s


def viseme_of(phoneme: str) -> str:
    """The mouth shape of an ARPAbet (any case) or eSpeak NG phoneme; other consonants are B."""
    text = phoneme.strip()
    key = text.lower().rstrip("012")
    if key in _ARPABET:
        return _ARPABET[key]
    if not text or text.startswith("_"):
        return "X"
    body = text.lstrip("'ˈˌ,%=")
    return _ESPEAK_FIRST.get(body[:1], "B")


def _merge(shapes: list[Shape]) -> list[Shape]:
    out: list[Shape] = []
    for s in shapes:
        if s.length <= 0:
            continue
        if out and out[-1].shape == s.shape and abs(out[-1].end_s - s.start_s) < 1e-6:
            out[-1] = Shape(s.shape, out[-1].start_s, s.end_s)
        else:
            out.append(s)
    return out


def _fill_gaps(phones: Sequence[Timing], duration: float) -> list[Shape]:
    """Shapes for the phones with rest (X) in every gap, covering 0 .. duration."""
    shapes: list[Shape] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start_s):
        start, end = max(p.start_s, t), min(p.end_s, duration)
        if start > t:
            shapes.append(Shape("X", t, start))
        if end > start:
            shapes.append(Shape(viseme_of(p.text), start, end))
            t = end
    if duration > t:
        shapes.append(Shape("X", t, duration))
    return _merge(shapes)


def _pauses(shapes: list[Shape]) -> list[Shape]:
    """Short pauses keep the shape before them; medium ones relax; long ones (and the ends) rest."""
    out = []
    for i, s in enumerate(shapes):
        inner = 0 < i < len(shapes) - 1
        if s.shape == "X" and inner and s.length < KEEP_PAUSE_S:
            s = Shape(shapes[i - 1].shape, s.start_s, s.end_s)
        elif s.shape == "X" and inner and s.length <= RELAX_PAUSE_S:
            s = Shape(RELAXED, s.start_s, s.end_s)
        out.append(s)
    return _merge(out)


def _closure_leads(shapes: list[Shape]) -> list[Shape]:
    """Each closure (A) starts 40–120 ms early, taken from the shape before it (kept ≥ 70 ms)."""
    out = list(shapes)
    for i in range(1, len(out)):
        if out[i].shape != "A":
            continue
        prev = out[i - 1]
        room = prev.length if prev.shape in ("X", RELAXED) else prev.length - MIN_SHAPE_S
        lead = float(np.clip(room, CLOSURE_LEAD_S[0], CLOSURE_LEAD_S[1]))
        lead = min(lead, prev.length)
        out[i - 1] = Shape(prev.shape, prev.start_s, prev.end_s - lead)
        out[i] = Shape("A", out[i].start_s - lead, out[i].end_s)
    return _merge(out)


def _min_length(shapes: list[Shape]) -> list[Shape]:
    """Shapes under 70 ms are stretched into the longer neighbour's time (never below 70 ms there)."""
    out = list(shapes)
    for i, s in enumerate(out):
        need = MIN_SHAPE_S - s.length
        if need <= 0 or s.shape == "X":
            continue
        for j in (i + 1, i - 1):
            if 0 <= j < len(out) and need > 0:
                n = out[j]
                take = min(need, max(0.0, n.length - MIN_SHAPE_S))
                if take <= 0:
                    continue
                if j > i:
                    out[j] = Shape(n.shape, n.start_s + take, n.end_s)
                    out[i] = Shape(s.shape, out[i].start_s, out[i].end_s + take)
                else:
                    out[j] = Shape(n.shape, n.start_s, n.end_s - take)
                    out[i] = Shape(s.shape, out[i].start_s - take, out[i].end_s)
                need -= take
    return _merge(out)


def shapes_from_phones(phones: Sequence[Timing], duration: float) -> list[Shape]:
    """The timed mouth shapes for ``phones`` over ``duration`` seconds (gaps are rest)."""
    return _min_length(_closure_leads(_pauses(_fill_gaps(phones, duration))))


def frame_params(shapes: Sequence[Shape], fps: float, frames: int) -> NDArray[np.float32]:
    """(frames, 3) open/width/pucker: each frame the time-average of the shapes over its interval."""
    out = np.zeros((frames, 3), np.float32)
    for s in shapes:
        p = np.array(PARAMS[s.shape], np.float32)
        first = max(0, int(np.floor(s.start_s * fps)))
        last = min(frames - 1, int(np.ceil(s.end_s * fps)))
        for n in range(first, last + 1):
            overlap = min(s.end_s, (n + 1) / fps) - max(s.start_s, n / fps)
            if overlap > 0:
                out[n] += p * float(overlap * fps)
    return out


def params_from_loudness(loudness: NDArray[np.float64]) -> NDArray[np.float32]:
    """(frames, 3) from per-frame log-RMS alone (any language, no phonemes): louder is more open,
    quiet frames (25 dB under the loudest) closed; no closures can be told apart here."""
    if loudness.size == 0:
        return np.zeros((0, 3), np.float32)
    top = float(np.percentile(loudness, 95))
    floor = top - np.log(10.0 ** (25 / 20))
    level = np.clip((loudness - floor) / max(top - floor, 1e-6), 0.0, 1.0)
    out = np.zeros((loudness.size, 3), np.float32)
    out[:, 0] = (level**1.5) * 0.8
    out[:, 1] = level * 0.1
    return out
