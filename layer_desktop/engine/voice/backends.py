"""The two entry points, ``convert_voice`` and ``synthesize``, and the backends behind them.

Every converter has ``name`` and ``convert(pcm, persona, store, progress=, cancel=) -> Pcm`` (same sample
count, rate and channels); every speech backend has ``name`` and ``synthesize(text, persona, store) ->
Speech``. Names are ``Literal`` types so a UI can list them (``typing.get_args``).
"""

from __future__ import annotations

import logging
import threading
from typing import Literal, Protocol, get_args

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.personas.records import Persona
from layer_desktop.engine.personas.store import PersonaStore
from layer_desktop.engine.voice.eleven_client import ElevenLabsAccount, SecretSource
from layer_desktop.engine.voice.elevenlabs import ElevenLabsConverter, ElevenLabsSpeech
from layer_desktop.engine.voice.profile import profile_persona, stored_profile
from layer_desktop.engine.voice.speech import Speech
from layer_desktop.engine.voice.tts import SystemSpeech
from layer_desktop.engine.voice.world import Progress, WorldSettings, convert_world
from layer_desktop.errors import EngineError, InputError

log = logging.getLogger(__name__)

VoiceBackendName = Literal["world", "elevenlabs"]
SpeechBackendName = Literal["system", "elevenlabs"]
VOICE_BACKENDS: tuple[str, ...] = get_args(VoiceBackendName)
SPEECH_BACKENDS: tuple[str, ...] = get_args(SpeechBackendName)


class VoiceConverter(Protocol):
    name: str

    def convert(
        self,
        pcm: Pcm,
        persona: Persona,
        store: PersonaStore,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Pcm: ...


class SpeechBackend(Protocol):
    name: str

    def synthesize(self, text: str, persona: Persona | None, store: PersonaStore) -> Speech: ...


class WorldConverter:
    """The offline converter: the persona's stored ``world`` profile (built and stored when missing)."""

    name = "world"

    def __init__(self, settings: WorldSettings | None = None) -> None:
        self.settings = settings or WorldSettings()

    def convert(
        self,
        pcm: Pcm,
        persona: Persona,
        store: PersonaStore,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Pcm:
        profile = stored_profile(store, persona.id) or profile_persona(store, persona.id)
        return convert_world(pcm, profile, self.settings, progress=progress, cancel=cancel)


def make_converter(backend: VoiceBackendName, secrets: SecretSource | None = None) -> VoiceConverter:
    """The converter called ``backend``; ElevenLabs reads its API key from ``secrets`` (the keyring)."""
    if backend == "world":
        return WorldConverter()
    if backend == "elevenlabs":
        return ElevenLabsConverter(ElevenLabsAccount(secrets))
    raise InputError(f"Unknown voice backend {backend!r}: use one of {', '.join(VOICE_BACKENDS)}.")


def make_speech_backend(backend: SpeechBackendName, secrets: SecretSource | None = None) -> SpeechBackend:
    """The text-to-speech backend called ``backend``."""
    if backend == "system":
        return SystemSpeech()
    if backend == "elevenlabs":
        return ElevenLabsSpeech(ElevenLabsAccount(secrets))
    raise InputError(f"Unknown speech backend {backend!r}: use one of {', '.join(SPEECH_BACKENDS)}.")


def convert_voice(
    pcm: Pcm,
    persona_id: str,
    *,
    backend: VoiceBackendName = "world",
    store: PersonaStore | None = None,
    secrets: SecretSource | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    converter: VoiceConverter | None = None,
) -> Pcm:
    """``pcm`` spoken in the persona's voice: exactly the same sample count, rate and channel count.

    ``converter`` overrides ``backend`` (a configured or test instance). ``progress(done, total)`` is
    called in samples. Raises ``PersonaNotFoundError``, ``NoVoiceSamplesError``, ``InputError`` (empty
    audio), ``VoiceCancelled``, and for ElevenLabs ``VoiceAuthError`` / ``VoiceQuotaError`` /
    ``VoiceVerificationError`` / ``VoiceBusyError`` / ``VoiceBackendError``.
    """
    store = store or PersonaStore()
    persona = store.get(persona_id)
    worker = converter or make_converter(backend, secrets)
    out = worker.convert(pcm, persona, store, progress=progress, cancel=cancel)
    if out.samples.shape != pcm.samples.shape or out.rate != pcm.rate:
        raise EngineError(
            f"The {worker.name} voice backend changed the audio's shape "
            f"{pcm.samples.shape} → {out.samples.shape}"
        )
    return out


def synthesize(
    text: str,
    persona_id: str | None,
    *,
    backend: SpeechBackendName = "system",
    store: PersonaStore | None = None,
    secrets: SecretSource | None = None,
    speaker: SpeechBackend | None = None,
) -> Speech:
    """``text`` as speech (in the persona's voice when ``persona_id`` is given) with word timings and,
    for ``system``, phoneme timings. ``speaker`` overrides ``backend``. Raises ``InputError`` for empty
    text, ``PersonaNotFoundError``, and ``VoiceBackendError`` subclasses."""
    store = store or PersonaStore()
    persona = store.get(persona_id) if persona_id is not None else None
    worker = speaker or make_speech_backend(backend, secrets)
    return worker.synthesize(text, persona, store)
