"""ElevenLabs backends: instant voice cloning from a persona's samples, speech-to-speech conversion of long
audio in pieces, and text to speech with word timings.

The cloned voice's id is stored on the persona per account: ``voice_profiles["elevenlabs"]["accounts"]
[fingerprint]`` with the sample hashes it was made from (a changed sample set clones again).
Conversion: the mid at the input's rate is cut at pauses into ≤ 5-minute pieces (``split``), sent as
16-bit WAV with ``eleven_multilingual_sts_v2`` and a raw-PCM output format, ``concurrency`` at a time;
each result is resampled back, time-aligned to its piece and crossfaded in; the output has exactly the
input's sample count, rate and channels.
"""

from __future__ import annotations

import base64
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.personas.records import Persona, now_iso
from layer_desktop.engine.personas.store import PersonaStore
from layer_desktop.engine.voice.audio_file import from_pcm16, wav_bytes
from layer_desktop.engine.voice.dsp import F64, mono64, pcm_from_mono, resample, with_mid
from layer_desktop.engine.voice.eleven_client import NO_RETRIES, ElevenLabsAccount
from layer_desktop.engine.voice.profile import check_sample
from layer_desktop.engine.voice.speech import Speech, words_from_characters
from layer_desktop.engine.voice.split import Piece, align, join, plan_pieces
from layer_desktop.engine.voice.world import Progress
from layer_desktop.errors import InputError, NoVoiceSamplesError, VoiceCancelled, VoiceVerificationError

log = logging.getLogger(__name__)

PROFILE_KEY = "elevenlabs"


def ensure_voice(account: ElevenLabsAccount, store: PersonaStore, persona: Persona) -> str:
    """The persona's cloned voice id on this account, cloning it (``voices.ivc.create``) when needed.

    Raises ``NoVoiceSamplesError`` when no sample is usable and ``VoiceVerificationError`` when
    ElevenLabs wants the voice verified before use.
    """
    data = dict(persona.voice_profiles.get(PROFILE_KEY, {}))
    accounts = dict(data.get("accounts", {}))
    hashes = [v.sha256 for v in persona.voices]
    entry = accounts.get(account.fingerprint)
    if entry and entry.get("sample_sha256") == hashes and entry.get("voice_id"):
        return str(entry["voice_id"])
    files = _clone_files(store, persona)
    created = account.call(
        lambda: account.client.voices.ivc.create(
            name=persona.name,
            files=files,
            description=f"Layer Desktop persona {persona.id}",
            request_options=NO_RETRIES,
        ),
        "clone the voice",
    )
    if created.requires_verification:
        raise VoiceVerificationError(
            f"ElevenLabs created the voice for {persona.name!r} ({created.voice_id}) but it must be "
            "verified before it can be used."
        )
    accounts[account.fingerprint] = {
        "voice_id": created.voice_id,
        "sample_sha256": hashes,
        "created_at": now_iso(),
    }
    store.set_voice_profile(persona.id, PROFILE_KEY, {**data, "accounts": accounts})
    log.info("ElevenLabs voice %s cloned for persona %s", created.voice_id, persona.id)
    return str(created.voice_id)


def _clone_files(store: PersonaStore, persona: Persona) -> list[tuple[str, bytes, str]]:
    if not persona.voices:
        raise NoVoiceSamplesError(
            f"The persona {persona.name!r} has no voice samples to clone its voice from."
        )
    files, reasons = [], []
    for i, v in enumerate(persona.voices):
        path = store.media_path(v.sha256)
        report = check_sample(extract_audio(path, 16_000), v.source_name, i)
        if report.usable:
            files.append((v.source_name, path.read_bytes(), "application/octet-stream"))
        else:
            reasons.append(f"{v.source_name}: {', '.join(x.message for x in report.issues)}")
            log.warning("voice sample %s not sent for cloning: %s", v.source_name, reasons[-1])
    if not files:
        raise NoVoiceSamplesError(
            f"None of the voice samples of {persona.name!r} can be used ({'; '.join(reasons)})."
        )
    return files


class ElevenLabsConverter:
    """Speech-to-speech with the persona's cloned voice."""

    name = "elevenlabs"

    def __init__(self, account: ElevenLabsAccount) -> None:
        self.account = account

    def convert(
        self,
        pcm: Pcm,
        persona: Persona,
        store: PersonaStore,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Pcm:
        n = int(pcm.samples.shape[1])
        if n == 0:
            raise InputError("There is no audio to convert (0 samples).")
        voice_id = ensure_voice(self.account, store, persona)
        mid = mono64(pcm)
        pieces = plan_pieces(mid, pcm.rate, self.account.settings.max_piece_s)
        log.info("ElevenLabs: converting %.1f s in %d pieces", pcm.duration, len(pieces))
        converted = self._convert_pieces(mid, pcm.rate, voice_id, pieces, progress, cancel)
        return with_mid(pcm, mid, join(pieces, converted, n, pcm.rate))

    def _convert_pieces(
        self,
        mid: F64,
        rate: int,
        voice_id: str,
        pieces: list[Piece],
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> list[F64]:
        results: dict[int, F64] = {}
        done = 0
        workers = max(1, min(self.account.settings.concurrency, len(pieces)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="elevenlabs-sts") as pool:
            pending: dict[Future[F64], int] = {
                pool.submit(self._convert_piece, mid[p.send_start : p.send_stop], rate, voice_id, cancel): i
                for i, p in enumerate(pieces)
            }
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        i = pending.pop(future)
                        results[i] = future.result()
                        done += pieces[i].stop - pieces[i].start
                        if progress is not None:
                            progress(done, mid.size)
            finally:
                for future in pending:
                    future.cancel()
        return [results[i] for i in range(len(pieces))]

    def _convert_piece(self, x: F64, rate: int, voice_id: str, cancel: threading.Event | None) -> F64:
        if cancel is not None and cancel.is_set():
            raise VoiceCancelled("The voice conversion was cancelled.")
        settings = self.account.settings
        audio = ("piece.wav", wav_bytes(x, rate), "audio/wav")
        raw = self.account.call(
            lambda: b"".join(
                self.account.client.speech_to_speech.convert(
                    voice_id,
                    audio=audio,
                    model_id=settings.sts_model,
                    output_format=settings.output_format,
                    request_options=NO_RETRIES,
                )
            ),
            "convert the voice",
        )
        y = resample(from_pcm16(raw), settings.output_rate, rate)
        return align(x, y, rate)


class ElevenLabsSpeech:
    """Text to speech in the persona's cloned voice, with word timings from the character alignment."""

    name = "elevenlabs"

    def __init__(self, account: ElevenLabsAccount) -> None:
        self.account = account

    def synthesize(self, text: str, persona: Persona | None, store: PersonaStore) -> Speech:
        if not text.strip():
            raise InputError("There is no text to speak.")
        if persona is None:
            raise InputError("ElevenLabs speech needs a persona whose voice to use.", hint="Pass --persona.")
        voice_id = ensure_voice(self.account, store, persona)
        settings = self.account.settings
        response = self.account.call(
            lambda: self.account.client.text_to_speech.convert_with_timestamps(
                voice_id,
                text=text,
                model_id=settings.tts_model,
                output_format=settings.output_format,
                request_options=NO_RETRIES,
            ),
            "synthesize speech",
        )
        x = from_pcm16(base64.b64decode(response.audio_base_64))
        a = response.alignment
        words = (
            words_from_characters(
                a.characters, a.character_start_times_seconds, a.character_end_times_seconds
            )
            if a
            else ()
        )
        return Speech(pcm_from_mono(x, settings.output_rate), words, (), self.name)
