"""A small ctypes binding to libespeak-ng: synthesis to memory with word and phoneme events.

Why not pyttsx3 here: its espeak driver only reports a word's *text* position, prints to stdout, and
writes files at a hard-coded rate. libespeak-ng itself reports every word and phoneme with its audio
position, which is what lip-sync needs. The library keeps process-wide state and may be initialised
only once, so one ``Espeak`` object is shared (``espeak()``) and synthesis is serialised by a lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
import threading
from dataclasses import dataclass

import numpy as np

from layer_desktop.errors import VoiceBackendError

log = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_POS_CHARACTER = 1
_RATE = 1
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_END, _EVENT_PHONEME = 0, 1, 5, 7
_CANDIDATES = {
    "linux": ("libespeak-ng.so.1", "libespeak-ng.so"),
    "darwin": ("/opt/homebrew/lib/libespeak-ng.1.dylib", "/usr/local/lib/libespeak-ng.1.dylib"),
    "win32": (r"C:\Program Files\eSpeak NG\libespeak-ng.dll",),
}


class _Id(ctypes.Union):
    _fields_ = (("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8))


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    )


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class EspeakEvent:
    kind: str  # "word" | "phoneme" | "end"
    audio_s: float
    text_position: int  # 1-based character index into the text (words)
    length: int  # characters (words)
    phoneme: str


@dataclass(frozen=True)
class EspeakResult:
    samples: np.ndarray  # int16, mono
    rate: int
    events: tuple[EspeakEvent, ...]


def find_library() -> str | None:
    """The path or soname of libespeak-ng that loads here, or None."""
    names = [*_CANDIDATES.get(sys.platform, ()), ctypes.util.find_library("espeak-ng") or ""]
    for name in filter(None, names):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return name
    return None


class Espeak:
    """libespeak-ng initialised for synchronous synthesis with phoneme events."""

    def __init__(self, library: str) -> None:
        self._lib = ctypes.CDLL(library)
        self._lock = threading.Lock()
        self._samples: list[bytes] = []
        self._events: list[EspeakEvent] = []
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        self.rate = int(
            self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS)
        )
        if self.rate <= 0:
            raise VoiceBackendError("eSpeak NG could not be initialised (its voice data may be missing).")
        self._callback = _CALLBACK(self._on_synth)  # kept referenced: the library calls it later
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lib.espeak_Synth.argtypes = (
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        )  # fmt: skip
        self._lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        self._lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)

    def _on_synth(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0:
            self._samples.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            kind = {_EVENT_WORD: "word", _EVENT_PHONEME: "phoneme", _EVENT_END: "end"}.get(e.type)
            if kind is not None:
                phoneme = e.id.string.decode("utf-8", "replace") if e.type == _EVENT_PHONEME else ""
                self._events.append(
                    EspeakEvent(kind, e.audio_position / 1000.0, e.text_position, e.length, phoneme)
                )
            i += 1
        return 0

    def synthesize(self, text: str, voice: str = "en", words_per_minute: int = 175) -> EspeakResult:
        """Speak ``text`` into memory; raises ``VoiceBackendError`` when eSpeak NG refuses."""
        data = text.encode("utf-8")
        with self._lock:
            self._samples, self._events = [], []
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise VoiceBackendError(
                    f"eSpeak NG has no voice {voice!r}.", hint="Run `espeak-ng --voices`."
                )
            self._lib.espeak_SetParameter(_RATE, words_per_minute, 0)
            flags = _CHARS_UTF8 | _ENDPAUSE
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            if status != 0:
                raise VoiceBackendError(f"eSpeak NG could not speak the text (error {status}).")
            self._lib.espeak_Synchronize()
            samples = np.frombuffer(b"".join(self._samples), dtype="<i2").copy()
            return EspeakResult(samples, self.rate, tuple(self._events))


@functools.cache
def espeak() -> Espeak:
    """The process's one eSpeak NG instance (the library cannot be initialised twice).

    Raises ``VoiceBackendError`` when libespeak-ng is not installed.
    """
    library = find_library()
    if library is None:
        raise VoiceBackendError(
            "eSpeak NG (libespeak-ng) is not installed, so system speech is not available.",
            hint="Install espeak-ng (Debian/Ubuntu: sudo apt install espeak-ng), "
            "or use the ElevenLabs backend.",
        )
    log.info("system speech: eSpeak NG from %s", library)
    return Espeak(library)
