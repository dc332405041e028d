"""The ElevenLabs backends through the real SDK; only the HTTP transport is faked (see fake_elevenlabs)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import numpy as np
import pytest
from keyrings.alt.file import PlaintextKeyring

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.voice import (
    API_KEY_NAME,
    ElevenLabsAccount,
    ElevenLabsConverter,
    ElevenLabsSettings,
    ElevenLabsSpeech,
    convert_voice,
    synthesize,
)
from layer_desktop.engine.voice.split import plan_pieces
from layer_desktop.errors import (
    VoiceAuthError,
    VoiceBusyError,
    VoiceQuotaError,
    VoiceVerificationError,
)
from layer_desktop.secrets import KeyringSecrets, SessionSecrets
from tests.engine.voice.conftest import MakePersona
from tests.engine.voice.fake_elevenlabs import FakeElevenLabs, wav_samples

KEY = "sk_test_0123456789abcdef0123456789abcdef"
BUSY = {"detail": {"status": "too_many_concurrent_requests", "message": "Too many concurrent requests."}}


@pytest.fixture
def fake() -> FakeElevenLabs:
    return FakeElevenLabs()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def account(fake: FakeElevenLabs, sleeps: list[float]) -> ElevenLabsAccount:
    secrets = SessionSecrets()
    secrets.set(API_KEY_NAME, KEY)
    return ElevenLabsAccount(secrets, http_client=fake.client(), sleep=sleeps.append)


def test_clone_request_carries_the_samples_and_name_and_the_id_is_kept_per_account(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    (ivc,) = fake.calls("ivc")
    assert ivc.method == "POST" and ivc.headers["xi-api-key"] == KEY
    assert ivc.fields["name"] == [(None, b"Sally")]
    assert ivc.fields["files"] == [(female_wav.name, female_wav.read_bytes())]
    saved = store.get(persona.id).voice_profiles["elevenlabs"]["accounts"]
    assert list(saved) == [account.fingerprint] and KEY not in str(saved)
    assert saved[account.fingerprint]["voice_id"] == fake.voice_id
    convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    assert len(fake.calls("ivc")) == 1  # the stored voice is reused


def test_speech_to_speech_request_shape_and_exact_length(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    stereo = Pcm(np.stack([male.mono, male.mono]), 16_000, 0.0, 16_000, 2)
    out = convert_voice(stereo, persona.id, store=store, converter=ElevenLabsConverter(account))
    (sts,) = fake.calls("sts")
    assert sts.method == "POST" and sts.path == f"/v1/voice-changer/{fake.voice_id}"
    assert sts.params["output_format"] == "pcm_24000"
    assert sts.fields["model_id"] == [(None, b"eleven_multilingual_sts_v2")]
    filename, audio = sts.fields["audio"][0]
    sent, rate = wav_samples(audio)
    assert filename == "piece.wav" and rate == 16_000 and sent.size == male.samples.shape[1]
    assert out.samples.shape == stereo.samples.shape
    # The fake answers with half the input, 40 ms late: aligned back, it lines up sample for sample.
    np.testing.assert_allclose(out.samples[0], 0.5 * male.mono, atol=0.01)


def test_twelve_minutes_are_cut_at_pauses_into_five_minute_pieces_and_joined_exactly(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    x = np.tile(male.mono, 180)  # 12 minutes of speech with a pause every 4 s
    long = Pcm(x.reshape(1, -1), 16_000, 0.0, 16_000, 1)
    seen: list[tuple[int, int]] = []
    out = convert_voice(
        long,
        persona.id,
        store=store,
        converter=ElevenLabsConverter(account),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert out.samples.shape == long.samples.shape
    pieces = fake.calls("sts")
    lengths = sorted(wav_samples(p.fields["audio"][0][1])[0].size for p in pieces)
    assert len(pieces) == 3 and max(lengths) <= 300 * 16_000
    for piece in plan_pieces(x.astype(np.float64), 16_000)[1:]:
        around = x[piece.start - 800 : piece.start + 800]
        assert np.sqrt(np.mean(around**2)) < 0.01  # the cut lies in a pause
    np.testing.assert_allclose(out.samples[0], 0.5 * x, atol=0.01)
    assert seen[-1] == (x.size, x.size)


def test_busy_429_is_retried_with_backoff(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm, sleeps: list[float],
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    fake.queue("sts", 429, BUSY)
    fake.queue("sts", 429, {"detail": {"status": "system_busy", "message": "The system is busy."}})
    out = convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    assert len(fake.calls("sts")) == 3 and len(sleeps) == 2 and 0 < sleeps[0] < sleeps[1] <= 2.0
    np.testing.assert_allclose(out.samples[0], 0.5 * male.mono, atol=0.01)


def test_busy_for_good_gives_up_with_a_clear_error(
    fake: FakeElevenLabs, store: PersonaStore, make_persona: MakePersona, female_wav: Path, male: Pcm,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    secrets = SessionSecrets()
    secrets.set(API_KEY_NAME, KEY)
    account = ElevenLabsAccount(
        secrets, ElevenLabsSettings(max_attempts=3), http_client=fake.client(), sleep=lambda s: None
    )
    for _ in range(3):
        fake.queue("sts", 429, BUSY)
    with pytest.raises(VoiceBusyError, match="too_many_concurrent_requests") as caught:
        convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    assert "concurrent" in caught.value.hint and len(fake.calls("sts")) == 3


def test_refused_key_gives_the_settings_hint_and_never_shows_the_key(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    fake.queue("ivc", 401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})
    with caplog.at_level(logging.DEBUG), pytest.raises(VoiceAuthError) as caught:
        convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    assert "Set your ElevenLabs API key in Settings › Voice" in caught.value.hint
    assert "invalid_api_key" in str(caught.value) and len(fake.calls("ivc")) == 1
    assert KEY not in caught.value.user_text() and KEY not in caplog.text
    assert "elevenlabs" not in store.get(persona.id).voice_profiles


def test_quota_and_verification_errors_are_surfaced(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    quota = {"detail": {"status": "quota_exceeded", "message": "This request exceeds your quota of 10000."}}
    fake.queue("sts", 401, quota)
    with pytest.raises(VoiceQuotaError, match="quota is used up") as caught:
        convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    assert "upgrade" in caught.value.hint
    other = make_persona("Protected", [female_wav])
    fake.queue("ivc", 200, {"voice_id": "vc_needs_check", "requires_verification": True})
    with pytest.raises(VoiceVerificationError, match="must be verified"):
        convert_voice(male, other.id, store=store, converter=ElevenLabsConverter(account))
    assert "elevenlabs" not in store.get(other.id).voice_profiles


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[PlaintextKeyring]:
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_no_key_in_the_keyring_is_a_clear_error(
    file_keyring: PlaintextKeyring, fake: FakeElevenLabs, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path, male: Pcm,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    with pytest.raises(VoiceAuthError, match="No ElevenLabs API key is set") as caught:
        convert_voice(male, persona.id, backend="elevenlabs", store=store)
    assert "Settings › Voice" in caught.value.hint and fake.requests == []
    KeyringSecrets().set(API_KEY_NAME, KEY)  # the key is read from the keyring, nowhere else
    account = ElevenLabsAccount(KeyringSecrets(), http_client=fake.client())
    out = convert_voice(male, persona.id, store=store, converter=ElevenLabsConverter(account))
    assert out.samples.shape == male.samples.shape and fake.calls("sts")[0].headers["xi-api-key"] == KEY


def test_text_to_speech_returns_pcm_and_word_timings(
    fake: FakeElevenLabs, account: ElevenLabsAccount, store: PersonaStore, make_persona: MakePersona,
    female_wav: Path,
) -> None:  # fmt: skip
    persona = make_persona("Sally", [female_wav])
    speech = synthesize("Hello there, world", persona.id, store=store, speaker=ElevenLabsSpeech(account))
    (tts,) = fake.calls("tts")
    assert tts.path == f"/v1/text-to-speech/{fake.voice_id}/with-timestamps"
    assert isinstance(tts.json, dict) and tts.json["text"] == "Hello there, world"
    assert tts.json["model_id"] == "eleven_multilingual_v2" and tts.params["output_format"] == "pcm_24000"
    assert speech.pcm.rate == 24_000 and speech.pcm.duration == pytest.approx(18 * 0.06, abs=1e-3)
    assert [w.text for w in speech.words] == ["Hello", "there,", "world"]
    spans = [t for w in speech.words for t in (w.start_s, w.end_s)]
    assert spans == pytest.approx([0.0, 0.3, 0.36, 0.72, 0.78, 1.08])
