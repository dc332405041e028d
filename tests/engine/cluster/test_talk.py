"""A talking-head batch on the real local Ray cluster (two fake GPUs): two products render on two workers
at once while a third with the same content waits for the first one's video; a worker that dies in the
middle of a product is restarted and the product made, one that kills every worker it is given fails
alone; cancelling stops every worker, keeps what was
finished, and the batch run again resumes."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.engine.cluster.runner import ClusterOptions
from layer_desktop.engine.cluster.talk import TalkWorker, talk_on_cluster
from layer_desktop.engine.media.pipeline import RenderCancelled
from layer_desktop.engine.provenance.c2pa_sign import read_manifest
from layer_desktop.engine.talking.batch import STATE_NAME, BatchOptions, BatchRow, run_batch
from layer_desktop.engine.talking.catalogue import Product
from layer_desktop.engine.talking.spec import TalkSpec
from tests.clips import decode
from tests.conftest import SHARED_MEDIA

log = logging.getLogger(__name__)
pytestmark = pytest.mark.slow
ASTRONAUT = str(SHARED_MEDIA / "faces" / "astronaut.png")
GRACE = str(SHARED_MEDIA / "faces" / "grace_hopper.jpg")


def _products(count: int) -> list[Product]:
    scripts = ("Meet the bottle.", "A warm mug.", "A desk lamp.", "A map of the park.")
    return [Product(f"P{i + 1}", f"Item {i + 1}", "", (ASTRONAUT, GRACE)[i % 2], None, scripts[i], "")
            for i in range(count)]  # fmt: skip


def _options(tmp_path: Path) -> BatchOptions:
    return BatchOptions(out_dir=tmp_path / "out", org="acme", settings={"size": "128"})


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    return min(a["finished"], b["finished"]) - max(a["started"], b["started"])


def test_two_products_render_at_once_on_two_workers_and_a_twin_waits_for_its_video(
    ray_cluster: Any, layer_home: Path, tmp_path: Path
) -> None:
    reports: list[dict[str, Any]] = []
    rows: list[tuple[str, int]] = []
    p1, p2 = _products(2)
    twin = Product("P3", "Same bottle", "", p1.image, None, p1.script, "")  # P1's content: P1's video

    def heard(row: BatchRow, number: int, total: int) -> None:
        rows.append((row.product, number))
        assert total == 3

    executor = talk_on_cluster(on_render=reports.append)
    result = run_batch([p1, p2, twin], _options(tmp_path), executor=executor, on_row=heard)

    assert [r.status for r in result.rows] == ["made", "made", "cached"]  # catalogue order
    assert sorted(p for p, _ in rows) == ["P1", "P2", "P3"] and [n for _, n in rows] == [1, 2, 3]
    by = {r["product"]: r for r in reports}
    assert sorted(by) == ["P1", "P2"]  # the twin was never rendered
    assert by["P1"]["pid"] != by["P2"]["pid"] != os.getpid()  # two workers, neither of them this process
    log.info("P1 and P2 rendered at once for %.2f s", _overlap(by["P1"], by["P2"]))
    made, copied = (Path(r.video) for r in (result.rows[0], result.rows[2]))
    assert made.read_bytes() == copied.read_bytes() and made != copied
    assert read_manifest(made).state == "Valid" and len(decode(made)) >= 25


class DiesOnce(TalkWorker):
    """Dies (the whole process, as on a lost machine) half-way into its first product, once."""

    def render(self, product: str, spec_json: str) -> dict[str, Any]:
        output = Path(TalkSpec.model_validate_json(spec_json).output)
        marker = output.with_name("died_once")
        if not marker.exists():
            marker.write_text("x")
            output.write_bytes(b"\0" * 5000)  # a half-written video
            os._exit(1)
        return super().render(product, spec_json)


def test_a_worker_killed_mid_product_is_restarted_and_the_product_made(
    ray_cluster: Any, layer_home: Path, tmp_path: Path
) -> None:
    reports: list[dict[str, Any]] = []
    executor = talk_on_cluster(ClusterOptions(workers=1), on_render=reports.append, worker=DiesOnce)
    result = run_batch(_products(1), _options(tmp_path), executor=executor)
    row = result.rows[0]
    assert row.status == "made", row
    assert (Path(row.video).parent / "died_once").exists() and len(reports) == 1
    assert len(decode(row.video)) >= 25 and read_manifest(Path(row.video)).state == "Valid"


class AlwaysDiesOnP1(TalkWorker):
    def render(self, product: str, spec_json: str) -> dict[str, Any]:
        if product == "P1":
            os._exit(1)
        return super().render(product, spec_json)


def test_a_product_that_kills_its_worker_every_time_fails_alone(
    ray_cluster: Any, layer_home: Path, tmp_path: Path
) -> None:
    options = ClusterOptions(workers=1, retries=1)
    result = run_batch(
        _products(2), _options(tmp_path), executor=talk_on_cluster(options, worker=AlwaysDiesOnP1)
    )
    assert [r.status for r in result.rows] == ["failed", "made"]  # P2 on a fresh worker
    assert "died 2 times" in result.rows[0].error and "ray status" in result.rows[0].hint


def test_cancel_stops_every_worker_keeps_what_finished_and_a_rerun_resumes(
    ray_cluster: Any, layer_home: Path, tmp_path: Path
) -> None:
    cancel = threading.Event()
    products, options = _products(4), _options(tmp_path)
    executor = talk_on_cluster(ClusterOptions(workers=1), cancel=cancel, on_render=lambda _: cancel.set())
    with pytest.raises(RenderCancelled):
        run_batch(products, options, executor=executor)
    state = json.loads((options.out_dir / STATE_NAME).read_text())
    assert list(state) == ["P1"]  # the one finished before the cancel, remembered
    deadline = time.monotonic() + 30.0  # the workers are gone: the cluster's GPUs are free again
    while ray_cluster.available_resources().get("GPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray_cluster.available_resources().get("GPU", 0) == 2

    reports: list[dict[str, Any]] = []
    again = run_batch(products, options, executor=talk_on_cluster(on_render=reports.append))
    assert [r.status for r in again.rows] == ["finished", "made", "made", "made"]
    assert sorted(r["product"] for r in reports) == ["P2", "P3", "P4"]  # P1 was not rendered again
