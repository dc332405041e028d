"""Ray is an optional extra: the engine, the CLI and the studio start without loading it (an engine
started with --cluster loads it in its first cluster job, tests/remote/ssh/test_ray_cluster.py)."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "layer_desktop.engine.server.cli", "layer_desktop.engine.server.app",
    "layer_desktop.engine.server.runner", "layer_desktop.cli", "layer_desktop.cli.cluster",
    "layer_desktop.remote.ssh.session", "layer_desktop.ui.main_window",
]  # fmt: skip
RUNNER = "layer_desktop.engine.cluster.runner"


def test_importing_does_not_load_ray() -> None:
    """Each module in a fresh process of its own would take a second apiece: one process imports them
    one by one and reports after each."""
    code = (
        "import importlib, sys\n"
        f"for m in {MODULES!r}:\n"
        "    importlib.import_module(m)\n"
        f"    print(m, 'ray' in sys.modules, {RUNNER!r} in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == [f"{m} False False" for m in MODULES], done.stdout + done.stderr
