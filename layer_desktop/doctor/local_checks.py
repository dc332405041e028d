"""Checks of this machine: the installed files, the display, the media codecs, inference, the GPU.

Each opens the real thing (a codec, a session, a window system) rather than listing it: PyAV lists
``h264_nvenc`` where it cannot open it, and onnxruntime-gpu lists CUDA where there is no GPU.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from layer_desktop.doctor.core import CheckResult
from layer_desktop.paths import app_paths, resources_dir

QT_LIBS_HINT = (
    "Install the Qt platform libraries: sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
    "libxkbcommon-x11-0 (or run with QT_QPA_PLATFORM=offscreen for a headless check)."
)
DISPLAY_PROBE = (
    "from PySide6.QtGui import QGuiApplication\n"
    "app = QGuiApplication([])\n"
    "print(app.platformName(), app.primaryScreen().size().width() if app.primaryScreen() else 0)\n"
)


def check_bundle() -> CheckResult:
    """The shipped resources are there and the app's folders are writable."""
    res = resources_dir()
    missing = [p for p in ("demo/talk_astronaut_4s.mp4", "demo/grace_hopper.jpg") if not (res / p).is_file()]
    if missing:
        return CheckResult("fail", f"shipped files missing: {', '.join(missing)}", "Reinstall Layer Desktop.")
    paths = app_paths().ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        try:
            with tempfile.NamedTemporaryFile(dir=folder):
                pass
        except OSError as exc:
            return CheckResult(
                "fail", f"{folder} is not writable: {exc.strerror}", f"Fix the permissions of {folder}."
            )
    return CheckResult(
        "ok", "shipped files present, app folders writable", details={"data": str(paths.data_dir)}
    )


def _has_screen(env: dict[str, str]) -> bool:
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM")) or (
        sys.platform in ("win32", "darwin")
    )


def _probe_argv(python: str) -> list[str]:
    """The display probe's argv: Python with the probe code, or in a frozen app `layer display-probe`."""
    if getattr(sys, "frozen", False):
        return [
            str(Path(sys.executable).with_name("layer" + (".exe" if os.name == "nt" else ""))),
            "display-probe",
        ]
    return [python, "-c", DISPLAY_PROBE]


def check_display(python: str = sys.executable, timeout: float = 20) -> CheckResult:
    """A QGuiApplication starts (in a child process: a missing xcb library aborts the process). Without
    a screen, Qt is still loaded offscreen and the missing screen is a warning."""
    env = dict(os.environ)
    headless = not _has_screen(env)
    if headless:
        env["QT_QPA_PLATFORM"] = "offscreen"
    try:
        proc = subprocess.run(
            _probe_argv(python),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return CheckResult("fail", f"the window system did not answer in {timeout:g} s", QT_LIBS_HINT)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()] or ["(no message)"]
        cause = next((ln for ln in lines if "xcb" in ln or "No module named" in ln), lines[-1])
        if "No module named" in proc.stderr:
            return CheckResult("fail", f"PySide6 is missing: {cause}", "Reinstall Layer Desktop.")
        return CheckResult("fail", f"Qt could not start: {cause}", QT_LIBS_HINT)
    platform = proc.stdout.split()[0] if proc.stdout.split() else "?"
    if headless:
        return CheckResult(
            "warn",
            "Qt loads, but there is no screen (no DISPLAY or WAYLAND_DISPLAY)",
            "Run the studio in a desktop session; the command line works without one.",
        )
    return CheckResult("ok", f"Qt starts on the '{platform}' platform")


def encode_frames(codec: str, frames: int = 8) -> int:
    """Encode ``frames`` small frames with ``codec`` into memory; the bytes written. Raises the codec's
    own error (``av.FFmpegError``, ``ValueError`` for an unknown name)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream(codec, rate=Fraction(25, 1))
        stream.width, stream.height, stream.pix_fmt = 256, 144, "yuv420p"
        for i in range(frames):
            rgb = np.full((144, 256, 3), (i * 30) % 255, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode())
    return len(buf.getvalue())


def check_media(software: str = "libx264", hardware: str = "h264_nvenc") -> CheckResult:
    """8 frames encode with the software encoder; the hardware one is opened and its error reported."""
    try:
        size = encode_frames(software)
    except Exception as exc:
        return CheckResult(
            "fail", f"{software} cannot encode: {exc}", "Reinstall Layer Desktop (PyAV's FFmpeg)."
        )
    details = {"software": f"{software}: 8 frames, {size} bytes"}
    try:
        encode_frames(hardware)
        details["hardware"] = f"{hardware}: opens and encodes"
    except Exception as exc:
        details["hardware"] = f"{hardware}: {type(exc).__name__}: {exc}"
        return CheckResult(
            "warn",
            f"{software} works; {hardware} cannot be opened (renders use the CPU)",
            "For NVENC: an NVIDIA GPU and driver (nvidia-smi) are needed.",
            details,
        )
    return CheckResult("ok", f"{software} and {hardware} encode", details=details)


def tiny_onnx() -> bytes:
    """A 1x4 float model (y = x + 1) with the real input/output convention: ``input`` → ``output``."""
    from onnx import TensorProto, helper

    one = helper.make_tensor("one", TensorProto.FLOAT, [1, 4], [1.0] * 4)
    graph = helper.make_graph(
        [helper.make_node("Add", ["input", "one"], ["output"])],
        "doctor",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
        [one],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def check_onnx() -> CheckResult:
    """A session on a tiny model with the GPU provider first; which providers it really got."""
    import onnxruntime as ort

    wanted = [
        p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()
    ]
    session = ort.InferenceSession(tiny_onnx(), providers=wanted)
    out = session.run(None, {"input": np.zeros((1, 4), np.float32)})[0]
    if not np.allclose(out, 1.0):
        return CheckResult("fail", "ONNX Runtime computed a wrong result", "Reinstall onnxruntime.")
    active = session.get_providers()
    details = {"available": ", ".join(ort.get_available_providers()), "active": ", ".join(active)}
    if "CUDAExecutionProvider" in wanted and "CUDAExecutionProvider" not in active:
        return CheckResult(
            "warn",
            "CUDA listed but the session fell back to the CPU",
            "Install the CUDA 12 and cuDNN 9 libraries that onnxruntime-gpu needs.",
            details,
        )
    return CheckResult("ok", f"ONNX Runtime {ort.__version__} on {active[0]}", details=details)


def check_litert() -> CheckResult:
    """A LiteRT interpreter runs the shipped face detector (229 KB) on a blank image."""
    from ai_edge_litert.interpreter import Interpreter

    model = resources_dir() / "models" / "face_detection_short_range.tflite"
    if not model.is_file():
        return CheckResult("fail", "the shipped face detector is missing", "Reinstall Layer Desktop.")
    interp = Interpreter(model_path=str(model))
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.zeros(inp["shape"], np.float32))
    interp.invoke()
    shapes = [tuple(int(x) for x in d["shape"]) for d in interp.get_output_details()]
    return CheckResult("ok", "LiteRT runs the face detector", details={"outputs": str(shapes)})


def nvidia_smi() -> str | None:
    """``nvidia-smi``'s path, or None."""
    return shutil.which("nvidia-smi")


def check_gpu(smi: str | None = None) -> CheckResult:
    """The NVIDIA GPU (name, driver, compute capability) against the installed ONNX Runtime."""
    smi = smi or nvidia_smi()
    if smi is None:
        return CheckResult("skip", "no NVIDIA GPU (nvidia-smi not found): the CPU does the work")
    query = "--query-gpu=name,driver_version,compute_cap"
    try:
        proc = subprocess.run(
            [smi, query, "--format=csv,noheader"], capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckResult("fail", f"nvidia-smi did not run: {exc}", "Reinstall the NVIDIA driver.")
    if proc.returncode != 0:
        err = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
        return CheckResult("fail", f"nvidia-smi failed: {err[0]}", "Reinstall or reload the NVIDIA driver.")
    name, driver, cap = (x.strip() for x in proc.stdout.splitlines()[0].split(","))
    import onnxruntime as ort

    details = {"gpu": name, "driver": driver, "compute capability": cap}
    if float(cap) < 5.0:
        return CheckResult(
            "warn",
            f"{name} (sm {cap}) is older than the CUDA wheels support (5.0+)",
            "Use the CPU or a remote GPU.",
            details,
        )
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return CheckResult(
            "warn",
            f"{name} found, but this install's ONNX Runtime is the CPU build",
            "Settings › Engine: install the GPU engine (it brings onnxruntime-gpu).",
            details,
        )
    return CheckResult("ok", f"{name}, driver {driver}, sm {cap}", details=details)


def environment() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "frozen": str(getattr(sys, "frozen", False)),
        "display": os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or "",
        "resources": str(Path(resources_dir())),
    }
