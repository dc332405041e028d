"""Shared pieces of the SSH host tests: a fast bootstrap (the remote venv reuses this machine's installed
packages and gets only the app's wheel), the demo spec and the sha256 of a video's encoded streams."""

from __future__ import annotations

import hashlib
import sys
import sysconfig
from pathlib import Path

import av

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


def streams_sha256(video: Path) -> str:
    """sha256 of every packet of every stream (bytes and timestamps, in file order): equal for two
    renders whose encoded pictures and sound are byte-identical. The file's own sha256 differs per run:
    its C2PA manifest is signed per job (job id, time), and the spec has no switch to leave it out."""
    digest = hashlib.sha256()
    with av.open(str(video)) as container:
        for packet in container.demux():
            if packet.size:
                digest.update(f"{packet.stream.index}:{packet.pts}:{packet.dts}:{packet.size};".encode())
                digest.update(bytes(packet))
    return digest.hexdigest()
