"""The clusters this app started, by name: ``<data>/clusters/NAME.json`` keeps what is not secret (where
the head's GCS and dashboard are, which hosts are nodes, where each node's folder is); the cluster's
token lives only in the keyring (``cluster:NAME``) and reaches Ray through a process's environment or a
script's standard input.

    local   ``layer cluster up NAME``: a head on this machine, 127.0.0.1 only
    ssh     ``layer cluster up NAME --host HEAD --host WORKER…``: Ray on managed GPU hosts; jobs go to the
            head host's engine, which drives the cluster
    external ``layer cluster add NAME --address …``: a cluster the user runs; its token in the keyring
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from layer_desktop.engine.cluster.errors import ClusterError
from layer_desktop.errors import InputError
from layer_desktop.paths import app_paths
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import write_atomic

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


class NodeRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str | None  # the managed host's name; None: this machine
    folder: str  # the node's folder (its session id and Ray's log)
    python: str  # the node's Python


class ClusterRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["local", "ssh", "external"]
    address: str  # the head's GCS, "IP:PORT" (or a Ray client's "ray://HOST:PORT" for an external one)
    dashboard_port: int = 0  # the dashboard and Jobs API, on the head's 127.0.0.1 (0: not known)
    nodes: tuple[NodeRecord, ...] = ()  # the head first; none for a cluster this app did not start

    @property
    def head(self) -> NodeRecord:
        if not self.nodes:
            raise ClusterError(f"The cluster {self.name!r} was not started here: its nodes are not known.")
        return self.nodes[0]


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InputError(
            f"{name!r} is not a cluster name.", hint="Use letters, digits, '-' and '_' (at most 40)."
        )
    return name


def clusters_dir() -> Path:
    return app_paths().data_dir / "clusters"


def _file(name: str) -> Path:
    return clusters_dir() / f"{check_name(name)}.json"


def secret_name(name: str) -> str:
    return f"cluster:{name}"


def exists(name: str) -> bool:
    return _file(name).is_file()


def load(name: str) -> ClusterRecord:
    """The cluster started as ``name``. Raises ``ClusterError`` when there is none."""
    path = _file(name)
    try:
        return ClusterRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClusterError(
            f"There is no cluster named {name!r}.", hint=f"Start it with `layer cluster up {name}`."
        ) from None
    except ValueError as exc:
        raise ClusterError(
            f"The record of cluster {name!r} ({path}) is damaged: {exc}.",
            hint=f"Stop its nodes by hand (`ray stop` on each) and delete {path}.",
        ) from exc


def save(record: ClusterRecord) -> None:
    path = _file(record.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(record.model_dump(), indent=1).encode())


def forget(name: str, secrets: KeyringSecrets | None = None) -> None:
    (secrets or KeyringSecrets()).delete(secret_name(name))
    _file(name).unlink(missing_ok=True)


def token(name: str, secrets: KeyringSecrets | None = None) -> str:
    value = (secrets or KeyringSecrets()).get(secret_name(name))
    if not value:
        raise ClusterError(
            f"The keyring has no token for the cluster {name!r}.",
            hint=f"Stop it (`layer cluster down {name}`) and start it again (`layer cluster up {name}`).",
        )
    return value


def use_token(name: str) -> None:
    """Let ``ray.init`` in this process into the cluster ``name`` (token mode, its token)."""
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token(name))
