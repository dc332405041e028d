"""`layer transform --voice world`: the persona's voice in the output, A/V length kept, loudness on target."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pyloudnorm

from layer_desktop.cli import main

from .conftest import SHARED


def test_transform_with_voice_keeps_length_and_hits_the_loudness_target(tmp_path: Path) -> None:
    faces, audio = SHARED / "faces", SHARED / "audio"
    assert main([
        "persona", "create", "--name", "Voiced", "--face", str(faces / "grace_hopper.jpg"),
        "--voice", str(audio / "arctic_a0009_female.wav"), "--consent-by", "Public domain",
    ]) == 0  # fmt: skip
    out = tmp_path / "voiced.mp4"
    clip = SHARED / "clips" / "talk_astronaut_4s.mp4"
    args = ["--persona", "Voiced", "--video", str(clip), "-o", str(out), "--preset", "veryfast"]
    assert main(["transform", *args, "--voice", "world", "--loudness", "-18"]) == 0
    with av.open(str(out)) as c:
        video = c.streams.video[0]
        frames = sum(1 for _ in c.decode(video=0))
        fps = float(video.average_rate)
        tags = dict(c.metadata)
    with av.open(str(out)) as c:
        rate = c.streams.audio[0].sample_rate
        pcm = np.concatenate(
            [f.to_ndarray().reshape(f.to_ndarray().shape[0], -1) for f in c.decode(audio=0)], axis=1
        )
    audio_s, video_s = pcm.shape[1] / rate, frames / fps
    assert abs(audio_s - video_s) <= 1.0 / fps + 1024 / rate  # one frame (plus the AAC frame padding)
    loudness = pyloudnorm.Meter(rate).integrated_loudness(pcm.T.astype(np.float64))
    assert abs(loudness - (-18.0)) <= 1.0
    assert tags["layer_voice"] == "world"
    # and the voice really changed: the output audio is not the source's
    with av.open(str(clip)) as c:
        src = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    n = min(src.shape[1], pcm.shape[1])
    assert np.abs(src[0, :n] - pcm[0, :n]).mean() > 0.005
