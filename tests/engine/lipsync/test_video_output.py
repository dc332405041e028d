"""`lipsync_video` checks where it writes before any work: never over its own video or audio, one writer
per output. (Found by hand: `layer lipsync -o` naming the input video rewrote the source in place.)"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from layer_desktop.engine.lipsync.video import lipsync_video, sync_check
from layer_desktop.engine.media.preflight import hold_output
from layer_desktop.errors import MediaNotFoundError, OutputInUseError, OutputPlaceError


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def inputs(media_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    video = tmp_path / "clip.mp4"
    audio = tmp_path / "speech.wav"
    shutil.copy(media_dir / "clips" / "talk_astronaut_4s.mp4", video)
    shutil.copy(media_dir / "audio" / "arctic_a0007_awb.wav", audio)
    return video, audio


def test_the_output_may_not_be_the_video_or_the_audio(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    video, audio = inputs
    before = _sha(video), _sha(audio)
    with pytest.raises(OutputPlaceError, match="is the input file"):
        lipsync_video(video, audio, video, work_dir=tmp_path / "work")
    link = tmp_path / "same.mp4"
    link.hardlink_to(video)  # another name, the same file
    with pytest.raises(OutputPlaceError, match="is the input file"):
        lipsync_video(video, audio, link, work_dir=tmp_path / "work")
    with pytest.raises(OutputPlaceError, match="is the input file"):
        lipsync_video(video, audio, audio, work_dir=tmp_path / "work")
    assert (_sha(video), _sha(audio)) == before
    assert not (tmp_path / "work").exists()  # refused before any work


def test_a_second_writer_of_the_same_output_is_refused(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    video, audio = inputs
    out = tmp_path / "out.mp4"
    with hold_output(out), pytest.raises(OutputInUseError):
        lipsync_video(video, audio, out, work_dir=tmp_path / "work")
    assert not out.exists()


def test_sync_check_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError, match="does not exist"):
        sync_check(tmp_path / "gone.mp4", work=tmp_path / "work")
