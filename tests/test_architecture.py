"""engine/ and remote/ work without Qt: import every module with PySide6 made unimportable."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import layer_desktop.engine
import layer_desktop.remote

SCRIPT = """
import importlib, sys
sys.modules["PySide6"] = None  # any `import PySide6...` now raises ImportError
for name in sys.argv[1:]:
    importlib.import_module(name)
assert not any(m.startswith("PySide6") and sys.modules[m] is not None for m in sys.modules)
print("imported", len(sys.argv) - 1)
"""


def _modules() -> list[str]:
    names = ["layer_desktop.errors", "layer_desktop.paths", "layer_desktop.settings", "layer_desktop.secrets"]
    for pkg in (layer_desktop.engine, layer_desktop.remote):
        names.append(pkg.__name__)
        found = pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
        names += [m.name for m in found if not m.name.endswith(".__main__")]  # entry points run on import
    return names


def test_engine_and_remote_import_without_qt() -> None:
    modules = _modules()
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"imported {len(modules)}" in result.stdout
