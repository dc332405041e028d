"""The Linux package as a user gets it: `apt-get install ./layer-desktop_….deb`, then the installed
commands (`layer doctor --json`, `layer demo`, `layer-desktop` on an X server), then removal.

Uses the packages in ``$LAYER_PACKAGE_DIR`` when set (CI builds them first), else builds them
(installers/build-linux, several minutes). Needs root and apt (CI), Xvfb.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import REPO, require_component

# without LAYER_PACKAGE_DIR the fixture builds the packages itself (several minutes on 2 cores)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]
BUNDLE = Path("/opt/layer-desktop")


def _packages(tmp: Path) -> Path:
    given = os.environ.get("LAYER_PACKAGE_DIR")
    out = Path(given) if given else tmp / "dist"
    if not given:
        subprocess.run([str(REPO / "installers" / "build-linux"), str(out)], check=True, timeout=3600)
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_component(
        "root + apt-get", os.geteuid() == 0 and shutil.which("apt-get") is not None, "run as root"
    )
    require_component("Xvfb", shutil.which("Xvfb") is not None, "apt install xvfb")
    out = _packages(tmp_path_factory.mktemp("pkg"))
    deb = next(out.glob("layer-desktop_*.deb"))
    assert next(out.glob("layer-desktop-*.tar.zst")).stat().st_size > 10_000_000
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", str(deb.resolve())], check=True, env=env, timeout=900)
    try:
        yield deb
    finally:
        subprocess.run(["apt-get", "remove", "-y", "-qq", "layer-desktop"], check=True, env=env, timeout=300)
        # the package's own files are gone (a developer's activated venv may still have the command)
        assert not (BUNDLE / "layer").exists() and not Path("/usr/bin/layer-desktop").exists()


def _run(args: list[str], home: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAYER_", "VIRTUAL_ENV", "PYTHON"))}
    env["LAYER_HOME"] = str(home)
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False, **kw)


def test_every_shared_library_in_the_bundle_resolves(installed: Path) -> None:
    libs = [p for p in BUNDLE.rglob("*.so*") if p.is_file()]
    assert len(libs) > 50
    unresolved = []
    for lib in libs:
        # a wheel's bundled library is found beside itself, as when its extension module loads it
        env = {**os.environ, "LD_LIBRARY_PATH": f"{lib.parent}:{BUNDLE / '_internal'}"}
        out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True, env=env, check=False).stdout
        unresolved += [f"{lib.name}: {ln.strip()}" for ln in out.splitlines() if "not found" in ln]
    assert not unresolved, unresolved


def test_installed_doctor_says_every_check_is_ok_or_explained(installed: Path, tmp_path: Path) -> None:
    proc = _run(["/usr/bin/layer", "doctor", "--json"], tmp_path)
    report = json.loads(proc.stdout)
    bad = [f for f in report["findings"] if f["status"] not in ("ok", "warn", "skip")]
    assert not bad, bad
    assert all(f["summary"] for f in report["findings"] if f["status"] in ("warn", "skip"))
    assert {f["name"]: f["status"] for f in report["findings"]}["provenance signer"] == "ok"


def test_installed_demo_renders_a_signed_marked_video(installed: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo.mp4"
    proc = _run(["/usr/bin/layer", "demo", "-o", str(out), "--watermark"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verify = _run(["/usr/bin/layer", "provenance", "verify", str(out)], tmp_path)
    assert f"{out.name}: Trusted" in verify.stdout, verify.stdout + verify.stderr
    check = _run(["/usr/bin/layer", "provenance", "check", str(out), "--frames", "10"], tmp_path)
    assert "watermark in 10 of 10" in check.stdout


def _xwd_rgb(path: Path) -> np.ndarray:
    """The screen of an Xvfb ``-fbdir`` framebuffer file (XWD, 32 bits per pixel) as RGB."""
    data = path.read_bytes()
    head = struct.unpack(">25I", data[:100])
    header_size, width, height, bpl, ncolors = head[0], head[4], head[5], head[12], head[19]
    start = header_size + 12 * ncolors
    pixels = np.frombuffer(data[start : start + bpl * height], np.uint8).reshape(height, bpl // 4, 4)
    return np.ascontiguousarray(pixels[:, :width, 2::-1])  # BGRX → RGB


def test_installed_studio_shows_a_window_on_an_x_server(installed: Path, tmp_path: Path) -> None:
    display = ":87"
    fb = tmp_path / "fb"
    fb.mkdir()
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-fbdir", str(fb), "-nolisten", "tcp"]
    )
    try:
        time.sleep(1.5)
        app = subprocess.Popen(
            ["/usr/bin/layer-desktop", "--no-engine"],
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(tmp_path),
                "LAYER_HOME": str(tmp_path),
                "DISPLAY": display,
            },
        )
        try:
            time.sleep(10)
            assert app.poll() is None, "the studio exited"
            screen = _xwd_rgb(fb / "Xvfb_screen0")
        finally:
            app.terminate()
            app.wait(20)
    finally:
        xvfb.terminate()
        xvfb.wait(20)
    artifacts = REPO / "tests" / "_artifacts"
    artifacts.mkdir(exist_ok=True)
    cv2.imwrite(str(artifacts / "installed_studio.png"), screen[:, :, ::-1])
    lit = float((screen.max(axis=2) > 40).mean())
    assert lit > 0.2, f"only {lit:.0%} of the screen is lit"
