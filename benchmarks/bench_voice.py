"""Voice conversion speed: the offline ``world`` converter as a real-time factor (audio seconds per
second of processing) on this CPU, best of ``--repeat`` runs.                         target ≥ 5×

Input: the male CMU ARCTIC clip (speech with pauses) repeated to ``--seconds``, converted toward the
female clip's profile; at 16 kHz mono (the analysis rate) and at 48 kHz stereo (a video's audio track).

Usage: python benchmarks/bench_voice.py [--seconds 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.voice import build_profile, convert_world, plan_conversion

REPO = Path(__file__).resolve().parent.parent
AUDIO = REPO.parent / "shared" / "media" / "audio"
TARGET_RTF = 5.0


def best_of(repeat: int, pcm: Pcm, profile: object) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        convert_world(pcm, profile)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    male = extract_audio(AUDIO / "arctic_a0007_awb.wav", 16_000)
    profile = build_profile([extract_audio(AUDIO / "arctic_a0009_female.wav", 16_000)])
    reps = max(1, round(args.seconds / male.duration))
    x16 = np.tile(male.mono, reps)
    x48 = resample_poly(x16.astype(np.float64), 3, 1).astype(np.float32)
    cases = {
        "16 kHz mono": Pcm(x16.reshape(1, -1), 16_000, 0.0, 16_000, 1),
        "48 kHz stereo": Pcm(np.stack([x48, x48]), 48_000, 0.0, 48_000, 2),
    }
    plan = plan_conversion(cases["16 kHz mono"], profile)
    speech = sum(b - a for a, b in plan.regions) / 16_000 if plan else 0.0
    print(
        f"input: {x16.size / 16_000:.1f} s ({speech:.1f} s inside speech regions), "
        "WORLD frames 5 ms, dio+stonemask"
    )
    for name, pcm in cases.items():
        convert_world(pcm, profile)  # warm-up
        seconds = best_of(args.repeat, pcm, profile)
        rtf = pcm.duration / seconds
        verdict = "ok" if rtf >= TARGET_RTF else "BELOW TARGET"
        print(f"world {name:14s} {seconds:6.2f} s for {pcm.duration:.1f} s audio   {rtf:5.1f}× real time   "
              f"(target ≥ {TARGET_RTF:.0f}×: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
