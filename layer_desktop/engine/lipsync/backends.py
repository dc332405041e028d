"""``LipSyncer``: one interface, backends chosen by ``LipSyncOptions.backend``.

    make_lipsyncer(options, samples16k, fps, frames, phonemes=(), models=None, on_licence=None)

``mouth`` needs no weights; the ONNX backends take their model from the model store (a missing model
raises ``ModelNotFoundError`` naming ``layer models fetch <id>``); a non-commercial licence is passed to
``on_licence`` (and logged) before the model is first used. ``musetalk`` needs a CUDA GPU and the
``neural`` extra.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from layer_desktop.engine.faces.types import Face, ImageRGB
from layer_desktop.engine.lipsync.driver import MouthTrack, mouth_track
from layer_desktop.engine.lipsync.mel import mel_spectrogram
from layer_desktop.engine.lipsync.mouth import MouthFrame, render_mouth
from layer_desktop.engine.lipsync.onnx_backends import EdTalkSyncer, Wav2LipSyncer
from layer_desktop.engine.lipsync.options import LipSyncOptions
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.models.manifest import ModelSpec
from layer_desktop.engine.voice.speech import Timing
from layer_desktop.errors import ModelError

log = logging.getLogger(__name__)

MODEL_IDS = {"wav2lip": "wav2lip_96", "wav2lip_gan": "wav2lip_gan_96", "edtalk": "edtalk_256"}
MUSETALK_MODELS = ("musetalk_unet_1.5", "sd_vae_ft_mse", "whisper_tiny")
LicenceNotice = Callable[[ModelSpec], None]


class LipSyncer(Protocol):
    """Moves the mouth of ``face`` in the upright frame ``rgb`` (in place) to frame ``index``'s sound."""

    name: str

    def apply(self, rgb: ImageRGB, face: Face, index: int) -> MouthFrame | None: ...


class MouthSyncer:
    """The offline backend: visemes → mouth parameters → a warp of the lower face."""

    name = "mouth"

    def __init__(self, track: MouthTrack, strength: float = 1.0) -> None:
        self.track, self.strength = track, strength

    def params(self, index: int) -> NDArray[np.float32]:
        """Frame ``index``'s (open, width, pucker); past the audio's end the mouth rests."""
        if 0 <= index < len(self.track.params):
            return np.asarray(self.track.params[index], np.float32)
        return np.zeros(3, np.float32)

    def apply(self, rgb: ImageRGB, face: Face, index: int) -> MouthFrame | None:
        if face.landmarks is None:
            return None
        return render_mouth(rgb, face.landmarks, self.params(index), self.strength)


class MuseTalkSyncer:
    """MuseTalk 1.5 (PyTorch: UNet + sd-vae + whisper-tiny, 256-px lower half inpainted in one step)."""

    name = "musetalk"

    def __init__(self, models: ModelStore) -> None:
        check_musetalk_runtime()
        self.paths = [models.verify(m) for m in MUSETALK_MODELS]
        raise ModelError(
            "The MuseTalk runner is not part of this build yet.",
            hint="Use the mouth, wav2lip or edtalk backend.",
        )

    def apply(self, rgb: ImageRGB, face: Face, index: int) -> MouthFrame | None:  # pragma: no cover
        raise NotImplementedError


def check_musetalk_runtime() -> None:
    """Raise ``ModelError`` unless torch with a CUDA GPU is available."""
    if importlib.util.find_spec("torch") is None:
        raise ModelError(
            "MuseTalk needs a CUDA GPU and the neural extra (PyTorch), which is not installed.",
            hint="pip install 'layer-desktop[neural]' on a machine with an NVIDIA GPU, "
            "or use --backend mouth.",
        )
    torch = importlib.import_module("torch")
    if not torch.cuda.is_available():
        raise ModelError(
            "MuseTalk needs a CUDA GPU and the neural extra; no CUDA GPU is available here.",
            hint="Run it on a machine with an NVIDIA GPU, or use --backend mouth.",
        )


def _model_path(model_id: str, models: ModelStore, on_licence: LicenceNotice | None) -> str:
    path = models.resolve(model_id)
    spec = models.manifest.get(model_id)
    if not spec.licence.commercial_use:
        log.warning("%s: licence %s", model_id, spec.licence.summary())
        if on_licence is not None:
            on_licence(spec)
    return str(path)


def make_lipsyncer(
    options: LipSyncOptions,
    samples: NDArray[np.floating],
    fps: float,
    frames: int,
    *,
    phonemes: Sequence[Timing] = (),
    models: ModelStore | None = None,
    on_licence: LicenceNotice | None = None,
) -> LipSyncer:
    """The backend ``options`` names, driven by 16 kHz mono ``samples`` for ``frames`` frames at ``fps``.
    Raises ``ModelNotFoundError``, ``ModelError`` (MuseTalk without GPU) or ``AlignmentError``."""
    if options.backend == "mouth":
        track = mouth_track(samples, fps, frames, phonemes=phonemes, transcript=options.transcript)
        log.info("mouth backend driven by %s", track.source)
        return MouthSyncer(track, options.strength)
    models = models or ModelStore()
    if options.backend == "musetalk":
        return MuseTalkSyncer(models)
    path = _model_path(MODEL_IDS[options.backend], models, on_licence)
    mel = mel_spectrogram(samples)
    if options.backend == "edtalk":
        return EdTalkSyncer(path, mel, fps, options.weight)
    return Wav2LipSyncer(path, mel, fps, options.weight)
