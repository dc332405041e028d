"""Play/pause with J/K/L shuttle: the clock picks the frame, the document decodes the newest one.

At normal speed forward the clock is the audio device's (sound and picture stay in sync; a frame that
decodes late is skipped, never the sound); at other speeds, or without sound, it is the wall clock
and the audio is muted. The GUI thread only asks for frames — decoding stays on the task manager.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from layer_desktop.engine.media.audio import extract_audio
from layer_desktop.errors import NoAudioStreamError
from layer_desktop.ui.audio_out import RATE, AudioOut, to_pcm16
from layer_desktop.ui.document import MediaDocument

log = logging.getLogger(__name__)

MAX_SPEED = 8.0
TICK_MS = 8


class Player(QObject):
    state_changed = Signal(float)  # the speed: 0 paused, 1 play, 2/4/8 fast, negative backwards

    def __init__(self, document: MediaDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.speed = 0.0
        self.audio = AudioOut(np.zeros((0, 2), np.int16))
        self._pcm_start = 0.0  # stream time of the first sample
        self._origin_frame = 0
        self._origin_time = 0.0
        self._with_sound = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        document.opened.connect(self._load_audio)

    @property
    def playing(self) -> bool:
        return self.speed != 0.0

    def _fps(self) -> float:
        info = self.document.info
        return float(info.video.avg_fps) if info and info.video and info.video.avg_fps else 25.0

    def _load_audio(self, _info: object) -> None:
        self.pause()
        self.audio = AudioOut(np.zeros((0, 2), np.int16))
        path = self.document.path
        if path is not None:
            self.document.tasks.run(lambda: _load_pcm(path), self._audio_loaded, self._no_audio, heavy=False)

    def _audio_loaded(self, loaded: tuple[np.ndarray, float]) -> None:
        pcm, self._pcm_start = loaded
        self.audio = AudioOut(pcm)

    def _no_audio(self, exc: BaseException) -> None:
        log.info("playback without sound: %s", exc)

    # ------------------------------------------------------------------ transport
    def play(self, speed: float = 1.0) -> None:
        """Play from the current frame at ``speed`` (negative: backwards)."""
        if not self.document.frame_count:
            return
        self.audio.stop()
        self.speed = max(-MAX_SPEED, min(MAX_SPEED, speed))
        start = self.document.current
        if self.speed > 0 and start >= self.document.frame_count - 1:
            start = 0  # play at the end starts over, as in every player
            self.document.request_frame(0)
        self._origin_frame, self._origin_time = start, time.monotonic()
        self._with_sound = False
        if self.speed == 1.0 and len(self.audio.pcm):
            first = round((start / self._fps() - self._pcm_start) * RATE)
            self._with_sound = self.audio.start(first)
        self._timer.start()
        self.state_changed.emit(self.speed)

    def pause(self) -> None:
        self.audio.stop()
        self._timer.stop()
        if self.speed != 0.0:
            self.speed = 0.0
            self.state_changed.emit(0.0)

    def toggle(self) -> None:
        """Space: play at normal speed, or pause."""
        self.pause() if self.playing else self.play(1.0)

    def shuttle(self, direction: int) -> None:
        """L (+1) / J (-1): start in that direction, or double the speed while already going that way."""
        if self.speed * direction > 0:
            self.play(self.speed * 2)
        else:
            self.play(float(direction))

    # ------------------------------------------------------------------ clock
    def elapsed(self) -> float:
        """Seconds of media played since ``play``: the audio clock when sound plays, else the wall clock."""
        if self._with_sound:
            return self.audio.position()
        return (time.monotonic() - self._origin_time) * abs(self.speed)

    def target_frame(self) -> int:
        step = round(self.elapsed() * self._fps())
        return self._origin_frame + (step if self.speed > 0 else -step)

    def _tick(self) -> None:
        target, last = self.target_frame(), self.document.frame_count - 1
        # only the end it plays towards stops it: playing forward from frame 0, the first tick (8 ms
        # later) still asks for frame 0 and used to stop playback there
        if (target >= last and self.speed > 0) or (target <= 0 and self.speed < 0):
            self.document.request_frame(max(0, min(target, last)))
            self.pause()
        elif target != self.document.requested:
            self.document.request_frame(target)


def _load_pcm(path: Path) -> tuple[np.ndarray, float]:
    try:
        pcm = extract_audio(path, RATE, channels=2)
    except NoAudioStreamError:
        return np.zeros((0, 2), np.int16), 0.0
    return to_pcm16(pcm.samples), pcm.start
