"""Bootstrap a host: idempotent, resumable steps (each checks first and skips what is done), logged on
both sides (``<log dir>/hosts/NAME-bootstrap.log`` here, ``<work dir>/logs/bootstrap.log`` there):

1. work dir   2. venv   3. the engine package at the app's exact version (the app's own wheel, built from
the checkout and uploaded, or the pinned version from the index)   4. ONNX Runtime (``onnxruntime-gpu`` on
a GPU box, never beside ``onnxruntime``)   5. models, uploaded by sha256 (present ones skipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from layer_desktop import __version__
from layer_desktop.errors import RemoteDiskFullError
from layer_desktop.remote.ssh import commands
from layer_desktop.remote.ssh.commands import EnginePlan, q
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.transfer import local_models, put_if_changed, remote_hashes
from layer_desktop.remote.ssh.wheel import app_wheel

log = logging.getLogger(__name__)

StepState = Literal["running", "done", "skipped"]
Progress = Callable[[int, int, str, StepState], None]


@dataclass(frozen=True)
class BootstrapOptions:
    python: str = "python3"  # the host's interpreter that creates the venv
    system_site_packages: bool = False  # images with CUDA torch: let the venv see it
    extra_site_packages: tuple[str, ...] = ()  # tests: reuse a machine's installed packages (.pth)
    with_dependencies: bool = True  # False: install only the app's wheel (its dependencies are there)
    venv_flags: tuple[str, ...] = ()  # e.g. --without-pip when pip comes from extra_site_packages
    onnxruntime: Literal["gpu", "cpu"] = "gpu"
    models: bool = True
    cluster: bool = False  # also the ``cluster`` extra (Ray): the host becomes a node of a Ray cluster
    min_free_mib: int = 4096  # the venv, CUDA wheels and renders need room: refuse a fuller disk up front
    wheel: Path | None = None  # default: built from the app's checkout
    local_models: tuple[Path, ...] = field(default_factory=tuple)  # default: shipped + installed


def pip(plan: EnginePlan, *args: str) -> str:
    return f"{q(plan.python)} -m pip --disable-pip-version-check --no-input {commands.join(args)}"


def logged(plan: EnginePlan, script: str) -> str:
    """``script`` with its output appended to the remote bootstrap log (the error tail comes back)."""
    logfile = q(commands.remote_path(plan.work_dir, "logs", "bootstrap.log"))
    return f"{{ {script} ; }} >>{logfile} 2>&1 || {{ rc=$?; tail -n 25 {logfile} >&2; exit $rc; }}"


class Bootstrap:
    def __init__(self, conn: SshConnection, plan: EnginePlan, options: BootstrapOptions | None = None,
                 progress: Progress | None = None) -> None:  # fmt: skip
        self.conn, self.plan, self.options = conn, plan, options or BootstrapOptions()
        self.progress = progress

    def run(self) -> list[tuple[str, StepState]]:
        steps: list[tuple[str, Callable[[], bool]]] = [
            ("work dir", self.work_dir), ("venv", self.venv), ("engine package", self.package),
            ("onnxruntime", self.onnxruntime), ("models", self.models),
        ]  # fmt: skip
        done: list[tuple[str, StepState]] = []
        for i, (name, step) in enumerate(steps, 1):
            self._report(i, len(steps), name, "running")
            state: StepState = "done" if step() else "skipped"
            log.info("bootstrap %s: %s %s", self.conn.profile.name, name, state)
            self._report(i, len(steps), name, state)
            done.append((name, state))
        return done

    def _report(self, i: int, n: int, name: str, state: StepState) -> None:
        if self.progress is not None:
            self.progress(i, n, name, state)

    # ------------------------------------------------------------------ steps (True: work was done)

    def work_dir(self) -> bool:
        w = self.plan.work_dir
        self.conn.run(f"umask 077; mkdir -p {q(w)}/logs {q(w)}/dist && touch {q(w)}/logs/bootstrap.log")
        fields = self.conn.run(f"df -Pk {q(w)} | tail -n 1").out.split()
        free_mib = int(fields[3]) // 1024 if len(fields) >= 6 and fields[3].isdigit() else None
        if free_mib is not None and free_mib < self.options.min_free_mib:
            raise RemoteDiskFullError(
                f"The disk of {self.conn.profile.name} is (nearly) full: {free_mib} MiB free in {w} "
                f"({fields[5]}); the engine needs at least {self.options.min_free_mib} MiB."
            )
        return False

    def venv(self) -> bool:
        o, venv = self.options, commands.remote_path(self.plan.work_dir, "venv")
        have = self.conn.run(f"test -x {q(self.plan.python)} && echo yes || echo no").out.strip() == "yes"
        if not have:
            flags = [*(["--system-site-packages"] if o.system_site_packages else []), *o.venv_flags]
            self.conn.run(logged(self.plan, f"{commands.join([o.python, '-m', 'venv', *flags, venv])}"))
        if o.extra_site_packages:
            lines = "\\n".join(o.extra_site_packages)
            purelib = (
                f"$({q(self.plan.python)} -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))')"
            )
            self.conn.run(f"printf '{lines}\\n' > \"{purelib}/layer_extra.pth\"")
        return not have

    def package(self) -> bool:
        wheel = self.options.wheel or app_wheel()
        marker = commands.remote_path(self.plan.work_dir, "dist", "installed.txt")
        if wheel is None:  # not a checkout: the pinned version from the index
            target = f"layer-desktop=={__version__}"
        else:
            target = commands.remote_path(self.plan.work_dir, "dist", wheel.name)
            put_if_changed(self.conn, wheel, target)
        extra = "[cluster]" if self.options.cluster else ""
        stamp = f"{__version__} {target}{extra} {wheel_sha(wheel)}"
        if self.conn.run(f"cat {q(marker)} 2>/dev/null || true").out.strip() == stamp:
            return False
        if self.options.with_dependencies:
            self.conn.run(logged(self.plan, pip(self.plan, "install", target + extra)), timeout=3600)
        self.conn.run(logged(self.plan, pip(self.plan, "install", "--force-reinstall", "--no-deps", target)),
                      timeout=600)  # fmt: skip
        self.conn.run(f"printf '%s\\n' {q(stamp)} > {q(marker)}")
        return True

    def onnxruntime(self) -> bool:
        want, other = ("onnxruntime-gpu", "onnxruntime") if self.options.onnxruntime == "gpu" else (
            "onnxruntime", "onnxruntime-gpu")  # fmt: skip
        have = self.conn.run(f"{pip(self.plan, 'list', '--format=freeze')} 2>/dev/null").out.lower()
        names = {line.split("==")[0] for line in have.splitlines()}
        if want in names and other not in names:
            return False
        if other in names:
            self.conn.run(logged(self.plan, pip(self.plan, "uninstall", "-y", other)))
        self.conn.run(logged(self.plan, pip(self.plan, "install", "--force-reinstall", want)), timeout=1800)
        return True

    def models(self) -> bool:
        if not self.options.models:
            return False
        where = self.conn.run(
            f"LAYER_HOME={q(self.plan.app_home)} {q(self.plan.python)} -c "
            + q("import layer_desktop, os; from layer_desktop.paths import app_paths; "
                "print(os.path.dirname(layer_desktop.__file__)); print(app_paths().models_dir)")
        ).out.strip().splitlines()  # fmt: skip
        package_dir, models_dir = where[-2], where[-1]
        files = local_models(self.options.local_models, package_dir, models_dir)
        present = remote_hashes(self.conn, [target for _, target, _ in files])
        sent = False
        for path, target, sha in files:
            if present.get(target) != sha:
                put_if_changed(self.conn, path, target, known_remote=present.get(target), sha=sha)
                sent = True
        return sent


def wheel_sha(wheel: Path | None) -> str:
    from layer_desktop.engine.hashing import sha256_file

    return sha256_file(wheel) if wheel is not None else "-"
