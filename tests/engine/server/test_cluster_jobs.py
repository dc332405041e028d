"""Ray is an optional extra: the engine, the CLI and the studio start without loading it (an engine
started with --cluster loads it in its first cluster job, tests/remote/ssh/test_ray_cluster.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "layer_desktop.engine.server.cli", "layer_desktop.engine.server.app",
    "layer_desktop.engine.server.runner", "layer_desktop.cli", "layer_desktop.cli.cluster",
    "layer_desktop.remote.ssh.session", "layer_desktop.ui.main_window",
]  # fmt: skip
RUNNER = "layer_desktop.engine.cluster.runner"


@pytest.mark.parametrize("module", MODULES)
def test_importing_does_not_load_ray(module: str) -> None:
    code = f"import sys, {module}; print('ray' in sys.modules, '{RUNNER}' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "False"], done.stdout + done.stderr
