"""Checks of this machine, each on its ok path and its failure path (with the right hint)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from layer_desktop.doctor import local_checks as lc


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_bundle_ok() -> None:
    r = lc.check_bundle()
    assert r.status == "ok", r
    assert Path(r.details["data"]).is_dir()


def test_bundle_fails_on_an_unwritable_folder(layer_home: Path) -> None:
    if os.geteuid() == 0:
        # root writes anywhere: make the data folder a file instead
        (layer_home / "data").parent.mkdir(parents=True, exist_ok=True)
        (layer_home / "data").write_text("not a folder")
        with pytest.raises(FileExistsError):
            lc.check_bundle()
        return
    (layer_home / "data").mkdir(parents=True)
    (layer_home / "data").chmod(0o500)
    r = lc.check_bundle()
    assert r.status == "fail" and "permissions" in r.hint


def test_display_without_a_screen_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    r = lc.check_display()
    assert r.status == "warn" and "desktop session" in r.hint


def test_display_with_pyside6_missing_says_reinstall(tmp_path: Path) -> None:
    # -S: no site-packages, so PySide6 cannot be imported (as in a broken bundle)
    python = _script(tmp_path / "python", f'exec {sys.executable} -S -I "$@"')
    r = lc.check_display(python)
    assert r.status == "fail" and "PySide6 is missing" in r.summary and r.hint == "Reinstall Layer Desktop."


def test_display_that_cannot_open_names_the_xcb_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":97")  # no X server there
    r = lc.check_display()
    assert r.status == "fail" and "libxcb-cursor0" in r.hint
    assert "xcb" in r.summary


def test_media_encodes_and_reports_nvencs_own_error() -> None:
    r = lc.check_media()
    assert r.status in ("ok", "warn")
    assert r.details["software"].startswith("libx264: 8 frames, ")
    if r.status == "warn":
        assert r.details["hardware"].startswith("h264_nvenc: ") and "avcodec_open2" in r.details["hardware"]


def test_media_with_a_missing_encoder_fails() -> None:
    r = lc.check_media(software="libnotanencoder")
    assert r.status == "fail" and "libnotanencoder cannot encode" in r.summary and "PyAV" in r.hint


def test_onnx_session_runs_and_names_its_active_provider() -> None:
    r = lc.check_onnx()
    assert r.status == "ok"
    assert "CPUExecutionProvider" in r.details["active"]


def test_litert_runs_the_shipped_detector() -> None:
    r = lc.check_litert()
    assert r.status == "ok" and r.details["outputs"] == "[(1, 896, 16), (1, 896, 1)]"


def test_gpu_without_nvidia_smi_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lc, "nvidia_smi", lambda: None)
    assert lc.check_gpu().status == "skip"


def test_gpu_with_a_broken_driver_fails_with_the_drivers_message(tmp_path: Path) -> None:
    msg = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    smi = _script(tmp_path / "nvidia-smi", f'echo "{msg}"; exit 9')
    r = lc.check_gpu(smi)
    assert r.status == "fail" and msg in r.summary and "driver" in r.hint


def test_gpu_found_with_the_cpu_onnxruntime_says_install_the_gpu_engine(tmp_path: Path) -> None:
    import onnxruntime as ort

    smi = _script(tmp_path / "nvidia-smi", 'echo "NVIDIA GeForce RTX 3060, 550.54.14, 8.6"')
    r = lc.check_gpu(smi)
    assert r.details == {"gpu": "NVIDIA GeForce RTX 3060", "driver": "550.54.14", "compute capability": "8.6"}
    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert r.status == "ok"
    else:
        assert r.status == "warn" and "GPU engine" in r.hint
