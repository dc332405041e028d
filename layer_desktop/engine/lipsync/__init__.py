"""Lip-sync: the mouth says what the new audio says.

    make_lipsyncer(options, samples16k, fps, frames) -> LipSyncer  # .apply(rgb, face, index)
    lipsync_video(video, audio, output, options) -> LipSyncReport   # streamed, chunked render
    sync_check(video) -> list[SyncWindow]                            # offset + confidence per window
    mel_spectrogram / mel_window                                     # the ONNX models' front end

Backends: ``mouth`` (offline: phonemes → Rhubarb visemes → a warp of the lower face on the Face Mesh),
``wav2lip``/``wav2lip_gan``/``edtalk`` (ONNX from the model store), ``musetalk`` (PyTorch, CUDA GPU).
"""

from __future__ import annotations

from layer_desktop.engine.lipsync.backends import LipSyncer, MouthSyncer, make_lipsyncer
from layer_desktop.engine.lipsync.mel import mel_spectrogram, mel_window, mel_windows
from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.lipsync.sync import SyncWindow, measure_sync, mouth_opening

__all__ = [
    "LipSyncOptions",
    "LipSyncer",
    "MouthSyncer",
    "SyncWindow",
    "make_lipsyncer",
    "measure_sync",
    "mel_spectrogram",
    "mel_window",
    "mel_windows",
    "mouth_opening",
]
