"""What this engine can do right now: devices, the ONNX Runtime providers a session really gets, the
models present, and the backends usable with them."""

from __future__ import annotations

import functools
import platform
from typing import get_args

from layer_desktop import __version__
from layer_desktop.engine.media.encode import OutputSettings, choose_encoder
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.models.pool import CPU, CUDA
from layer_desktop.engine.server.schemas import Capabilities
from layer_desktop.engine.swap.registry import GFPGAN_MODEL, INSWAPPER_MODEL
from layer_desktop.engine.voice.backends import SpeechBackendName, VoiceBackendName


@functools.cache
def provider_check() -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(available, active, fallback reason): a one-node model is opened with CUDA first when the build
    offers it, and ``get_providers()`` tells what the session really got."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    available = tuple(ort.get_available_providers())
    wanted = [CUDA, CPU] if CUDA in available else [CPU]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=wanted)
    active = tuple(session.get_providers())
    fallback = None
    if CUDA in available and CUDA not in active:
        fallback = (
            "ONNX Runtime's GPU build could not use CUDA (driver, CUDA or cuDNN missing): running on CPU"
        )
    elif CUDA not in available:
        fallback = "this ONNX Runtime build has no CUDA provider: running on CPU"
    return available, active, fallback


def capabilities(models: ModelStore, allowed_roots: list[str]) -> Capabilities:
    available, active, fallback = provider_check()
    present = sorted(s.spec.id for s in models.statuses() if s.present)
    swap = ["landmark"] + (["inswapper"] if INSWAPPER_MODEL in present else [])
    encoder = choose_encoder(OutputSettings())
    devices = ["cpu"] + (["cuda:0"] if CUDA in active else [])
    return Capabilities(
        version=__version__,
        python=platform.python_version(),
        devices=devices,
        providers_available=list(available),
        providers_active=list(active),
        provider_fallback=fallback,
        encoder=encoder.name,
        hardware_encoder_fallback=encoder.fallback_reason,
        models=present,
        backends={
            "detector": ["short", "full"],
            "swap": swap,
            "enhancer": ["gfpgan"] if GFPGAN_MODEL in present else [],
            "voice": list(get_args(VoiceBackendName)),
            "speech": list(get_args(SpeechBackendName)),
        },
        allowed_roots=allowed_roots,
    )
