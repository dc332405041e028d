"""The doctor's checks, in the order a user reads them (bottom layer first)."""

from __future__ import annotations

from layer_desktop.doctor import content_checks, local_checks, service_checks
from layer_desktop.doctor.core import Check


def all_checks() -> list[Check]:
    return [
        Check("bundle", local_checks.check_bundle, 10),
        Check("display", local_checks.check_display, 30),
        Check("media", local_checks.check_media, 30),
        Check("inference (ONNX Runtime)", local_checks.check_onnx, 30),
        Check("inference (LiteRT)", local_checks.check_litert, 30),
        Check("gpu", local_checks.check_gpu, 20),
        Check("engine", service_checks.check_engine, 90),
        Check("remote hosts", service_checks.check_remote_hosts, 10),
        Check("storage", service_checks.check_storage, 60),
        Check("keyring", service_checks.check_keyring, 15),
        Check("provenance signer", content_checks.check_signer, 30),
        Check("models", content_checks.check_models, 120),
    ]
