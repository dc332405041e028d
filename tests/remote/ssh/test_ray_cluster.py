"""A Ray cluster formed from two managed "hosts" over SSH: the fixture's sshd on 127.0.0.1 with two work
dirs, one the head, one a worker. `form_cluster` bootstraps both, starts Ray on each (token on stdin),
restarts the head's engine as the cluster's driver; a transform sent to that engine through the tunnel
has its chunks made on both nodes and equals a local render; `cluster_down` stops exactly those
processes."""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layer_desktop.engine.cluster import nodes, registry
from layer_desktop.engine.cluster.local import node_processes
from layer_desktop.engine.pipeline import Disclosure, run_transform
from layer_desktop.errors import EngineUnavailableError
from layer_desktop.remote.ssh.cluster import (
    NodeOptions,
    SshAccess,
    cluster_down,
    cluster_status,
    form_cluster,
    head_engine,
)
from layer_desktop.remote.ssh.commands import EnginePlan
from layer_desktop.remote.ssh.connection import SshConnection
from layer_desktop.remote.ssh.engine_host import ClusterLink, probe, stop_engine
from layer_desktop.remote.ssh.hosts import HostStore
from layer_desktop.remote.ssh.session import RemoteEngine
from tests.clips import decode
from tests.conftest import require_component
from tests.remote.ssh.conftest import SshWorld
from tests.remote.ssh.helpers import demo_spec, demo_store, fast_bootstrap, streams_sha256

pytestmark = [pytest.mark.sshd, pytest.mark.slow]


def _files_with(root: Path, secret: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
                hits.append(path)
    return hits


def _argv_with(secret: bytes) -> list[int]:
    hits = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if secret in (proc / "cmdline").read_bytes():
                hits.append(int(proc.name))
    return hits


def test_two_hosts_form_a_cluster_render_a_job_on_both_and_stop(ssh_world: SshWorld, tmp_path: Path) -> None:
    require_component(
        "Ray", importlib.util.find_spec("ray") is not None, "pip install layer-desktop[cluster]"
    )
    server = ssh_world.sshd()
    head = ssh_world.profile(server, "head", work_dir=str(ssh_world.root / "head"))
    worker = ssh_world.profile(server, "worker", work_dir=str(ssh_world.root / "worker"))
    hosts = HostStore(tmp_path / "hosts.json")
    hosts.put(head)
    hosts.put(worker)
    SshConnection(head, ssh_world.known_hosts, accept_fingerprint=ssh_world.host_fingerprint).open().close()
    access = SshAccess(known_hosts=ssh_world.known_hosts)
    said: list[str] = []

    record = form_cluster(
        "farm", head, [worker], options=NodeOptions(num_cpus=1, num_gpus=1, object_store_mb=100),
        access=access, bootstrap=fast_bootstrap(), say=said.append,
        node_ips={"worker": "127.0.0.2"},  # another address: to the cluster, another machine
    )  # fmt: skip
    temp_dirs = [Path(nodes.temp_dir(n.folder)) for n in record.nodes]
    try:
        assert record.kind == "ssh" and [n.host for n in record.nodes] == ["head", "worker"]
        assert record.address.startswith("127.0.0.1:")
        assert said[-1].startswith("head: starting the engine")
        status = cluster_status(record, access=access, hosts=hosts)
        assert status.count(" 1 node_") == 2 and "0.0/2.0 GPU" in status, status  # both nodes joined

        store = demo_store()
        spec = demo_spec(tmp_path / "cluster.mp4").model_copy(  # 100 frames in 4 chunks of 25
            update={"disclosure": Disclosure(watermark=False)}  # its payload is each job's: compared below
        )
        chunks: list[dict[str, Any]] = []
        with head_engine(record, access=access, hosts=hosts) as remote, remote.client() as client:
            job = client.submit_transform(spec, store)
            info = client.wait(
                job.job_id, on_event=lambda e: chunks.append(e.data) if e.type == "chunk" else None
            )
            result = client.download(job.job_id, tmp_path / "cluster.mp4")
        assert info.state == "done" and info.report is not None and info.report["frames"] == 100
        assert sorted(c["index"] for c in chunks) == [0, 1, 2, 3]
        assert len({c["node_id"] for c in chunks}) == 2  # both hosts' nodes made chunks
        assert sum(c["frames"] for c in chunks) == 100
        # the nodes are two machines to Ray: the job travelled through the object store, not a shared folder
        assert {c["transfer"] for c in chunks} == {"objects"}
        worker_dirs = [p for p in (ssh_world.root / "head").rglob("chunk_*") if p.is_dir()]
        assert not worker_dirs  # no worker encoded in the head's job folder

        local = run_transform(spec.model_copy(update={"output": str(tmp_path / "local.mp4")}), store=store)
        ours, theirs = decode(result), decode(Path(local.output))
        assert len(ours) == len(theirs) == 100
        assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
        assert streams_sha256(result) == streams_sha256(Path(local.output))  # byte-identical streams

        secret = registry.token("farm").encode()
        assert not _argv_with(secret)  # the token is in no process's command line …
        for root in (ssh_world.root, *temp_dirs):  # … and in no file the nodes or the engine wrote
            assert not _files_with(root, secret), root

        # the head's engine stopped (an idle stop): a plain connect to the head starts it as the cluster's
        # driver again
        with SshConnection(head, ssh_world.known_hosts).open() as conn:
            assert stop_engine(conn, EnginePlan(head.work_dir))
        with RemoteEngine(head, known_hosts=ssh_world.known_hosts) as remote:
            assert remote.runtime is not None and remote.runtime.started
            assert remote.conn is not None
            assert probe(remote.conn, remote.plan)[1]["cluster"] == record.address  # type: ignore[index]
        # an engine that drives another cluster is not used for this one: the error says what to do
        wrong = ClusterLink("127.0.0.1:1", "not-the-token")
        with pytest.raises(EngineUnavailableError, match="not the head of the cluster"):
            RemoteEngine(head, known_hosts=ssh_world.known_hosts, cluster=wrong).connect()
    finally:
        stopped = cluster_down(record, access=access, hosts=hosts)
    assert stopped["head"] > 0 and stopped["worker"] > 0
    assert all(node_processes(n.folder) == 0 for n in record.nodes)  # every Ray process of both is gone
    assert not any(d.exists() for d in temp_dirs)  # and Ray's session folders
    assert not ssh_world.engines()  # the head's engine was stopped with the cluster
    assert not registry.exists("farm")
    with pytest.raises(Exception, match="no token"):
        registry.token("farm")
