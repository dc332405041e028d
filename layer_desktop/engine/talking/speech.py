"""What the talking head says: system speech (eSpeak NG, with phoneme timings), the persona's voice
(system speech moved by WORLD, or ElevenLabs text-to-speech in the cloned voice) or a recording; always
loudness-normalised, written as the output's audio track."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.lipsync.audio import driving_samples
from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.talking.spec import MAX_SCRIPT, TalkSpec
from layer_desktop.engine.voice.audio_file import write_audio
from layer_desktop.engine.voice.backends import SpeechBackend, make_speech_backend
from layer_desktop.engine.voice.eleven_client import SecretSource
from layer_desktop.engine.voice.loudness import normalise_loudness
from layer_desktop.engine.voice.speech import Timing
from layer_desktop.engine.voice.tts import SystemSpeech
from layer_desktop.errors import InputError

log = logging.getLogger(__name__)

AUDIO_RATE = 48_000  # a recording is read at this rate (mono) for the output
MAX_AUDIO_S = 600.0


@dataclass(frozen=True)
class TalkSpeech:
    """The output's audio (normalised, written to ``wav``), its 16 kHz mono copy for the mouth, and the
    phoneme timings or transcript that drive the visemes."""

    wav: Path
    samples16k: NDArray[np.float32]
    duration_s: float
    phonemes: tuple[Timing, ...]
    transcript: str | None
    backend: str  # "system", "elevenlabs" or "recording"
    voice_conversion: str | None  # "world" when system speech was moved to the persona's voice


def script_text(spec: TalkSpec) -> str | None:
    """The script of ``spec`` (read from its file when given as one); None for a recording.
    Raises ``InputError`` for an unreadable, empty or over-long script file."""
    if spec.script is not None:
        return spec.script
    if spec.script_file is None:
        return None
    path = Path(spec.script_file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"The script file {path} cannot be read ({exc}).", hint="Give a UTF-8 text file.", path=path
        ) from exc
    if not text.strip():
        raise InputError(
            f"The script file {path} is empty.", hint="Write what the face should say.", path=path
        )
    if len(text) > MAX_SCRIPT:
        raise InputError(
            f"The script file {path} has {len(text)} characters; one video speaks at most {MAX_SCRIPT}.",
            hint="Shorten the script or split it into several videos.",
            path=path,
        )
    return text


def _speak(spec: TalkSpec, text: str, persona: Persona | None, store: PersonaStore,
           secrets: SecretSource | None, speaker: SpeechBackend | None,
           ) -> tuple[Pcm, tuple[Timing, ...], str, str | None]:  # fmt: skip
    if spec.speech == "elevenlabs":
        worker = speaker or make_speech_backend("elevenlabs", secrets)
        speech = worker.synthesize(text, persona, store)
        return speech.pcm, speech.phonemes, "elevenlabs", None
    voiced = persona if persona is not None and persona.voices else None
    if persona is not None and voiced is None:
        log.info("persona %s has no voice samples: plain system speech", persona.name)
    speech = SystemSpeech(language=spec.voice).synthesize(text, voiced, store)
    return speech.pcm, speech.phonemes, "system", "world" if voiced is not None else None


def _recording(path: Path) -> Pcm:
    pcm = extract_audio(path, AUDIO_RATE, channels=1)
    if pcm.duration < 0.2:
        raise InputError(f"The recording {path} is too short to speak ({pcm.duration:.2f} s).", path=path)
    if pcm.duration > MAX_AUDIO_S:
        raise InputError(
            f"The recording {path} is {pcm.duration:.0f} s long; at most {MAX_AUDIO_S:.0f} s.",
            hint="Cut it into parts of up to 10 minutes.",
            path=path,
        )
    return pcm


def prepare_speech(
    spec: TalkSpec,
    folder: Path,
    *,
    persona: Persona | None,
    store: PersonaStore,
    secrets: SecretSource | None = None,
    speaker: SpeechBackend | None = None,
) -> TalkSpeech:
    """The speech of ``spec``, normalised to its loudness target and written to ``folder/speech.wav``.
    Raises ``InputError``/``MediaError`` for a bad script or recording, ``VoiceError`` subclasses when
    a speech backend fails. ``speaker`` replaces the ElevenLabs backend (a configured account)."""
    text = script_text(spec)
    phonemes: tuple[Timing, ...] = ()
    if text is None:
        assert spec.audio is not None
        pcm, backend, conversion = _recording(Path(spec.audio)), "recording", None
    else:
        pcm, phonemes, backend, conversion = _speak(spec, text, persona, store, secrets, speaker)
    pcm = normalise_loudness(Pcm(pcm.samples, pcm.rate, 0.0, pcm.rate, 1), spec.loudness_lufs)
    folder.mkdir(parents=True, exist_ok=True)
    wav = write_audio(folder / "speech.wav", pcm)
    samples = driving_samples(wav)
    # ElevenLabs speech or a recording (with its transcript) is aligned by pocketsphinx
    transcript = (text if text is not None else spec.transcript) if not phonemes else None
    log.info("speech: %s, %.2f s, %d phonemes", backend, pcm.duration, len(phonemes))
    return TalkSpeech(wav, samples, pcm.duration, tuple(phonemes), transcript, backend, conversion)
