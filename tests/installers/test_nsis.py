"""The Windows installer script compiles with makensis (Debian's `nsis`) against a dummy payload."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO, require_component

SCRIPT = REPO / "installers" / "windows" / "layer-desktop.nsi"


def test_the_nsis_script_compiles_into_a_windows_executable(tmp_path: Path) -> None:
    makensis = shutil.which("makensis")
    require_component("makensis", makensis is not None, "apt install nsis")
    payload = tmp_path / "layer-desktop"
    (payload / "_internal").mkdir(parents=True)
    marker = b"LAYER-DUMMY-PAYLOAD-" + b"x" * 64
    for exe in ("layer-desktop.exe", "layer.exe", "layer-engine.exe"):
        (payload / exe).write_bytes(b"MZ" + marker)
    (payload / "_internal" / "base_library.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    out = tmp_path / "LayerDesktop-0.1.0-setup.exe"
    proc = subprocess.run(
        [str(makensis), "-V2", "-DVERSION=0.1.0", f"-DPAYLOAD={payload}", f"-DOUTFILE={out}", str(SCRIPT)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = out.read_bytes()
    assert data[:2] == b"MZ" and b"PE\0\0" in data[:1024]  # a Windows PE executable
    assert b"Nullsoft" in data


def test_without_a_payload_the_script_refuses_to_compile(tmp_path: Path) -> None:
    makensis = shutil.which("makensis")
    require_component("makensis", makensis is not None, "apt install nsis")
    proc = subprocess.run(
        [str(makensis), "-V2", f"-DOUTFILE={tmp_path / 'x.exe'}", str(SCRIPT)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode != 0 and "PAYLOAD" in proc.stdout + proc.stderr
