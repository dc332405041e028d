"""The talking head's other inputs: a persona (its photo, its voice through WORLD, its consent in the
manifest), a recording aligned to its transcript, and the clear errors: a picture without a face (the
hint names a persona), a bad script file; and the timing rules of blinks and head motion."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.engine.provenance.c2pa_sign import read_manifest
from layer_desktop.engine.provenance.manifest import CONSENT_LABEL
from layer_desktop.engine.talking.animate import STILL_BORDER, motion_field
from layer_desktop.engine.talking.motion import accents, blink_curve, blinks, head_pose
from layer_desktop.engine.talking.render import render_talk
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import ConsentWithdrawnError, InputError, NoFaceError
from tests.conftest import SHARED_MEDIA

GRACE = SHARED_MEDIA / "faces" / "grace_hopper.jpg"
VOICE = SHARED_MEDIA / "audio" / "arctic_a0009_female.wav"
NO_FACE = SHARED_MEDIA / "clips" / "no_face_3s.mp4"


def product_shot(folder: Path) -> Path:
    """A picture without a face: the first frame of the kit's faceless clip."""
    with av.open(str(NO_FACE)) as c:
        rgb = next(c.decode(video=0)).to_ndarray(format="rgb24")
    path = folder / "product.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def test_a_picture_without_a_face_is_a_clear_error_that_suggests_a_persona(tmp_path: Path) -> None:
    spec = TalkSpec(photo=str(product_shot(tmp_path)), script="Hello.", output=str(tmp_path / "o.mp4"))
    with pytest.raises(NoFaceError) as err:
        render_talk(spec, work_dir=tmp_path / "w")
    assert "product.png" in err.value.message and "persona" in err.value.hint
    assert not (tmp_path / "o.mp4").exists()


def test_a_script_file_past_the_cap_or_empty_is_refused(tmp_path: Path) -> None:
    for text in ("", "word " * 1200):
        script = tmp_path / "script.txt"
        script.write_text(text)
        spec = TalkSpec(photo=str(GRACE), script_file=str(script), output=str(tmp_path / "o.mp4"))
        with pytest.raises(InputError, match="script file"):
            render_talk(spec, work_dir=tmp_path / "w")
    assert not (tmp_path / "o.mp4").exists()


def test_the_spec_wants_one_face_source_and_one_speech_source() -> None:
    with pytest.raises(ValidationError, match="photo or persona"):
        TalkSpec(photo="a.png", persona="p", script="hi", output="o.mp4")
    with pytest.raises(ValidationError, match="script, script_file or audio"):
        TalkSpec(photo="a.png", script="hi", audio="a.wav", output="o.mp4")
    with pytest.raises(ValidationError, match="size"):
        TalkSpec(photo="a.png", script="hi", size="4000x4000", output="o.mp4")
    assert TalkSpec(photo="a.png", script="hi", size="1280x720", output="o.mp4").frame_size == (1280, 720)


@pytest.mark.slow
def test_a_persona_speaks_in_its_own_voice_with_its_consent_in_the_manifest(tmp_path: Path) -> None:
    store = PersonaStore(tmp_path / "p.sqlite3", tmp_path / "media")
    persona = create_persona(store, "Grace", [FaceInput(GRACE)], ConsentInput("Public domain"), [VOICE])
    out = tmp_path / "grace.mp4"
    spec = TalkSpec(persona="Grace", script="Our new mug keeps coffee warm.", size="192", output=str(out))
    report = render_talk(spec, store=store, work_dir=tmp_path / "w")
    assert report.voice_conversion == "world" and report.speech == "system"
    with av.open(str(out)) as c:
        assert c.metadata["layer_persona_id"] == persona.id and c.metadata["layer_voice"] == "world"
    manifest = read_manifest(out)
    assert manifest.assertion(CONSENT_LABEL)["consents"][0]["persona_id"] == persona.id
    edits = [a["parameters"]["layer.edit"] for a in manifest.assertion("c2pa.actions.v2")["actions"][1:]]
    assert edits == ["talking_head", "voice_clone"]


@pytest.mark.slow
def test_a_recording_is_the_sound_and_its_transcript_is_aligned_for_the_mouth(tmp_path: Path) -> None:
    out = tmp_path / "rec.mp4"
    said = "Author of the danger trail, Philip Steels, et cetera."  # CMU ARCTIC a0009
    spec = TalkSpec(photo=str(GRACE), audio=str(VOICE), transcript=said, size="160", output=str(out))
    report = render_talk(spec, work_dir=tmp_path / "w")
    source = extract_audio(VOICE, 16_000)
    assert report.speech == "recording" and report.mouth == "alignment"
    assert abs(report.frames / 25 - source.duration) <= 1 / 25
    assert abs(extract_audio(out, 16_000).duration - source.duration) <= 1 / 25


def test_blinks_come_every_2_to_6_s_and_last_100_to_150_ms_the_same_for_a_seed() -> None:
    events = blinks(120.0, np.random.default_rng(7))
    assert events == blinks(120.0, np.random.default_rng(7))
    assert events != blinks(120.0, np.random.default_rng(8))
    assert 0.5 <= events[0].start_s <= 2.0
    lengths = np.array([b.length_s for b in events])
    gaps = np.diff([b.start_s for b in events]) - lengths[:-1]
    assert lengths.min() >= 0.1 and lengths.max() <= 0.15
    assert gaps.min() >= 2.0 and gaps.max() <= 6.0 and len(events) >= 120 / 6.2
    curve = blink_curve(events, 25, 3000)
    assert (curve == 1.0).sum() >= len(events)  # every blink shuts the eyes in at least one frame
    assert curve[: int(events[0].start_s * 25)].max() == 0.0


def test_the_head_moves_smoothly_nods_on_accents_and_the_border_band_never_moves() -> None:
    fps, n = 25, 250
    t = np.arange(n) / fps
    loud = np.where((t % 2.0) < 1.2, -2.0 + 0.8 * np.sin(2 * np.pi * 3 * t), -9.0)  # speech, pauses
    pose = head_pose(loud, fps, n, np.random.default_rng(0), 1.0)
    assert np.abs(pose[:, 0]).max() < 0.06 and np.abs(pose[:, 2]).max() < 3.0  # small
    assert np.abs(np.diff(pose, axis=0)).max() < 0.02 * 10  # no jumps between frames
    assert len(accents(loud, fps)) >= 4
    still = head_pose(loud, fps, n, np.random.default_rng(0), 0.0)
    assert not still.any()
    field = motion_field(320, 240, (160.0, 110.0), 70.0)
    band = int(STILL_BORDER * 240)
    r = field.rect
    assert r.x0 >= band and r.y0 >= band and r.x1 <= 320 - band and r.y1 <= 240 - band
    assert field.weight.max() == pytest.approx(1.0)


@pytest.mark.slow
def test_elevenlabs_speech_in_the_personas_cloned_voice_is_aligned_and_disclosed(tmp_path: Path) -> None:
    from layer_desktop.engine.voice import API_KEY_NAME, ElevenLabsAccount, ElevenLabsSpeech
    from layer_desktop.secrets import SessionSecrets
    from tests.engine.voice.fake_elevenlabs import FakeElevenLabs

    fake = FakeElevenLabs()  # the service, faked at the HTTP transport of the real SDK
    secrets = SessionSecrets()
    secrets.set(API_KEY_NAME, "sk_test_0123456789abcdef0123456789abcdef")
    speaker = ElevenLabsSpeech(ElevenLabsAccount(secrets, http_client=fake.client(), sleep=lambda s: None))
    store = PersonaStore(tmp_path / "p.sqlite3", tmp_path / "media")
    create_persona(store, "Grace", [FaceInput(GRACE)], ConsentInput("Public domain"), [VOICE])
    out = tmp_path / "eleven.mp4"
    said = "Our new mug keeps coffee warm."
    spec = TalkSpec(persona="Grace", script=said, speech="elevenlabs", size="160", output=str(out))
    report = render_talk(spec, store=store, work_dir=tmp_path / "w", speaker=speaker)
    (call,) = fake.calls("tts")
    assert len(fake.calls("ivc")) == 1  # the persona's voice was cloned from its samples first
    assert call.json["text"] == said  # type: ignore[index]
    assert report.speech == "elevenlabs" and report.mouth in ("alignment", "loudness")
    assert abs(report.frames / 25 - len(said) * 0.06) <= 1 / 25  # the service's audio sets the length
    manifest = read_manifest(out)
    edits = [a["parameters"]["layer.edit"] for a in manifest.assertion("c2pa.actions.v2")["actions"][1:]]
    assert edits == ["talking_head", "voice_clone"]
    models = {m["id"] for m in manifest.assertion("com.layerdesktop.models")["models"]}
    assert "tts:elevenlabs" in models and "tts:espeak-ng" not in models


@pytest.mark.slow
def test_a_persona_deleted_while_its_talking_head_renders_stops_the_job_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    store = PersonaStore(tmp_path / "p.sqlite3", tmp_path / "media")
    create_persona(store, "Grace", [FaceInput(GRACE)], ConsentInput("Public domain"))
    out = tmp_path / "withdrawn.mp4"
    spec = TalkSpec(
        persona="Grace", script="Our mug keeps coffee warm all day long.", size="128", output=str(out)
    )

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "render" and done == 10:
            store.delete("Grace")  # consent withdrawn mid-render

    with pytest.raises(ConsentWithdrawnError):
        render_talk(spec, store=store, work_dir=tmp_path / "w", progress=progress)
    assert not out.exists() and not (tmp_path / "w").exists()
