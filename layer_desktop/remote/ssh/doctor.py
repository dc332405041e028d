"""`layer hosts doctor`: what the host is and whether the engine can run there, over one connection and
one command. Each check is ok / warning / failure, with what to do about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from layer_desktop.remote.ssh.commands import q
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.tunnel import forwarding_allowed

Level = Literal["ok", "warning", "failure"]
GPU_QUERY = "name,memory.total,memory.used,utilization.gpu,driver_version"
MIN_PYTHON = (3, 11)
CUDA_NEEDED = (12, 0)  # the onnxruntime-gpu wheels on PyPI (>= 1.19) are built for CUDA 12
_SECTION = re.compile(r"^@@layer-(\w+)@@$")


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    todo: str | None = None


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_total_mib: int | None
    memory_used_mib: int | None
    utilization: int | None
    driver: str | None


def doctor_script(work_dir: str) -> str:
    smi = f"nvidia-smi --query-gpu={GPU_QUERY} --format=csv,noheader,nounits"
    probe_dir = f'd={q(work_dir)}; while [ ! -d "$d" ]; do d=$(dirname "$d"); done'
    return "; ".join([
        "echo @@layer-os@@", "uname -srm", "grep -h '^PRETTY_NAME=' /etc/os-release 2>/dev/null",
        "echo @@layer-python@@", "python3 --version 2>&1",
        "echo @@layer-gpu@@", f"if command -v nvidia-smi >/dev/null; then {smi} 2>&1; else echo MISSING; fi",
        "echo @@layer-cuda@@", "nvidia-smi 2>/dev/null | grep -o 'CUDA Version: *[0-9.]*'",
        "echo @@layer-disk@@", probe_dir, 'df -Pk "$d" | tail -n 1', "echo @@layer-end@@",
    ])  # fmt: skip


def sections(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        m = _SECTION.match(line.strip())
        if m:
            current = found.setdefault(m.group(1), [])
        elif current is not None and line.strip():
            current.append(line.strip())
    return found


def _number(text: str) -> int | None:
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        return None  # "[N/A]", "[Not Supported]", ""


def parse_gpus(lines: list[str]) -> list[Gpu] | None:
    """The GPUs of a ``--query-gpu`` csv; None when nvidia-smi is missing. Lines that are not csv of the
    queried fields (warnings, MOTD) are skipped; ``[N/A]`` fields become None."""
    if lines == ["MISSING"]:
        return None
    gpus = []
    for line in lines:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 5:
            continue
        name, total, used, util, driver = fields
        gpus.append(
            Gpu(name, _number(total), _number(used), _number(util), None if "N/A" in driver else driver)
        )
    return gpus


def _version(text: str) -> tuple[int, ...] | None:
    m = re.search(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def check_python(lines: list[str]) -> Check:
    found = _version(" ".join(lines))
    if found is None:
        return Check("python", "failure", "no python3 on the host", "Install Python 3.11 or newer.")
    text = ".".join(map(str, found))
    if found < MIN_PYTHON:
        return Check(
            "python", "failure", f"Python {text}", "Install Python 3.11 or newer (or use an image with it)."
        )
    return Check("python", "ok", f"Python {text}")


NO_SMI = "The engine would run on the CPU. Rent a GPU image with the NVIDIA driver."
BROKEN_SMI = "The driver is broken or the GPU is not visible in the container."
OLD_CUDA = "Update the NVIDIA driver or choose an image with CUDA 12."


def check_gpu(lines: list[str], cuda_lines: list[str]) -> list[Check]:
    gpus = parse_gpus(lines)
    if gpus is None:
        return [Check("gpu", "warning", "nvidia-smi is missing: no NVIDIA GPU or driver", NO_SMI)]
    if not gpus:
        return [Check("gpu", "failure", f"nvidia-smi answered: {' '.join(lines)[:200]}", BROKEN_SMI)]
    checks = [Check("gpu", "ok", "; ".join(_describe(g) for g in gpus))]
    cuda = _version(" ".join(cuda_lines))
    if cuda is None:
        todo = "Check that onnxruntime-gpu finds CUDA 12 (`layer engine status`)."
        checks.append(Check("cuda", "warning", "the driver's CUDA version is unknown", todo))
    elif cuda < CUDA_NEEDED:
        detail = f"the driver supports CUDA {cuda[0]}.{cuda[1]}; onnxruntime-gpu needs 12"
        checks.append(Check("cuda", "failure", detail, OLD_CUDA))
    else:
        checks.append(Check("cuda", "ok", f"CUDA {cuda[0]}.{cuda[1]} (onnxruntime-gpu needs 12)"))
    return checks


def _describe(g: Gpu) -> str:
    mem = f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "memory unknown"
    used = f", {g.memory_used_mib} MiB used" if g.memory_used_mib is not None else ""
    util = f", {g.utilization}% busy" if g.utilization is not None else ""
    return f"{g.name} ({mem}{used}{util}, driver {g.driver or 'unknown'})"


def check_disk(lines: list[str], warn_gib: float = 10, fail_gib: float = 2) -> Check:
    fields = lines[-1].split() if lines else []
    free_kib = _number(fields[3]) if len(fields) >= 6 else None
    if free_kib is None:
        return Check("disk", "warning", "free space unknown", "Check `df -h` on the host.")
    gib = free_kib / 1024**2
    where = fields[5]
    if gib < fail_gib:
        return Check("disk", "failure", f"{gib:.1f} GiB free on {where}", "Free space or rent a larger disk.")
    if gib < warn_gib:
        return Check("disk", "warning", f"{gib:.1f} GiB free on {where}", "Renders may not fit: free space.")
    return Check("disk", "ok", f"{gib:.1f} GiB free on {where}")


def run_doctor(conn: SshConnection, work_dir: str) -> list[Check]:
    """Every check, from one command and one forwarding probe on ``conn``."""
    found = sections(conn.run(doctor_script(work_dir), check=False).out)
    os_text = " / ".join(line.replace("PRETTY_NAME=", "").strip('"') for line in found.get("os", []))
    checks = [Check("os", "ok" if os_text else "warning", os_text or "unknown")]
    checks.append(check_python(found.get("python", [])))
    checks += check_gpu(found.get("gpu", []), found.get("cuda", []))
    checks.append(check_disk(found.get("disk", [])))
    if forwarding_allowed(conn.transport):
        checks.append(Check("forwarding", "ok", "TCP forwarding allowed (the tunnel can open)"))
    else:
        todo = "Set `AllowTcpForwarding yes` in the host's sshd_config and reload sshd."
        checks.append(Check("forwarding", "failure", "the SSH server forbids TCP forwarding", todo))
    return checks
