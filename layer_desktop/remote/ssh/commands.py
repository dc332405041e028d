"""Remote command lines, built by small pure functions: every value is ``shlex``-quoted, every script runs
under ``bash -lc`` (the login environment, where provider images put CUDA and conda on PATH) between two
sentinels, so MOTD and profile noise is cut away and the script's own exit status is read back.

No secret is ever put in a command: argv is visible to every user of the host (``ps``).
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

ENGINE_MODULE = "layer_desktop.engine.server"
_END = re.compile(r"^(?P<marker>__LAYER_END_[0-9a-f]+__) (?P<rc>-?\d+)$")


@dataclass(frozen=True)
class Wrapped:
    command: str  # what the SSH exec request carries
    begin: str
    end: str


@dataclass(frozen=True)
class Result:
    rc: int
    out: str  # the script's stdout, without the noise around it
    err: str


def q(value: object) -> str:
    return shlex.quote(str(value))


def join(argv: Sequence[object]) -> str:
    return " ".join(q(a) for a in argv)


def wrap(script: str, tag: str | None = None) -> Wrapped:
    """``script`` as one ``bash -lc`` command between a begin and an end sentinel (with its status)."""
    tag = tag or secrets.token_hex(6)
    begin, end = f"__LAYER_BEGIN_{tag}__", f"__LAYER_END_{tag}__"
    body = f"printf '%s\\n' {begin}; ( {script}\n); printf '\\n%s %d\\n' {end} $?"
    return Wrapped(f"bash -lc {q(body)}", begin, end)


def parse(wrapped: Wrapped, out: str, err: str) -> Result | None:
    """The script's status and output, or None when the end sentinel never came (the shell died)."""
    lines = out.split("\n")
    try:
        start = lines.index(wrapped.begin) + 1
    except ValueError:
        return None
    for i in range(len(lines) - 1, start - 1, -1):
        m = _END.match(lines[i].rstrip("\r"))
        if m and m.group("marker") == wrapped.end:
            body = "\n".join(lines[start:i])
            return Result(int(m.group("rc")), body[:-1] if body.endswith("\n") else body, err)
    return None


def remote_path(work_dir: str, *parts: str) -> str:
    return "/".join([work_dir.rstrip("/"), *parts])


@dataclass(frozen=True)
class EnginePlan:
    """Where the engine lives on the host, below the work dir."""

    work_dir: str

    @property
    def python(self) -> str:
        return remote_path(self.work_dir, "venv", "bin", "python")

    @property
    def home(self) -> str:
        return remote_path(self.work_dir, "engine")

    @property
    def app_home(self) -> str:  # LAYER_HOME of the engine: its persona store and models
        return remote_path(self.work_dir, "app")

    @property
    def state_file(self) -> str:
        return remote_path(self.home, "state.json")

    @property
    def token_file(self) -> str:
        return remote_path(self.home, "token")

    @property
    def stopped_file(self) -> str:
        return remote_path(self.home, "stopped.json")

    @property
    def console_log(self) -> str:
        return remote_path(self.home, "logs", "console.log")

    @property
    def engine_log(self) -> str:
        return remote_path(self.home, "logs", "engine.log")


def start_engine_script(
    plan: EnginePlan, idle_stop_s: float, max_lifetime_s: float, cluster: str | None = None
) -> str:
    """Start the engine detached from the SSH session (its own session, no terminal, output to a log),
    bound to 127.0.0.1 on a free port, and print its pid. The engine makes its own token and writes it
    to a 0600 file; state.json (port, pid, version) appears once it listens. ``cluster``: the GCS address
    of a Ray cluster whose chunks the engine hands out; the script then reads the cluster's token from
    its standard input into the engine's environment."""
    serve = [plan.python, "-m", ENGINE_MODULE, "serve", "--home", plan.home, "--port", "0",
             "--host", "127.0.0.1", "--idle-stop-after", f"{idle_stop_s:g}",
             "--max-lifetime", f"{max_lifetime_s:g}"]  # fmt: skip
    token = ""
    if cluster is not None:
        serve += ["--cluster", cluster]
        token = "IFS= read -r RAY_AUTH_TOKEN || exit 64; export RAY_AUTH_TOKEN RAY_AUTH_MODE=token; "
    return (
        token + f"umask 077; mkdir -p {q(remote_path(plan.home, 'logs'))} {q(plan.app_home)} || exit 1; "
        f"rm -f {q(plan.stopped_file)}; "
        # only the engine goes to the background (``&`` after a ``&&`` list would background the list)
        f"LAYER_HOME={q(plan.app_home)} setsid nohup {join(serve)}"
        f" </dev/null >>{q(plan.console_log)} 2>&1 & echo $!"
    )


def probe_engine_script(plan: EnginePlan) -> str:
    """Print the runtime file and whether its pid is a live engine of this home (``alive``/``dead``)."""
    state = q(plan.state_file)
    return (
        f"if [ -f {state} ]; then cat {state}; echo; "
        f"pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p' {state}); "
        f"if [ -n \"$pid\" ] && tr '\\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -q -- {q(ENGINE_MODULE)};"
        " then echo alive; else echo dead; fi; else echo none; fi"
    )


def wait_ready_script(plan: EnginePlan, pid: int, timeout_s: float) -> str:
    """Wait until the state file names ``pid`` (ready) or the process is gone; print the state file."""
    state = q(plan.state_file)
    tries = max(1, int(timeout_s / 0.05))
    return (
        f"for i in $(seq {tries}); do "
        f"if grep -q '\"pid\": {pid}[,}}]' {state} 2>/dev/null; then cat {state}; exit 0; fi; "
        f"kill -0 {pid} 2>/dev/null || break; sleep 0.05; done; "
        f"if [ -f {state} ]; then cat {state}; exit 3; fi; tail -n 20 {q(plan.console_log)} >&2; exit 2"
    )


def clear_stale_script(plan: EnginePlan) -> str:
    return f"rm -f {q(plan.state_file)} {q(plan.token_file)}"


def stop_engine_script(plan: EnginePlan, pid: int) -> str:
    return (
        f"kill -TERM {pid} 2>/dev/null; for i in $(seq 300); do kill -0 {pid} 2>/dev/null || exit 0; "
        f"sleep 0.05; done; kill -KILL {pid} 2>/dev/null; exit 0"
    )
