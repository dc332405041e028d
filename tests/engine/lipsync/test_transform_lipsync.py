"""`layer transform --lipsync mouth --audio FILE`: the output says the new track, in sync, with review
records; a spliced re-render of a range gives the same frames."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import av
import numpy as np
import pytest

from layer_desktop.cli import main
from layer_desktop.engine.lipsync.sync import overall
from layer_desktop.engine.lipsync.video import sync_check
from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.engine.media.reader import FrameReader
from layer_desktop.engine.pipeline import load_job, rerender_job
from tests.conftest import SHARED_MEDIA, require_component

pytestmark = pytest.mark.slow

CLIP = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
SPEECH = SHARED_MEDIA / "audio" / "arctic_a0009_female.wav"
SAID = "He turned sharply, and faced Gregson across the table."


def _frames(path: Path, first: int, last: int) -> np.ndarray:
    with FrameReader(path) as r:
        return np.stack([r.frame_at(i).image for i in range(first, last + 1)]).astype(int)


def test_a_dub_with_lipsync_writes_the_new_track_in_sync(tmp_path: Path) -> None:
    require_component(
        "pocketsphinx", importlib.util.find_spec("pocketsphinx") is not None, "pip install pocketsphinx"
    )
    assert main([
        "persona", "create", "--name", "Grace", "--face", str(SHARED_MEDIA / "faces" / "grace_hopper.jpg"),
        "--consent-by", "Public domain",
    ]) == 0  # fmt: skip
    out = tmp_path / "dub.mp4"
    args = [
        "--persona",
        "Grace",
        "--video",
        str(CLIP),
        "-o",
        str(out),
        "--preset",
        "veryfast",
        "--chunk-frames",
        "25",
    ]
    assert main(["transform", *args, "--audio", str(SPEECH), "--lipsync", "mouth", "--transcript", SAID]) == 0

    # the audio is the new track, at the source's rate and channels and exactly its length
    source = extract_audio(CLIP, 48_000, channels=2)
    with av.open(str(out)) as c:
        stream = c.streams.audio[0]
        assert (stream.sample_rate, stream.codec_context.channels) == (48_000, 2)
    got = extract_audio(out, 16_000).mono
    want = extract_audio(SPEECH, 16_000).mono
    assert abs(extract_audio(out, 48_000, channels=2).samples.shape[1] - source.samples.shape[1]) <= 1024
    n = min(got.size, want.size)
    assert np.corrcoef(got[:n], want[:n])[0, 1] > 0.95

    offset, confidence = overall(sync_check(out, work=tmp_path / "sc"))
    assert abs(offset) <= 1 and confidence > 0.2

    job = load_job(out)
    records = job.records
    assert len(records) == 100 and all(r.av_offset is not None for r in records)
    assert all("lipsync" in r.ms for r in records if r.faces_found)
    assert not any("mouth_in_silence" in r.flags for r in records)

    before = _frames(out, 30, 49)
    rerender_job(job.job_id, 30, 49, store=None)
    assert np.abs(_frames(out, 30, 49) - before).max() <= 3  # the same mouth in the spliced range


def test_a_script_is_spoken_by_the_persona_and_drives_the_mouth(tmp_path: Path) -> None:
    from layer_desktop.engine.voice.espeak import find_library

    require_component("libespeak-ng", find_library() is not None, "apt-get install espeak-ng")
    assert main([
        "persona", "create", "--name", "Sally", "--face", str(SHARED_MEDIA / "faces" / "grace_hopper.jpg"),
        "--voice", str(SPEECH), "--consent-by", "Public domain",
    ]) == 0  # fmt: skip
    out = tmp_path / "script.mp4"
    args = ["--persona", "Sally", "--video", str(CLIP), "-o", str(out), "--preset", "veryfast"]
    assert main(["transform", *args, "--lipsync", "mouth", "--script", "Bob may pop by."]) == 0
    job = load_job(out)
    assert (job.folder / "script.wav").is_file()
    spoken = extract_audio(out, 16_000).mono
    source = extract_audio(CLIP, 16_000).mono
    assert abs(spoken.size - source.size) <= 1024 // 3  # the source's length (AAC padding aside)
    level = [float(np.sqrt(np.mean(spoken[i : i + 8000] ** 2))) for i in range(0, 64_000, 8000)]
    assert max(level[:3]) > 0.01 and level[-1] < 0.001  # a short line, then silence to the end
    offset, _ = overall(sync_check(out, work=tmp_path / "sc"))
    assert abs(offset) <= 1
