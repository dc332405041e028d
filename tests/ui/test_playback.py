"""Playback: the audio device's clock picks the frame (sound and picture in sync), J/K/L shuttle,
and playing stops at the end; sound goes through a real miniaudio device (its null backend here)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.ui.document import MediaDocument
from layer_desktop.ui.playback import Player
from layer_desktop.ui.tasks import TaskManager
from tests.conftest import SHARED_MEDIA

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"


@pytest.fixture
def player(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LAYER_AUDIO_BACKEND", "null")
    tasks = TaskManager()
    doc = MediaDocument(tasks)
    p = Player(doc)
    doc.open(TALK)
    qtbot.waitUntil(lambda: doc.frame_count > 0 and len(p.audio.pcm) > 0, timeout=20_000)
    yield p
    p.pause()
    tasks.shutdown()
    doc.close()


def test_normal_speed_follows_the_audio_clock(qtbot: QtBot, player: Player) -> None:
    doc = player.document
    fps = doc.info.video.avg_fps  # type: ignore[union-attr]
    player.play(1.0)
    assert player.audio.playing, "the null audio device should open"
    qtbot.waitUntil(lambda: player.audio.position() > 0.5, timeout=10_000)
    # the frame the clock asks for is the audio position in frames (the sync rule), not a guess
    played = player.audio.position()
    assert abs(player.target_frame() - round(played * fps)) <= 1
    qtbot.waitUntil(lambda: doc.current >= 10, timeout=10_000)
    player.pause()
    assert not player.audio.playing and player.speed == 0.0


def test_jkl_shuttle_doubles_and_reverses(qtbot: QtBot, player: Player) -> None:
    player.shuttle(+1)
    assert player.speed == 1.0
    player.shuttle(+1)
    assert player.speed == 2.0 and not player.audio.playing  # fast play is muted
    player.shuttle(-1)
    assert player.speed == -1.0
    player.pause()
    assert player.speed == 0.0


def test_playing_to_the_end_stops_on_the_last_frame(qtbot: QtBot, player: Player) -> None:
    doc = player.document
    doc.request_frame(doc.frame_count - 10)
    qtbot.waitUntil(lambda: doc.current == doc.frame_count - 10, timeout=10_000)
    player.play(8.0)
    qtbot.waitUntil(lambda: not player.playing, timeout=10_000)
    qtbot.waitUntil(lambda: doc.current == doc.frame_count - 1, timeout=10_000)
