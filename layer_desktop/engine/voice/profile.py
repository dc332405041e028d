"""A persona's voice profile from its samples: duration, loudness, f0 statistics, spectral envelope and
formant estimate, voiced ratio; each sample is checked first and flagged with its reasons.

Samples that are silent, too short, heavily clipped or hold two speakers of clearly different pitch are
reported and left out of the statistics; mild clipping is reported but the sample is used. The profile
is the target of the offline ``world`` converter and is stored on the persona under ``"world"``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.personas.store import PersonaStore
from layer_desktop.engine.voice.analysis import envelope_db, f0_stats, formant_peaks, track_pitch
from layer_desktop.engine.voice.dsp import ANALYSIS_RATE, F64, FRAME_MS, frame_db, mono64, resample, to_dbfs
from layer_desktop.engine.voice.loudness import measure_loudness
from layer_desktop.engine.voice.samples import speaker_change, speech_mask
from layer_desktop.errors import NoVoiceSamplesError

log = logging.getLogger(__name__)

PROFILE_SCHEMA_VERSION = 1
MIN_SPEECH_S = 1.0
RECOMMENDED_SPEECH_S = 10.0
SILENT_PEAK_DBFS = -50.0
CLIP_LEVEL = 0.98
CLIP_WARN = 0.001  # fraction of speech samples at full scale: reported …
CLIP_BLOCK = 0.01  # … and, from here on, the sample is not used

IssueCode = Literal["silent", "too_short", "clipped", "several_speakers", "no_voiced_speech"]


class SampleIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: IssueCode
    message: str
    blocking: bool  # True: the sample is left out of the profile


class SampleReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    duration_s: float
    speech_s: float
    voiced_ratio: float
    peak_dbfs: float
    clipped_fraction: float
    f0_median_hz: float | None
    issues: tuple[SampleIssue, ...] = ()

    @property
    def usable(self) -> bool:
        return not any(i.blocking for i in self.issues)


class VoiceProfile(BaseModel):
    """What the ``world`` converter aims at; JSON via ``to_dict`` / ``from_dict``."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = PROFILE_SCHEMA_VERSION
    duration_s: float  # all usable samples together
    speech_s: float
    voiced_ratio: float  # voiced frames / speech frames
    loudness_lufs: float | None  # integrated, over the usable samples; None for silence
    f0_median_hz: float
    f0_p5_hz: float  # the usual range: 5th to 95th percentile
    f0_p95_hz: float
    log_f0_median: float
    log_f0_scale: float  # robust standard deviation of ln f0
    envelope_db: tuple[float, ...]  # on analysis.ENVELOPE_FREQS_HZ, mean removed
    formants_hz: tuple[float, ...]
    samples: tuple[SampleReport, ...]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceProfile:
        return cls.model_validate(data)


class _Analysed:
    """One sample at 16 kHz with its pitch track and speech mask (kept only while profiling)."""

    def __init__(self, index: int, name: str, pcm: Pcm) -> None:
        self.x: F64 = resample(mono64(pcm), pcm.rate, ANALYSIS_RATE)
        self.f0 = track_pitch(self.x).f0
        self.db = frame_db(self.x, ANALYSIS_RATE, self.f0.size)
        self.speech = speech_mask(self.db, self.f0)
        self.report = _report(index, name, pcm, self)


def check_sample(pcm: Pcm, name: str = "sample", index: int = 0) -> SampleReport:
    """Measure one voice sample and list what is wrong with it."""
    return _Analysed(index, name, pcm).report


def _report(index: int, name: str, pcm: Pcm, a: _Analysed) -> SampleReport:
    speech_frames = int(np.count_nonzero(a.speech))
    voiced_in_speech = a.f0[a.speech]
    voiced = int(np.count_nonzero(voiced_in_speech > 0))
    peak = float(np.max(np.abs(pcm.samples), initial=0.0))
    levels = np.abs(pcm.samples).max(axis=0) if pcm.samples.size else np.zeros(0)
    clipped = float(np.mean(levels >= CLIP_LEVEL)) if levels.size else 0.0
    stats = f0_stats(voiced_in_speech)
    report = SampleReport(
        index=index,
        name=name,
        duration_s=round(pcm.duration, 3),
        speech_s=round(speech_frames * FRAME_MS / 1000, 3),
        voiced_ratio=round(voiced / speech_frames, 3) if speech_frames else 0.0,
        peak_dbfs=round(to_dbfs(peak), 2),
        clipped_fraction=round(clipped, 5),
        f0_median_hz=round(stats.median_hz, 1) if stats else None,
    )
    return report.model_copy(update={"issues": tuple(_issues(report, a))})


def _issues(r: SampleReport, a: _Analysed) -> list[SampleIssue]:
    if r.duration_s == 0 or r.peak_dbfs < SILENT_PEAK_DBFS or r.speech_s == 0:
        return [
            SampleIssue(
                code="silent", message=f"silent (peak {r.peak_dbfs:.0f} dBFS, no speech found)", blocking=True
            )
        ]
    out = []
    if r.speech_s < MIN_SPEECH_S:
        out.append(SampleIssue(
            code="too_short", blocking=True,
            message=f"too short: {r.speech_s:.1f} s of speech (at least {MIN_SPEECH_S:.0f} s; "
            f"{RECOMMENDED_SPEECH_S:.0f}–60 s recommended)",
        ))  # fmt: skip
    if r.f0_median_hz is None:
        out.append(
            SampleIssue(
                code="no_voiced_speech", message="no voiced speech found (whisper or noise?)", blocking=True
            )
        )
    if r.clipped_fraction >= CLIP_WARN:
        out.append(SampleIssue(
            code="clipped", blocking=r.clipped_fraction >= CLIP_BLOCK,
            message=f"clipped: {100 * r.clipped_fraction:.2f} % of the samples are at full scale",
        ))  # fmt: skip
    change = speaker_change(a.f0, a.speech)
    if change is not None:
        out.append(SampleIssue(code="several_speakers", message=change, blocking=True))
    return out


def build_profile(samples: Sequence[Pcm], names: Sequence[str] | None = None) -> VoiceProfile:
    """A voice profile from the usable ``samples`` (any rate and channel count).

    Raises ``NoVoiceSamplesError`` when there are none, or none is usable (each sample's reasons listed).
    """
    if not samples:
        raise NoVoiceSamplesError("There are no voice samples to build a voice profile from.")
    labels = list(names) if names is not None else [f"sample {i + 1}" for i in range(len(samples))]
    analysed = [_Analysed(i, labels[i], pcm) for i, pcm in enumerate(samples)]
    for a in analysed:
        for issue in a.report.issues:
            log.warning("voice sample %s: %s", a.report.name, issue.message)
    good = [a for a in analysed if a.report.usable]
    if not good:
        reasons = "; ".join(
            f"{a.report.name}: {', '.join(i.message for i in a.report.issues)}" for a in analysed
        )
        raise NoVoiceSamplesError(f"None of the voice samples can be used ({reasons}).")
    return _aggregate(good, tuple(a.report for a in analysed))


def _aggregate(good: list[_Analysed], reports: tuple[SampleReport, ...]) -> VoiceProfile:
    f0 = np.concatenate([a.f0[a.speech] for a in good])
    stats = f0_stats(f0)
    assert stats is not None  # every usable sample has voiced speech
    weights, envs = [], []
    for a in good:
        env = envelope_db(a.x, a.speech & (a.f0 > 0))
        if env is not None:
            envs.append(env)
            weights.append(int(np.count_nonzero(a.speech & (a.f0 > 0))))
    envelope = np.average(np.stack(envs), axis=0, weights=weights)
    speech_frames = sum(int(np.count_nonzero(a.speech)) for a in good)
    joined = np.concatenate([a.x for a in good]).astype(np.float32).reshape(1, -1)
    lufs = measure_loudness(Pcm(joined, ANALYSIS_RATE, 0.0, ANALYSIS_RATE, 1))
    return VoiceProfile(
        duration_s=round(sum(a.x.size for a in good) / ANALYSIS_RATE, 3),
        speech_s=round(speech_frames * FRAME_MS / 1000, 3),
        voiced_ratio=round(stats.voiced_frames / max(speech_frames, 1), 3),
        loudness_lufs=round(lufs, 2) if math.isfinite(lufs) else None,
        f0_median_hz=round(stats.median_hz, 2),
        f0_p5_hz=round(stats.p5_hz, 2),
        f0_p95_hz=round(stats.p95_hz, 2),
        log_f0_median=stats.log_median,
        log_f0_scale=stats.log_scale,
        envelope_db=tuple(round(float(v), 3) for v in envelope),
        formants_hz=formant_peaks(envelope),
        samples=reports,
    )


def persona_samples(store: PersonaStore, persona_id: str) -> tuple[list[Pcm], list[str]]:
    """The persona's voice samples decoded at 16 kHz mono, with their file names."""
    persona = store.get(persona_id)
    if not persona.voices:
        raise NoVoiceSamplesError(f"The persona {persona.name!r} has no voice samples.")
    pcms = [extract_audio(store.media_path(v.sha256), ANALYSIS_RATE) for v in persona.voices]
    return pcms, [v.source_name for v in persona.voices]


def profile_persona(store: PersonaStore, persona_id: str) -> VoiceProfile:
    """Build the persona's voice profile from its samples and store it under the backend ``"world"``.

    Raises ``PersonaNotFoundError`` and ``NoVoiceSamplesError``.
    """
    pcms, names = persona_samples(store, persona_id)
    profile = build_profile(pcms, names)
    hashes = [v.sha256 for v in store.get(persona_id).voices]
    store.set_voice_profile(persona_id, "world", {**profile.to_dict(), "sample_sha256": hashes})
    log.info(
        "voice profile of %s: median f0 %.1f Hz from %.1f s of speech",
        persona_id,
        profile.f0_median_hz,
        profile.speech_s,
    )
    return profile


def stored_profile(store: PersonaStore, persona_id: str) -> VoiceProfile | None:
    """The persona's stored ``world`` profile when it is current (schema version, same samples)."""
    persona = store.get(persona_id)
    data = persona.voice_profiles.get("world")
    if not data or data.get("schema_version") != PROFILE_SCHEMA_VERSION:
        return None
    if data.get("sample_sha256") != [v.sha256 for v in persona.voices]:
        return None
    return VoiceProfile.from_dict({k: v for k, v in data.items() if k != "sample_sha256"})
