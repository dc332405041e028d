"""Offline text to speech (the ``system`` backend): eSpeak NG with word and phoneme timings.

With libespeak-ng present (Linux, and macOS/Windows where eSpeak NG is installed) speech comes from the
library in memory together with its word and phoneme events, each at its audio position: a word spans
from its first phoneme's start to its last phoneme's end, a phoneme until the next one (pauses are
boundaries, not phonemes). Without it, pyttsx3's platform voice (SAPI5, NSSS) is used and no timings
are available. With a persona, the speech is then moved to the persona's voice profile by the ``world``
converter, which keeps every sample position, so the timings still hold.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
from pathlib import Path

import numpy as np

from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.personas.records import Persona
from layer_desktop.engine.personas.store import PersonaStore
from layer_desktop.engine.voice.dsp import pcm_from_mono
from layer_desktop.engine.voice.espeak import EspeakEvent, EspeakResult, espeak, find_library
from layer_desktop.engine.voice.profile import profile_persona, stored_profile
from layer_desktop.engine.voice.speech import Speech, Timing
from layer_desktop.engine.voice.world import WorldSettings, convert_world
from layer_desktop.errors import InputError, VoiceBackendError

log = logging.getLogger(__name__)

HIGH_VOICE_HZ = 165.0  # personas above this median pitch start from eSpeak's female variant


class SystemSpeech:
    """eSpeak NG (or the platform voice through pyttsx3), moved to the persona's voice when one is given."""

    name = "system"

    def __init__(
        self, language: str = "en", words_per_minute: int = 175, world: WorldSettings | None = None
    ) -> None:
        self.language = language
        self.words_per_minute = words_per_minute
        self.world = world or WorldSettings()

    def synthesize(self, text: str, persona: Persona | None, store: PersonaStore) -> Speech:
        if not text.strip():
            raise InputError("There is no text to speak.")
        profile = None
        if persona is not None:
            profile = stored_profile(store, persona.id) or profile_persona(store, persona.id)
        high = profile is not None and profile.f0_median_hz > HIGH_VOICE_HZ
        if find_library() is not None:
            voice = f"{self.language}+f3" if high else self.language
            speech = speech_from_espeak(espeak().synthesize(text, voice, self.words_per_minute), text)
        else:
            speech = Speech(_pyttsx3_pcm(text), (), (), self.name)
        if profile is not None:
            speech = Speech(
                convert_world(speech.pcm, profile, self.world), speech.words, speech.phonemes, self.name
            )
        return speech


def speech_from_espeak(result: EspeakResult, text: str) -> Speech:
    """PCM and word/phoneme timings from eSpeak NG's output and events."""
    duration = result.samples.size / result.rate
    events = [e for e in result.events if e.kind in ("word", "phoneme")]
    ends = [*[e.audio_s for e in events if e.kind == "phoneme"][1:], duration]
    phonemes: list[Timing] = []
    words: list[Timing] = []
    word: EspeakEvent | None = None
    spans: list[Timing] = []  # the current word's phonemes
    phoneme_events = iter(ends)
    for e in events:
        if e.kind == "word":
            _close_word(words, word, spans, text)
            word, spans = e, []
            continue
        end = next(phoneme_events)
        if e.phoneme.startswith("_"):  # a pause: ends the word before it
            _close_word(words, word, spans, text)
            word, spans = None, []
            continue
        timing = Timing(e.phoneme, e.audio_s, min(end, duration))
        phonemes.append(timing)
        spans.append(timing)
    _close_word(words, word, spans, text)
    samples = result.samples.astype(np.float64) / 32768.0
    return Speech(pcm_from_mono(samples, result.rate), tuple(words), tuple(phonemes), "system")


def _close_word(words: list[Timing], word: EspeakEvent | None, spans: list[Timing], text: str) -> None:
    if word is None or not spans:
        return
    start = max(0, word.text_position - 1)
    label = text[start : start + word.length] or "?"
    words.append(Timing(label, spans[0].start_s, spans[-1].end_s))


def _pyttsx3_pcm(text: str) -> Pcm:
    """The platform voice through pyttsx3 (no timings); raises ``VoiceBackendError`` when it fails."""
    try:
        pyttsx3 = importlib.import_module("pyttsx3")
        engine = pyttsx3.init()
        with tempfile.TemporaryDirectory(prefix="layer-tts-") as tmp:
            path = Path(tmp) / "speech.wav"
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            return extract_audio(path, 22_050)
    except (ImportError, RuntimeError, OSError) as exc:
        raise VoiceBackendError(
            f"No system voice is available ({type(exc).__name__}: {exc}).",
            hint="Install eSpeak NG (https://github.com/espeak-ng/espeak-ng), or use the ElevenLabs backend.",
        ) from exc
