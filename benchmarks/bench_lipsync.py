"""Lip-sync: per-frame cost of the offline ``mouth`` backend and of the wav2lip path at 720p, and the
offset accuracy of ``sync-check`` on audio shifted by known amounts.

Frames: ``talk_astronaut_4s.mp4`` scaled to 720x720 on a 1280x720 canvas. Baseline in the same run:
the Face Mesh fit of the same frames (what tracking costs per frame anyway). The wav2lip path runs a
generated ONNX model of the real signature (its cost is the crop, mel, paste-back; a real model adds
its own inference). The offset table renders the clip driven by the kit's female speech (phone labels
from the kit), then re-muxes the speech shifted by -6 .. +6 frames and measures each.

Run: ``.venv/bin/python benchmarks/bench_lipsync.py [--frames 60] [--no-offsets]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from layer_desktop.engine.faces import FaceAnalyzer
from layer_desktop.engine.lipsync.mel import RATE, mel_spectrogram
from layer_desktop.engine.lipsync.mouth import render_mouth
from layer_desktop.engine.lipsync.onnx_backends import Wav2LipSyncer
from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.lipsync.phonemes import read_labels
from layer_desktop.engine.lipsync.sync import overall
from layer_desktop.engine.lipsync.video import lipsync_video, sync_check
from layer_desktop.engine.lipsync.visemes import PARAMS
from layer_desktop.engine.media.audio import Pcm, extract_audio
from layer_desktop.engine.media.render import RenderSpec, render
from layer_desktop.engine.voice.audio_file import write_audio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.engine.lipsync.conftest import wav2lip_model  # noqa: E402  (the generated test model)

MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "clips" / "talk_astronaut_4s.mp4"
SPEECH = MEDIA / "audio" / "arctic_a0009_female.wav"
LABELS = MEDIA / "audio" / "arctic_a0009_phone.lab"


def frames_720p(limit: int) -> list[np.ndarray]:
    out = []
    with av.open(str(CLIP)) as container:
        for frame in container.decode(video=0):
            canvas = np.zeros((720, 1280, 3), np.uint8)
            canvas[:, 280:1000] = cv2.resize(frame.to_ndarray(format="rgb24"), (720, 720))
            out.append(canvas)
            if len(out) == limit:
                break
    return out


def median_ms(fn, items: list) -> float:  # type: ignore[no-untyped-def]
    times = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0


def cost_table(n: int) -> None:
    frames = frames_720p(n)
    analyzer = FaceAnalyzer.default(detector_range="full")
    faces = [analyzer.detect(f)[0] for f in frames]
    shapes = [np.array(PARAMS[s], np.float32) for s in "XDACBEFGH"]
    mesh = median_ms(lambda i: analyzer.fit(frames[i], faces[i]), list(range(n)))
    mouth = median_ms(
        lambda i: render_mouth(frames[i].copy(), faces[i].landmarks, shapes[i % 9]), list(range(n))
    )
    with tempfile.TemporaryDirectory() as tmp:
        samples = extract_audio(SPEECH, RATE).mono
        syncer = Wav2LipSyncer(wav2lip_model(Path(tmp) / "w.onnx"), mel_spectrogram(samples), 25.0, 0.5)
        wav2lip = median_ms(lambda i: syncer.apply(frames[i].copy(), faces[i], i), list(range(n)))
    print(f"{n} frames at 1280x720, face ~{faces[0].width:.0f} px wide")
    print(f"{'step':<34}{'ms/frame':>10}{'fps':>9}{'x mesh':>9}")
    for name, ms in (("Face Mesh fit (baseline)", mesh), ("mouth: warp + cavity + blend", mouth),
                     ("wav2lip path (generated model)", wav2lip)):  # fmt: skip
        print(f"{name:<34}{ms:>10.2f}{1000.0 / ms:>9.1f}{ms / mesh:>9.2f}")


def offset_table() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        out = work / "synced.mp4"
        options = LipSyncOptions(enabled=True)
        lipsync_video(CLIP, SPEECH, out, options, phonemes=read_labels(LABELS), work_dir=work / "w")
        speech = extract_audio(SPEECH, RATE).mono
        print(f"{'shift (frames)':>15}{'found':>8}{'confidence':>12}")
        for shift in (-6, -4, -2, 0, 2, 4, 6):
            n = abs(shift) * RATE // 25
            pad = np.zeros(n, np.float32)
            moved = (
                np.concatenate([pad, speech])[: speech.size]
                if shift > 0
                else np.concatenate([speech[n:], pad])
            )
            wav = work / f"s{shift}.wav"
            write_audio(wav, Pcm(moved[None], RATE, 0.0, RATE, 1))
            clip = work / f"s{shift}.mp4"
            render(RenderSpec(str(out), str(clip), audio=str(wav)), work_dir=work / f"r{shift}")
            found, confidence = overall(sync_check(clip, work=work / f"c{shift}"))
            print(f"{shift:>+15d}{found:>+8d}{confidence:>12.2f}")
        other = work / "other.mp4"
        render(RenderSpec(str(out), str(other), audio=str(MEDIA / "audio" / "arctic_a0007_awb.wav")),
               work_dir=work / "ro")  # fmt: skip
        found, confidence = overall(sync_check(other, work=work / "co"))
        print(f"{'unrelated':>15}{found:>+8d}{confidence:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--no-offsets", action="store_true")
    args = parser.parse_args()
    cost_table(args.frames)
    if not args.no_offsets:
        offset_table()


if __name__ == "__main__":
    main()
