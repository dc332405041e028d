"""The pure pieces: command wrapping and parsing, doctor parsing, the known_hosts file (no server)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import paramiko
import pytest

from layer_desktop.errors import HostKeyChangedError
from layer_desktop.remote.ssh import commands
from layer_desktop.remote.ssh.doctor import check_disk, check_gpu, check_python, parse_gpus, sections
from layer_desktop.remote.ssh.engine_host import parse_probe
from layer_desktop.remote.ssh.known_hosts import KnownHosts, fingerprint
from tests.remote.ssh.conftest import keygen, keygen_fingerprint


def run_locally(wrapped: commands.Wrapped, cwd: Path | None = None) -> tuple[str, str]:
    done = subprocess.run(["sh", "-c", wrapped.command], capture_output=True, text=True, check=False, cwd=cwd)
    return done.stdout, done.stderr


def test_wrapped_script_keeps_its_output_and_status_and_drops_the_noise_around_it() -> None:
    wrapped = commands.wrap("echo 'it'\"'\"'s $HOME'; printf 'no newline'; exit 7", tag="abc123")
    out, err = run_locally(wrapped)
    parsed = commands.parse(wrapped, "MOTD: welcome\n" + out + "logout noise\n", err)
    assert parsed == commands.Result(7, "it's $HOME\nno newline", "")


def test_a_shell_that_dies_before_the_end_sentinel_is_no_result() -> None:
    wrapped = commands.wrap("echo hi", tag="ff00")
    assert commands.parse(wrapped, f"{wrapped.begin}\nhi\n", "") is None
    assert commands.parse(wrapped, "hi\n", "") is None


def test_values_are_quoted_so_a_path_cannot_inject_a_command(tmp_path: Path) -> None:
    evil = tmp_path / "x; touch pwned; 'y"
    plan = commands.EnginePlan(str(evil))
    script = commands.clear_stale_script(plan)
    evil.mkdir()
    (evil / "engine").mkdir()
    (evil / "engine" / "state.json").write_text("{}")
    run_locally(commands.wrap(script), cwd=tmp_path)
    assert not (tmp_path / "pwned").exists()  # the path stayed one argument
    assert not (evil / "engine" / "state.json").exists()


def test_start_script_backgrounds_only_the_engine_and_carries_no_token() -> None:
    script = commands.start_engine_script(commands.EnginePlan("/w"), 60, 0)
    assert "setsid nohup /w/venv/bin/python -m layer_desktop.engine.server serve" in script
    assert "</dev/null >>/w/engine/logs/console.log 2>&1 & echo $!" in script
    assert "--host 127.0.0.1" in script and "TOKEN" not in script.upper()


def test_probe_answers() -> None:
    assert parse_probe("none\n") == ("none", None)
    assert parse_probe('{"port": 5, "pid": 9}\nalive\n') == ("alive", {"port": 5, "pid": 9})
    assert parse_probe('{"port": 5\ndead\n') == ("dead", None)  # half-written: stale


def test_nvidia_smi_with_na_fields_noise_and_missing() -> None:
    lines = ["NVIDIA A10G, 23028, [N/A], [N/A], 550.54.15", "Warning: persistence mode is off", ""]
    (gpu,) = parse_gpus(lines) or []
    assert (gpu.name, gpu.memory_total_mib, gpu.memory_used_mib, gpu.utilization) == (
        "NVIDIA A10G",
        23028,
        None,
        None,
    )
    assert parse_gpus(["MISSING"]) is None
    (missing,) = check_gpu(["MISSING"], [])
    assert missing.level == "warning" and missing.todo and "CPU" in missing.todo
    old = {c.name: c for c in check_gpu(lines, ["CUDA Version: 11.8"])}
    assert old["cuda"].level == "failure" and "11.8" in old["cuda"].detail


def test_sections_python_and_disk() -> None:
    found = sections("motd\n@@layer-python@@\nPython 3.10.12\n@@layer-disk@@\n/dev/x 100 90 1024 99% /w\n")
    assert check_python(found["python"]).level == "failure"
    assert check_disk(found["disk"]).level == "failure"  # 1 MiB free
    assert check_disk(["/dev/x 1 1 52428800 1% /w"]).level == "ok"  # 50 GiB


def test_known_hosts_trusts_on_first_use_and_stops_at_a_changed_key(tmp_path: Path) -> None:
    first = paramiko.PKey.from_path(keygen(tmp_path / "a"))
    second = paramiko.PKey.from_path(keygen(tmp_path / "b"))
    assert fingerprint(first) == keygen_fingerprint(tmp_path / "a.pub")
    known = KnownHosts(tmp_path / "known_hosts")
    assert known.check("[h]:22", first) is False
    known.trust("[h]:22", first)
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600
    assert known.check("[h]:22", first) is True
    assert known.check("[h]:22/i-2", second) is False  # another instance at the same address
    with pytest.raises(HostKeyChangedError) as err:
        known.check("[h]:22", second)
    assert fingerprint(first) in err.value.message and fingerprint(second) in err.value.message
