"""A GPU host over SSH, on loopback against a real sshd (started here, as in the tests):

- upload: ``EngineClient.upload`` through our tunnel (streamed PUTs, committed every 1 MiB) vs OpenSSH
  ``sftp`` of the same file, directly and through a 50 ms round-trip delay proxy (targets: ≥ 0.4 and
  ≥ 0.9 of sftp);
- Connect → engine ready on a bootstrapped host whose engine runs (re-attach) and whose engine must start;
- result download over the tunnel (Range-resumable GET of a finished job's video), MB/s.

Best of 3 each, all in one run. Needs root (sshd) and /usr/sbin/sshd.

Usage: python benchmarks/bench_remote.py [--mib 64]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layer_desktop.remote.ssh.bootstrap import Bootstrap
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.engine_host import stop_engine
from layer_desktop.remote.ssh.hosts import HostProfile
from layer_desktop.remote.ssh.session import RemoteEngine
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.helpers import demo_spec, demo_store, fast_bootstrap
from tests.remote.ssh.proxy import Proxy


def best(runs: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(runs))


def sftp_upload(world: SshWorld, port: int, src: Path, dst: str) -> float:
    known = world.root / f"openssh_known_{port}"
    known.write_text(f"[127.0.0.1]:{port} {world.host_key.with_suffix('.pub').read_text()}")
    batch = world.root / "batch"
    batch.write_text(f"put {src} {dst}\n")
    argv = ["sftp", "-q", "-b", str(batch), "-i", str(world.user_key), "-P", str(port), "-o",
            f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes", "root@127.0.0.1"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def our_upload(world: SshWorld, profile: HostProfile, src: Path) -> float:
    with (
        RemoteEngine(
            profile, known_hosts=world.known_hosts, accept_fingerprint=world.host_fingerprint
        ) as remote,
        remote.client() as client,
    ):
        src.write_bytes(os.urandom(src.stat().st_size))  # new content: nothing to resume
        start = time.perf_counter()
        client.upload(src)
        return time.perf_counter() - start


def connect_time(world: SshWorld, profile: HostProfile) -> float:
    start = time.perf_counter()
    with RemoteEngine(profile, known_hosts=world.known_hosts) as remote, remote.client() as client:
        client.health()
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LAYER_HOME"] = str(Path(tmp) / "home")
        world = SshWorld(Path(tmp) / "ssh")
        try:
            run(world, Path(tmp), args.mib, args.runs)
        finally:
            world.close()


def run(world: SshWorld, tmp: Path, mib: int, runs: int) -> None:
    server = world.sshd()
    profile = world.profile(server)
    with SshConnection(profile, world.known_hosts, accept_fingerprint=world.host_fingerprint).open() as conn:
        Bootstrap(conn, EnginePlan(profile.work_dir), fast_bootstrap()).run()
    src = tmp / "upload.bin"
    src.write_bytes(os.urandom(mib * 1024**2))
    size_mb = src.stat().st_size / 1e6
    proxy = Proxy(server.port, delay=0.025)  # 25 ms each way: 50 ms round trip
    try:
        for label, port in (("loopback", server.port), ("50 ms RTT", proxy.port)):
            via = profile.model_copy(update={"port": port})
            theirs = best(runs, lambda p=port: sftp_upload(world, p, src, f"{profile.work_dir}/sftp.bin"))
            ours = best(runs, lambda v=via: our_upload(world, v, src))
            print(f"upload {label:>9}: ours {size_mb / ours:7.1f} MB/s, sftp {size_mb / theirs:7.1f} MB/s, "
                  f"ratio {theirs / ours:.2f}")  # fmt: skip
    finally:
        proxy.close()

    warm = best(runs, lambda: connect_time(world, profile))
    print(f"connect -> engine ready, engine running (re-attach): {warm:.2f} s")

    def cold() -> float:
        with SshConnection(profile, world.known_hosts).open() as conn:
            stop_engine(conn, EnginePlan(profile.work_dir))
        return connect_time(world, profile)

    print(f"connect -> engine ready, engine started:             {best(runs, cold):.2f} s")

    with RemoteEngine(profile, known_hosts=world.known_hosts) as remote, remote.client() as client:
        job = client.submit_transform(demo_spec(tmp / "out.mp4"), demo_store())
        client.wait(job.job_id)

        def download() -> float:
            start = time.perf_counter()
            client.download(job.job_id, tmp / "out.mp4")
            return time.perf_counter() - start

        seconds = best(runs, download)
    result_mb = (tmp / "out.mp4").stat().st_size / 1e6
    ms = seconds * 1000
    print(
        f"result download over the tunnel: {result_mb / seconds:.1f} MB/s ({result_mb:.2f} MB in {ms:.0f} ms)"
    )


if __name__ == "__main__":
    main()
