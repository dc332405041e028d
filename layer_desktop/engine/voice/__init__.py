"""Voice: profiles from a persona's samples, voice conversion, loudness, and text to speech.

Public API (everything a job or the CLI needs)::

    build_profile(samples: Sequence[Pcm], names=None) -> VoiceProfile
    check_sample(pcm: Pcm, name="sample", index=0) -> SampleReport       # flags with reasons
    profile_persona(store: PersonaStore, persona_id: str) -> VoiceProfile  # also stored as "world"
    convert_voice(pcm, persona_id, *, backend="world" | "elevenlabs", store=None, secrets=None,
                  progress=None, cancel=None, converter=None) -> Pcm      # same samples/rate/channels
    measure_loudness(pcm) -> float                                        # integrated LUFS (BS.1770)
    normalise_loudness(pcm, target_lufs=-16.0, true_peak_dbfs=-1.0) -> Pcm  # same length
    synthesize(text, persona_id | None, *, backend="system" | "elevenlabs", store=None, secrets=None,
               speaker=None) -> Speech                                    # pcm + word/phoneme timings

Backends: ``world`` (offline WORLD vocoder: f0 and formants moved to the persona's profile; see
``world``), ``elevenlabs`` (instant voice clone + speech-to-speech / text-to-speech; API key from the
keyring only; see ``elevenlabs`` and ``eleven_client``), ``system`` speech (eSpeak NG; see ``tts``).
``progress(done, total)`` counts samples; ``cancel`` is a ``threading.Event`` (``VoiceCancelled``).
Errors are ``VoiceError`` subclasses from ``layer_desktop.errors`` (``NoVoiceSamplesError``,
``VoiceAuthError``, ``VoiceQuotaError``, ``VoiceVerificationError``, ``VoiceBusyError``, …).
"""

from __future__ import annotations

from layer_desktop.engine.voice.backends import (
    SPEECH_BACKENDS,
    VOICE_BACKENDS,
    SpeechBackend,
    SpeechBackendName,
    VoiceBackendName,
    VoiceConverter,
    WorldConverter,
    convert_voice,
    make_converter,
    make_speech_backend,
    synthesize,
)
from layer_desktop.engine.voice.eleven_client import API_KEY_NAME, ElevenLabsAccount, ElevenLabsSettings
from layer_desktop.engine.voice.elevenlabs import ElevenLabsConverter, ElevenLabsSpeech, ensure_voice
from layer_desktop.engine.voice.loudness import measure_loudness, normalise_loudness, true_peak_dbfs
from layer_desktop.engine.voice.profile import (
    SampleIssue,
    SampleReport,
    VoiceProfile,
    build_profile,
    check_sample,
    profile_persona,
    stored_profile,
)
from layer_desktop.engine.voice.speech import Speech, Timing
from layer_desktop.engine.voice.tts import SystemSpeech
from layer_desktop.engine.voice.world import WorldSettings, convert_world, plan_conversion

__all__ = [
    "API_KEY_NAME",
    "SPEECH_BACKENDS",
    "VOICE_BACKENDS",
    "ElevenLabsAccount",
    "ElevenLabsConverter",
    "ElevenLabsSettings",
    "ElevenLabsSpeech",
    "SampleIssue",
    "SampleReport",
    "Speech",
    "SpeechBackend",
    "SpeechBackendName",
    "SystemSpeech",
    "Timing",
    "VoiceBackendName",
    "VoiceConverter",
    "VoiceProfile",
    "WorldConverter",
    "WorldSettings",
    "build_profile",
    "check_sample",
    "convert_voice",
    "convert_world",
    "ensure_voice",
    "make_converter",
    "make_speech_backend",
    "measure_loudness",
    "normalise_loudness",
    "plan_conversion",
    "profile_persona",
    "stored_profile",
    "synthesize",
    "true_peak_dbfs",
]
