"""Shared pieces of the SSH host tests: a fast bootstrap (the remote venv reuses this machine's installed
packages and gets only the app's wheel) and the demo spec."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline import TransformSpec
from layer_desktop.engine.pipeline.demo import demo_content, ensure_demo_persona
from layer_desktop.remote.ssh.bootstrap import BootstrapOptions

FAST = {"preset": "veryfast", "chunk_frames": 25}


def fast_bootstrap() -> BootstrapOptions:
    base = Path(sys.base_prefix) / "bin" / "python3"
    return BootstrapOptions(
        python=str(base), extra_site_packages=(sysconfig.get_path("purelib"),), with_dependencies=False,
        venv_flags=("--without-pip",), onnxruntime="cpu", min_free_mib=64,
    )  # fmt: skip


def demo_store() -> PersonaStore:
    store = PersonaStore()
    ensure_demo_persona(store)
    return store


def demo_spec(output: Path, source: Path | None = None, chunk: int = 25) -> TransformSpec:
    return TransformSpec(
        source=str(source or demo_content().clip), output=str(output),
        persona=demo_content().persona_name, output_settings={**FAST, "chunk_frames": chunk},
    )  # fmt: skip
