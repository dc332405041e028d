"""``render_talk``: a ``TalkSpec`` → the video, with the disclosure every output carries.

Speech first (its length sets the video's), then the portrait, then every frame from the animator,
encoded in one pass to a video-only file in the work folder; the join muxes the speech in as AAC with
the disclosure tags, and the C2PA manifest (a generated talking head: ``trainedAlgorithmicMedia``) is
signed last. The output appears only when complete; nothing of the user's is overwritten by accident.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from layer_desktop.engine.faces.analyzer import FaceAnalyzer
from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.media.encode import OutputSettings, add_video_stream, choose_encoder
from layer_desktop.engine.media.join import AudioPlan, ChunkSource, VideoTiming, join_chunks
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.media.preflight import check_place, disk_errors, hold_output
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.pipeline.disclosure import metadata
from layer_desktop.engine.provenance.transform import watermark_payload
from layer_desktop.engine.talking.animate import Animator
from layer_desktop.engine.talking.liveportrait import LivePortraitAnimator
from layer_desktop.engine.talking.photo import load_portrait
from layer_desktop.engine.talking.provenance import sign_talk_output
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.engine.talking.speech import TalkSpeech, prepare_speech
from layer_desktop.engine.voice.backends import SpeechBackend
from layer_desktop.engine.voice.eleven_client import SecretSource
from layer_desktop.errors import ConsentWithdrawnError, PersonaNotFoundError
from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total): "speech", "face", "render", "finish"
# signs the finished output (spec, job id, persona, speech, watermark payload) → a note or None
Sign = Callable[[TalkSpec, str, Persona | None, TalkSpeech, int | None], str | None]
CONSENT_EVERY = 50  # frames: the persona's consent is checked as often as a transform checks it (a chunk)
GOP_S = 10  # long GOPs: a keyframe re-rolls the coding noise of the still background


@dataclass(frozen=True)
class TalkReport:
    output: str
    job_id: str
    frames: int
    fps: int
    width: int
    height: int
    speech_seconds: float
    speech: str  # "system", "elevenlabs" or "recording"
    voice_conversion: str | None
    mouth: str  # what drove the visemes: "phonemes", "alignment" or "loudness"
    animator: str
    blinks: int
    encoder: str
    seconds: float
    notes: tuple[str, ...] = ()


def job_id_for(spec: TalkSpec) -> str:
    return "talk-" + hashlib.sha1(str(Path(spec.output).resolve()).encode()).hexdigest()[:12]


def _inputs(spec: TalkSpec) -> tuple[Path, ...]:
    return tuple(Path(p) for p in (spec.photo, spec.audio, spec.script_file) if p)


def prepare_talk(
    spec: TalkSpec,
    folder: Path,
    *,
    store: PersonaStore | None = None,
    secrets: SecretSource | None = None,
    progress: Progress | None = None,
    speaker: SpeechBackend | None = None,
    models: ModelStore | None = None,
    analyzer: FaceAnalyzer | None = None,
) -> Animator:
    """Speech and portrait of ``spec``, ready to make frames (the preview's entry point too). Raises
    ``ModelNotFoundError`` naming `layer models fetch …` for a model animator whose files are missing."""
    store = store or PersonaStore()
    if progress:
        progress("face", 0, 1)
    portrait = load_portrait(spec, store, analyzer)  # before the speech: a photo without a face fails fast
    model = LivePortraitAnimator(models or ModelStore()) if spec.animator == "liveportrait" else None
    if progress:
        progress("speech", 0, 1)
    speech = prepare_speech(
        spec, folder, persona=portrait.persona, store=store, secrets=secrets, speaker=speaker
    )
    payload = watermark_payload(folder.name) if spec.disclosure.watermark else None
    animator = Animator(
        portrait, speech, fps=spec.fps, motion=spec.motion, seed=spec.seed,
        disclosure=spec.disclosure, watermark=payload,
    )  # fmt: skip
    if model is not None:
        prep = model.prepare(portrait.rgb, portrait.face)
        mouth = np.asarray(animator.mouth.track.params, np.float64)[:, 0]
        eyes = animator.eyes

        def face(i: int) -> ImageRGB:
            return model.frame(prep, float(mouth[i]), 1.0 - float(eyes[i]))

        animator.use_model(model.name, model.label, face)
    return animator


def consent_check(store: PersonaStore, persona: Persona | None, folder: Path) -> Callable[[], None]:
    """A check that raises ``ConsentWithdrawnError`` (and removes the work folder) once the persona was
    deleted or its consent changed since the job started; nothing to check for a plain photo."""

    def check() -> None:
        if persona is None:
            return
        try:
            now = store.get(persona.id).consent
        except PersonaNotFoundError:
            now = None
        if now != persona.consent:
            shutil.rmtree(folder, ignore_errors=True)
            raise ConsentWithdrawnError(
                f"Persona {persona.name} was deleted or its consent changed while its talking head was "
                "made: the job stopped and nothing was written."
            )

    return check


def _encode(animator: Animator, path: Path, settings: OutputSettings, progress: Progress | None,
            cancel: threading.Event | None, consent: Callable[[], None]) -> str:  # fmt: skip
    h, w = animator.portrait.rgb.shape[:2]
    choice = choose_encoder(settings)
    rate = Fraction(animator.fps)
    with av.open(str(path), "w", format="mp4") as out:
        stream = add_video_stream(
            out,
            choice.name,
            settings,
            width=w,
            height=h,
            rate=rate,
            time_base=1 / rate,
            gop=GOP_S * animator.fps,
        )
        for i in range(animator.frames):
            if cancel is not None and cancel.is_set():
                raise RenderCancelled("The talking-head render was cancelled.")
            if i % CONSENT_EVERY == 0:
                consent()
            frame = av.VideoFrame.from_ndarray(animator.frame(i), format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            for packet in stream.encode(frame):
                out.mux(packet)
            if progress:
                progress("render", i + 1, animator.frames)
        for packet in stream.encode(None):
            out.mux(packet)
    return choice.name


def _tags(spec: TalkSpec, animator: Animator, job_id: str) -> dict[str, str]:
    persona = animator.portrait.persona
    speech = animator.speech
    tags = metadata(
        job_id=job_id,
        persona_ids=[persona.id] if persona is not None else [],
        backends=["blazeface+facemesh-468", animator.name, f"speech:{speech.backend}"],
    )
    who = f" (persona {persona.id})" if persona is not None else f" (photo {animator.portrait.source_name})"
    tags["comment"] = f"Synthetic media: talking head generated by {tags['generator']}{who}"
    tags["layer_mode"] = "talking_head"
    tags["layer_animator"] = animator.label
    if speech.voice_conversion:
        tags["layer_voice"] = speech.voice_conversion
    return tags


def render_talk(
    spec: TalkSpec,
    *,
    store: PersonaStore | None = None,
    secrets: SecretSource | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    work_dir: Path | None = None,
    speaker: SpeechBackend | None = None,
    sign: Sign = sign_talk_output,
    analyzer: FaceAnalyzer | None = None,
) -> TalkReport:
    """Write ``spec.output`` (signed by ``sign``: a cluster worker leaves that to the driver, where the
    signing key is; ``analyzer``: a face analyzer to reuse, as a worker does). Raises
    ``OutputPlaceError``/``OutputInUseError`` before any work, ``ImageError``/``NoFaceError``
    (suggesting a persona), ``PersonaNotFoundError``, ``InputError`` for a bad script, ``MediaError``
    for a bad recording, ``VoiceError`` subclasses, ``EncodeError``, ``ProvenanceError`` and
    ``RenderCancelled``."""
    out = Path(spec.output)
    check_place(out, _inputs(spec))
    job_id = job_id_for(spec)
    folder = work_dir or app_paths().cache_dir / "talk" / job_id
    with hold_output(out), disk_errors(folder):
        return _render(spec, out, job_id, folder, store, secrets, progress, cancel, speaker, sign, analyzer)


def _render(
    spec: TalkSpec, out: Path, job_id: str, folder: Path, store: PersonaStore | None,
    secrets: SecretSource | None, progress: Progress | None, cancel: threading.Event | None,
    speaker: SpeechBackend | None, sign: Sign, analyzer: FaceAnalyzer | None,
) -> TalkReport:  # fmt: skip
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    store = store or PersonaStore()
    animator = prepare_talk(
        spec, folder, store=store, secrets=secrets, progress=progress, speaker=speaker, analyzer=analyzer
    )
    o = spec.output_settings
    settings = OutputSettings(codec=o.codec, crf=o.crf, preset=o.preset, hardware=o.hardware)
    video = folder / "video.mp4"
    consent = consent_check(store, animator.portrait.persona, folder)
    encoder = _encode(animator, video, settings, progress, cancel, consent)
    consent()  # withdrawn between the last frame and the join
    if progress:
        progress("finish", 0, 1)
    rate = Fraction(spec.fps)
    speech = animator.speech
    join_chunks(
        [ChunkSource(video, 0)], out,
        timing=VideoTiming(time_base=1 / rate, rate=rate, end_pts=animator.frames),
        audio=AudioPlan(speech.wav, 0.0, reencode=True), metadata=_tags(spec, animator, job_id),
    )  # fmt: skip
    note = sign(spec, job_id, animator.portrait.persona, speech, animator.watermark)
    h, w = animator.portrait.rgb.shape[:2]
    video.unlink(missing_ok=True)
    return TalkReport(
        output=str(out), job_id=job_id, frames=animator.frames, fps=spec.fps, width=w, height=h,
        speech_seconds=round(speech.duration_s, 3), speech=speech.backend,
        voice_conversion=speech.voice_conversion, mouth=animator.mouth_source, animator=animator.name,
        blinks=len(animator.blinks), encoder=encoder, seconds=round(time.perf_counter() - started, 3),
        notes=(note,) if note else (),
    )  # fmt: skip
