"""`layer doctor`: one check per layer of the app (bundle, display, media, inference, GPU, engine, remote
hosts, storage, keyring, provenance, models), each isolated and timed out, with a fix hint."""

from __future__ import annotations

from layer_desktop.doctor.core import Check, CheckResult, DoctorReport, run_checks

__all__ = ["Check", "CheckResult", "DoctorReport", "run_checks"]
