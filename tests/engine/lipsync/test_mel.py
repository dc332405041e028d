"""The mel front end of the wav2lip / EDTalk models: shapes, frame windows, silence, no index wrap."""

from __future__ import annotations

import numpy as np

from layer_desktop.engine.lipsync.mel import (
    N_MELS,
    RATE,
    SILENCE,
    mel_spectrogram,
    mel_window,
    mel_windows,
    window_start,
)


def _tone(seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_an_11_2_s_clip_at_25_fps_gives_280_windows_of_80_by_16() -> None:
    windows = mel_windows(_tone(11.2), 25.0)
    assert windows.shape == (280, 80, 16)
    assert windows.dtype == np.float32
    assert windows.min() >= -4.0 and windows.max() <= 4.0
    mel = mel_spectrogram(_tone(11.2))
    assert mel.shape[0] == N_MELS and mel.shape[1] == 11.2 * 80 + 1  # centred frames: one per hop + 1
    assert np.array_equal(windows[7], mel[:, 22:38])  # frame 7 starts at int(7 * 80 / 25) = 22


def test_a_tone_lights_its_own_mel_band_and_silence_is_minus_four() -> None:
    mel = mel_spectrogram(np.concatenate([_tone(1.0, 1000.0), np.zeros(RATE, np.float32)]))
    loud = mel[:, 10:70].mean(axis=1)
    assert 20 < int(np.argmax(loud)) < 40  # 1 kHz sits in the lower-middle of 55–7600 Hz (HTK mel)
    assert np.all(mel[:, 100:150] == SILENCE)
    assert np.all(mel_spectrogram(np.zeros(RATE, np.float32)) == SILENCE)


def test_frames_past_409_6_s_get_their_own_window_not_a_wrapped_one() -> None:
    # int16 column indices wrap at 32768 columns = 409.6 s; frame 10250 at 25 fps starts at column 32800
    assert window_start(10250, 25.0) == 32800
    assert window_start(np.array([10250, 12000]), 25.0).dtype == np.int64
    columns = 33_000
    mel = np.tile(np.arange(columns, dtype=np.float32), (N_MELS, 1))  # each column holds its index
    window = mel_window(mel, 10250, 25.0)
    assert window.shape == (80, 16)
    assert np.array_equal(window[0], np.arange(32800, 32816, dtype=np.float32))


def test_frames_past_the_audio_are_silence_and_fractional_rates_floor() -> None:
    mel = mel_spectrogram(_tone(1.0))
    tail = mel_window(mel, 24, 25.0)  # starts at column 76 of 81: 5 real columns, then silence
    assert np.array_equal(tail[:, :5], mel[:, 76:81]) and np.all(tail[:, 5:] == SILENCE)
    assert window_start(1, 29.97) == 2  # int(80 / 29.97) = int(2.669)
    assert window_start(3, 30000 / 1001) == 8
