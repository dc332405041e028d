"""A real local Ray cluster for the cluster tests: 2 CPUs, 2 fake GPUs (to test GPU placement on a CPU
machine), a 100 MB object store, no dashboard. Started once per session, shut down at the end."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import require_component


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    require_component(
        "Ray", importlib.util.find_spec("ray") is not None, "pip install layer-desktop[cluster]"
    )
    import ray

    ray.init(
        num_cpus=2, num_gpus=2, object_store_memory=100 * 1024 * 1024, include_dashboard=False,
        log_to_driver=False,
    )  # fmt: skip
    try:
        yield ray
    finally:
        ray.shutdown()
