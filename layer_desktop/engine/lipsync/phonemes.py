"""Phoneme timings for the mouth backend, from whatever the audio comes with.

- eSpeak NG events, when we synthesised the speech (``Speech.phonemes``);
- a forced alignment of a transcript by pocketsphinx (its wheel ships an English acoustic model,
  dictionary and phone model; BSD), when a transcript is given;
- a phone-level label file (HTS full-context or ``start end phone`` lines, times in 100 ns units or
  seconds), e.g. from a studio's aligner;
- none: the mouth then follows the loudness alone (see ``visemes.params_from_loudness``).
"""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.voice.speech import Timing
from layer_desktop.errors import InputError

log = logging.getLogger(__name__)

ALIGN_RATE = 16_000
_FRAME_S = 0.01  # pocketsphinx frames
_HTS_PHONE = re.compile(r"-([^+]+)\+")


class AlignmentError(InputError):
    """The transcript could not be aligned to the audio."""


def read_labels(path: str | Path) -> tuple[Timing, ...]:
    """Phones from a label file: ``start end label`` per line; HTS units (100 ns) when the times are
    whole numbers above 1000, else seconds. Raises ``InputError`` for an unreadable file."""
    p = Path(path)
    try:
        lines = [ln.split(maxsplit=2) for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        rows = [(float(a), float(b), label) for a, b, label in lines]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"{p} is not a phone label file ({exc}).", hint="Each line: START END PHONE.", path=p
        ) from exc
    scale = 1e-7 if rows and max(r[1] for r in rows) > 1000 else 1.0
    phones = []
    for start, end, label in rows:
        m = _HTS_PHONE.search(label)
        phones.append(Timing(m.group(1) if m else label.strip(), start * scale, end * scale))
    return tuple(phones)


def _decoder() -> Any:
    try:
        decoder_class = importlib.import_module("pocketsphinx").Decoder
    except ImportError:
        raise AlignmentError(
            "Aligning a transcript needs pocketsphinx, which is not installed.",
            hint="pip install 'layer-desktop[align]' (or pip install pocketsphinx).",
        ) from None
    return decoder_class(samprate=ALIGN_RATE, bestpath=False, loglevel="FATAL")


def align_transcript(samples: NDArray[np.floating], transcript: str) -> tuple[Timing, ...]:
    """Phone timings of ``transcript`` in 16 kHz mono ``samples`` (pocketsphinx forced alignment,
    English). Raises ``AlignmentError`` when pocketsphinx is missing or the words cannot be aligned."""
    words = re.sub(r"[^a-z' ]+", " ", transcript.lower()).split()
    if not words:
        raise InputError("The transcript has no words to align.")
    data = (np.clip(np.asarray(samples, np.float64), -1.0, 1.0) * 32767).astype("<i2").tobytes()
    decoder = _decoder()
    try:
        decoder.set_align_text(" ".join(words))
        for setup in (None, "alignment"):
            if setup:
                decoder.set_alignment()
            decoder.start_utt()
            decoder.process_raw(data, full_utt=True)
            decoder.end_utt()
        alignment = decoder.get_alignment()
        phones = [
            Timing(p.name, p.start * _FRAME_S, (p.start + p.duration) * _FRAME_S)
            for w in alignment
            for p in w
        ]
    except (RuntimeError, ValueError, KeyError) as exc:
        raise AlignmentError(
            f"The transcript could not be aligned to the audio ({exc}).",
            hint="Check that the transcript is what is said, in English, and that every word is spelt out.",
        ) from exc
    if not phones:
        raise AlignmentError("The transcript could not be aligned to the audio.")
    log.info("aligned %d words, %d phones", len(words), len(phones))
    return tuple(phones)
