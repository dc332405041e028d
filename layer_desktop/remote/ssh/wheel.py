"""The app's own wheel, built from its checkout (so the host runs exactly this code), cached by the
source's content: a rebuild only when a file of the package changed."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import layer_desktop
from layer_desktop.errors import RemoteCommandError
from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)


def checkout_root() -> Path | None:
    root = Path(layer_desktop.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def source_digest(root: Path) -> str:
    h = hashlib.sha256()
    files = [root / "pyproject.toml", *sorted((root / "layer_desktop").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def app_wheel(cache: Path | None = None) -> Path | None:
    """The wheel of this checkout (built once per content), or None when the app is not a checkout."""
    root = checkout_root()
    if root is None:
        return None
    folder = (cache or app_paths().cache_dir / "wheels") / source_digest(root)
    built = sorted(folder.glob("layer_desktop-*.whl"))
    if built:
        return built[-1]
    folder.mkdir(parents=True, exist_ok=True)
    log.info("building the app's wheel from %s", root)
    with tempfile.TemporaryDirectory() as tmp:
        # from a clean copy: an in-tree build/ keeps files deleted since and would ship them
        src = Path(tmp) / "src"
        shutil.copytree(
            root / "layer_desktop", src / "layer_desktop", ignore=shutil.ignore_patterns("__pycache__")
        )
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, src / name)
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(src)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    built = sorted(folder.glob("layer_desktop-*.whl"))
    if done.returncode != 0 or not built:
        raise RemoteCommandError(f"Building the app's wheel failed: {done.stderr.strip()[-800:]}")
    return built[-1]
