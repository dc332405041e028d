"""Typed lip-sync options: which backend, how strongly, and what drives it."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from layer_desktop.errors import InputError

LipSyncBackendName = Literal["mouth", "wav2lip", "wav2lip_gan", "edtalk", "musetalk"]
BACKENDS: tuple[str, ...] = get_args(LipSyncBackendName)


class LipSyncOptions(BaseModel):
    """``mouth`` is the offline default (no weights); ``wav2lip``/``wav2lip_gan``/``edtalk`` run ONNX
    models from the model store; ``musetalk`` needs a CUDA GPU and the ``neural`` extra.

    The driving audio is the output's audio (the converted voice, a replacement ``--audio`` track, or
    ``script`` spoken by the persona's voice); ``transcript`` (what is said, English) lets the mouth
    backend align phonemes with pocketsphinx.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    backend: LipSyncBackendName = "mouth"
    strength: float = Field(default=1.0, ge=0.0, le=1.0)
    weight: float = Field(default=0.5, ge=0.0, le=1.0)  # the ONNX models' audio weight
    script: str | None = None
    transcript: str | None = None


def segment_lipsync(value: str | None, base: LipSyncOptions) -> LipSyncOptions | None:
    """A segment's lip-sync from a ``lipsync=VALUE`` change (``on``, ``off`` or a backend name; None
    keeps the job's). Raises ``InputError`` for anything else."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in ("off", "false", "0", "no"):
        return base.model_copy(update={"enabled": False})
    if text in ("on", "true", "1", "yes"):
        return base.model_copy(update={"enabled": True})
    if text in BACKENDS:
        return base.model_copy(update={"enabled": True, "backend": text})
    raise InputError(
        f"'{value}' is not a lip-sync setting.", hint=f"Use on, off or one of {', '.join(BACKENDS)}."
    )
