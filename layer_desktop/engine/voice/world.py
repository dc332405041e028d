"""The offline ``world`` voice converter: WORLD analysis/synthesis toward a persona's voice profile.

1. Analysis at 16 kHz over the whole input: pitch (dio + stonemask, 5 ms frames), frame levels, and the
   speech regions (``vad``): only voiced speech is converted; silence, noise and everything between
   speech regions is passed through sample for sample.
2. The source speaker's statistics come from the input itself: ln f0 median and robust spread, and the
   spectral envelope, which against the profile's gives the formant ratio α.
3. Each speech region (cut at its quietest point when longer than ``max_region_s``) is analysed at the
   input's own rate with CheapTrick (envelope) and D4C (aperiodicity), reusing the 16 kHz pitch track.
   f0 is mapped in the log domain, ln f' = m_t + (ln f − m_s)·s_t/s_s (location = median, robust scale);
   the envelope is warped along frequency, sp'(f) = sp(f/α); the aperiodicity is kept. WORLD resynthesis
   is cut to the region's exact length, matched to its RMS level, and crossfaded in over 10 ms.

The output has exactly the input's sample count, rate and channels (the mid is converted; see
``dsp.with_mid``). Voiced/unvoiced decisions come from the input's track, so their timing is kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyworld

from layer_desktop.engine.media.audio import Pcm
from layer_desktop.engine.voice.analysis import envelope_db, f0_stats, formant_ratio, track_pitch
from layer_desktop.engine.voice.dsp import (
    ANALYSIS_RATE,
    F64,
    frame_db,
    mono64,
    resample,
    rms,
    runs,
    with_mid,
)
from layer_desktop.engine.voice.profile import VoiceProfile
from layer_desktop.engine.voice.vad import VadSettings, frames_to_samples, speech_frames
from layer_desktop.errors import InputError, VoiceCancelled

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (samples done, samples in all)


@dataclass(frozen=True)
class WorldSettings:
    """Options of the ``world`` converter."""

    frame_ms: float = 5.0
    shift_formants: bool = True
    formant_ratio_range: tuple[float, float] = (0.8, 1.25)
    max_region_s: float = 20.0  # longer speech regions are processed in pieces (bounded memory)
    crossfade_s: float = 0.01
    vad: VadSettings = field(default_factory=VadSettings)


@dataclass(frozen=True)
class WorldPlan:
    """What the converter will do to one input (also useful to show in the UI)."""

    regions: tuple[tuple[int, int], ...]  # sample spans at the input's rate
    f0: F64  # 16 kHz pitch track of the input, one value per frame
    source_log_f0_median: float
    source_log_f0_scale: float
    target_log_f0_median: float
    target_log_f0_scale: float
    formant_ratio: float

    def map_f0(self, f0: F64) -> F64:
        """Log-domain location/scale mapping of the voiced frames; unvoiced (0) frames stay 0."""
        out = np.zeros_like(f0)
        v = f0 > 0
        scale = self.target_log_f0_scale / self.source_log_f0_scale
        out[v] = np.exp(self.target_log_f0_median + (np.log(f0[v]) - self.source_log_f0_median) * scale)
        return out


def plan_conversion(
    pcm: Pcm, profile: VoiceProfile, settings: WorldSettings = WorldSettings()
) -> WorldPlan | None:
    """Analyse ``pcm`` and plan its conversion; None when it holds no voiced speech to convert."""
    x16 = resample(mono64(pcm), pcm.rate, ANALYSIS_RATE)
    track = track_pitch(x16, ANALYSIS_RATE, settings.frame_ms)
    db = frame_db(x16, ANALYSIS_RATE, track.f0.size, settings.frame_ms)
    speech = speech_frames(db, track.voiced, settings.vad, settings.frame_ms)
    regions16 = frames_to_samples(runs(speech), ANALYSIS_RATE, x16.size, settings.frame_ms)
    stats = f0_stats(track.f0[speech])
    if stats is None:
        return None
    ratio = 1.0
    src_env = envelope_db(x16, speech & track.voiced, settings.frame_ms)
    if settings.shift_formants and src_env is not None:
        lo, hi = settings.formant_ratio_range
        ratio = formant_ratio(src_env, np.asarray(profile.envelope_db), lo, hi)
    scale = pcm.rate / ANALYSIS_RATE
    regions = tuple((round(a * scale), min(pcm.samples.shape[1], round(b * scale))) for a, b in regions16)
    return WorldPlan(
        regions=regions,
        f0=track.f0,
        source_log_f0_median=stats.log_median,
        source_log_f0_scale=stats.log_scale,
        target_log_f0_median=profile.log_f0_median,
        target_log_f0_scale=profile.log_f0_scale,
        formant_ratio=ratio,
    )


def convert_world(
    pcm: Pcm,
    profile: VoiceProfile,
    settings: WorldSettings = WorldSettings(),
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Pcm:
    """``pcm`` spoken with the profile's pitch and formants; same sample count, rate and channels.

    Raises ``InputError`` for empty audio and ``VoiceCancelled`` when ``cancel`` is set.
    """
    n = int(pcm.samples.shape[1])
    if n == 0:
        raise InputError("There is no audio to convert (0 samples).")
    plan = plan_conversion(pcm, profile, settings)
    if plan is None:
        log.info("world: no voiced speech found; audio left as it is")
        return pcm
    log.info(
        "world: %d regions, f0 median %.0f → %.0f Hz, formant ratio %.3f",
        len(plan.regions),
        np.exp(plan.source_log_f0_median),
        np.exp(plan.target_log_f0_median),
        plan.formant_ratio,
    )
    mid = mono64(pcm)
    out = mid.copy()
    pieces = [p for region in plan.regions for p in _pieces(mid, pcm.rate, region, settings.max_region_s)]
    for a, b in pieces:
        if cancel is not None and cancel.is_set():
            raise VoiceCancelled("The voice conversion was cancelled.")
        converted = _convert_piece(mid[a:b], pcm.rate, a, plan, settings)
        out[a:b] = _crossfade_in(mid[a:b], converted, round(settings.crossfade_s * pcm.rate))
        if progress is not None:
            progress(b, n)
    return with_mid(pcm, mid, out)


def _pieces(x: F64, rate: int, region: tuple[int, int], max_s: float) -> list[tuple[int, int]]:
    """``region`` cut into pieces of at most ``max_s``, each cut at the quietest 10 ms of its last half."""
    a, b = region
    limit = max(1, round(max_s * rate))
    out = []
    while b - a > limit:
        lo, hi = a + limit // 2, a + limit
        hop = max(1, rate // 100)
        energy = np.convolve(x[lo:hi] ** 2, np.ones(hop), mode="valid")
        cut = lo + int(np.argmin(energy[::hop])) * hop + hop // 2
        out.append((a, cut))
        a = cut
    out.append((a, b))
    return out


def _convert_piece(seg: F64, rate: int, start: int, plan: WorldPlan, settings: WorldSettings) -> F64:
    frame_ms = settings.frame_ms
    frames = int(1000.0 * seg.size / rate / frame_ms) + 1
    t = np.arange(frames) * frame_ms / 1000.0
    # The 16 kHz track, read at this piece's frame times (nearest frame; both grids are 5 ms).
    index = np.round((start / rate + t) * 1000.0 / frame_ms).astype(np.int64)
    f0 = np.ascontiguousarray(plan.f0[np.clip(index, 0, plan.f0.size - 1)])
    x = np.ascontiguousarray(seg)
    sp = pyworld.cheaptrick(x, f0, t, rate)
    ap = pyworld.d4c(x, f0, t, rate)
    sp = warp_envelope(sp, plan.formant_ratio)
    y = pyworld.synthesize(np.ascontiguousarray(plan.map_f0(f0)), sp, ap, rate, frame_ms)
    y = np.asarray(y[: seg.size], dtype=np.float64)
    if y.size < seg.size:
        y = np.concatenate([y, np.zeros(seg.size - y.size)])
    level_in, level_out = rms(seg), rms(y)
    if level_out > 0:
        y *= float(np.clip(level_in / level_out, 0.25, 4.0))
    return y


def warp_envelope(sp: F64, ratio: float) -> F64:
    """Stretch each frame's envelope along frequency: out(f) = sp(f / ratio), interpolated in log."""
    if abs(ratio - 1.0) < 1e-6:
        return sp
    bins = sp.shape[1]
    src = np.arange(bins) / ratio
    i0 = np.clip(np.floor(src).astype(np.int64), 0, bins - 1)
    i1 = np.clip(i0 + 1, 0, bins - 1)
    frac = np.clip(src - i0, 0.0, 1.0)[np.newaxis, :]
    log_sp = np.log(np.maximum(sp, 1e-300))
    warped = np.exp(log_sp[:, i0] * (1 - frac) + log_sp[:, i1] * frac)
    return np.ascontiguousarray(warped)


def _crossfade_in(original: F64, converted: F64, width: int) -> F64:
    """``converted``, faded in from and out to ``original`` over ``width`` samples at each end."""
    width = min(width, original.size // 2)
    if width <= 0:
        return converted
    w = np.ones(original.size)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, width))
    w[:width] = ramp
    w[-width:] = ramp[::-1]
    return np.asarray(original * (1 - w) + converted * w, dtype=np.float64)
