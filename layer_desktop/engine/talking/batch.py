"""``run_batch``: a product catalogue → one talking-head video per product, resumable and cached.

Each product is first decided here: finished (its content hash and key match the batch state, its file
present), in the cache (the same content made for another product: copied, not rendered), a bad input
(its failed row), or to render. The renders go to an executor (``batch_render``: in this process one
after the other by default, or several at once on a cluster) that hands back each video at
``out_dir/<key>`` as soon as it is finished; the video is then published here, in the driver (publishing
credentials never leave this machine), and the state saved, so an interrupted batch resumes. One
product's failure is recorded with what to do and the batch goes on; the report lists every product.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.talking.batch_render import (
    Executor,
    Rendered,
    Renderer,
    RenderJob,
    failure,
    in_process,
)
from layer_desktop.engine.talking.catalogue import (
    DEFAULT_KEY,
    DEFAULT_TEMPLATE,
    Product,
    content_hash,
    output_key,
    script_for,
)
from layer_desktop.engine.talking.render import render_talk
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import EngineError, InputError, LayerError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

STATE_NAME = ".layer-talk-batch.json"
Status = Literal["made", "cached", "finished", "failed"]
Publisher = Callable[[Path, str], str]  # (video, key) → the link; raises LayerError subclasses
RowDone = Callable[["BatchRow", int, int], None]  # (row, how many products are done, total)


@dataclass(frozen=True)
class BatchOptions:
    """Where the videos go and how every product is rendered (``settings``: TalkSpec fields)."""

    out_dir: Path
    org: str = "default"
    key_template: str = DEFAULT_KEY
    script_template: str = DEFAULT_TEMPLATE
    voice: str = "en"
    destination: str | None = None  # the publisher's destination name, for the state and the report
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchRow:
    product: str
    name: str
    status: Status
    video: str = ""
    key: str = ""
    url: str = ""
    published: str = ""  # "uploaded", "already" (an earlier run published it) or ""
    error: str = ""
    hint: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class BatchResult:
    rows: tuple[BatchRow, ...]

    @property
    def failed(self) -> int:
        return sum(r.status == "failed" for r in self.rows)

    @property
    def rendered(self) -> int:
        return sum(r.status == "made" for r in self.rows)

    @property
    def uploaded(self) -> int:
        return sum(r.published == "uploaded" for r in self.rows)


def _state(out_dir: Path) -> dict[str, dict[str, str]]:
    path = out_dir / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _spec(product: Product, script: str, voice: str, video: Path, settings: dict[str, Any]) -> TalkSpec:
    if bool(product.image) == bool(product.persona):
        raise InputError(
            f"Product {product.product_id} needs an image or a persona (one of them).",
            hint="Fill in its image column (a photo with a face) or its persona column.",
        )
    try:
        return TalkSpec.model_validate({**settings, "photo": product.image, "persona": product.persona,
                                        "script": script, "voice": voice, "output": str(video)})  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"Product {product.product_id}: {first['msg']}.") from None


def _place(source: Path, video: Path) -> None:
    video.parent.mkdir(parents=True, exist_ok=True)
    tmp = video.with_name(f".{video.name}.copy")
    shutil.copyfile(source, tmp)
    os.replace(tmp, video)


@dataclass(frozen=True)
class _Plan:
    """What one product needs, decided before any render: ``status`` when it needs none (finished, or
    its video in the cache), else the ``spec`` to render."""

    product: Product
    content: str
    key: str
    video: Path
    started: float
    status: Status | None = None
    spec: TalkSpec | None = None


class _Batch:
    def __init__(
        self, products: Sequence[Product], options: BatchOptions, publisher: Publisher | None,
        on_row: RowDone | None,
    ) -> None:  # fmt: skip
        self.products, self.o, self.publisher, self.on_row = products, options, publisher, on_row
        self.state = _state(options.out_dir)
        self.cache = app_paths().cache_dir / "talk" / "videos"
        self.rows: list[BatchRow | None] = [None] * len(products)
        self.sent: dict[int, _Plan] = {}  # catalogue index → a render under way
        self.twins: dict[str, list[tuple[int, _Plan]]] = {}  # content under way → products waiting for it

    def jobs(self) -> Iterator[RenderJob]:
        """Decide each product in catalogue order (finishing at once those that need no render) and yield
        the renders; a product with the content of one under way waits for that one's video."""
        for index, product in enumerate(self.products):
            started = time.perf_counter()
            try:
                plan = self._plan(product, started)
            except (LayerError, OSError, ValueError) as exc:
                self._failed(index, product, started, *failure(product.product_id, exc))
                continue
            if plan.spec is None:
                self._settle(index, plan)
            elif plan.content in self.twins:
                self.twins[plan.content].append((index, plan))
            else:
                self.twins[plan.content] = []
                self.sent[index] = plan
                yield RenderJob(index, product.product_id, plan.spec)

    def _plan(self, product: Product, started: float) -> _Plan:
        script = script_for(product, self.o.script_template)
        voice = product.voice or self.o.voice
        content = content_hash(product, script, voice, self.o.settings)
        key = output_key(self.o.key_template, org=self.o.org, product=product, content=content)
        video = self.o.out_dir / key
        plan = _Plan(product, content, key, video, started)
        if self.state.get(product.product_id, {}).get("hash") == content and video.is_file():
            return replace(plan, status="finished")
        if self._cached(content).is_file():
            return replace(plan, status="cached")
        video.parent.mkdir(parents=True, exist_ok=True)
        return replace(plan, spec=_spec(product, script, voice, video, self.o.settings))

    def take(self, done: Rendered) -> None:
        """A finished render: its row (cached and published), then those of the products waiting for it."""
        plan = self.sent.pop(done.index)
        waiting = [(done.index, plan), *self.twins.pop(plan.content, [])]
        if done.error:  # the same content fails the same way
            for index, p in waiting:
                self._failed(index, p.product, p.started, done.error, done.hint)
            return
        for index, p in waiting:
            self._settle(index, replace(p, status="made" if index == done.index else "cached"))

    def _cached(self, content: str) -> Path:
        return self.cache / f"{content}.mp4"

    def _settle(self, index: int, plan: _Plan) -> None:
        """Place the video (into or out of the cache), remember it, publish it, and give its row."""
        product = plan.product
        try:
            if plan.status == "made":
                self.cache.mkdir(parents=True, exist_ok=True)
                _place(plan.video, self._cached(plan.content))
            elif plan.status == "cached":
                _place(self._cached(plan.content), plan.video)
            known = self.state.get(product.product_id, {}) if plan.status == "finished" else {}
            self._remember(
                product, plan.content, plan.key, known.get("url", ""), known.get("destination", "")
            )
            url, published = self._publish(product, plan.video, plan.key)
        except (LayerError, OSError, ValueError) as exc:
            self._failed(index, product, plan.started, *failure(product.product_id, exc))
            return
        assert plan.status is not None
        row = BatchRow(
            product.product_id, product.name, plan.status, str(plan.video), plan.key, url, published
        )
        self._row(index, row, plan.started)

    def _failed(self, index: int, product: Product, started: float, error: str, hint: str) -> None:
        self._row(
            index, BatchRow(product.product_id, product.name, "failed", error=error, hint=hint), started
        )

    def _row(self, index: int, row: BatchRow, started: float) -> None:
        row = replace(row, seconds=round(time.perf_counter() - started, 2))
        self.rows[index] = row
        if self.on_row is not None:
            self.on_row(row, sum(r is not None for r in self.rows), len(self.rows))

    def _publish(self, product: Product, video: Path, key: str) -> tuple[str, str]:
        entry = self.state[product.product_id]
        if self.publisher is None:
            return entry.get("url", ""), ""
        if entry.get("url") and entry.get("destination") == (self.o.destination or ""):
            return entry["url"], "already"
        url = self.publisher(video, key)
        entry.update(url=url, destination=self.o.destination or "")
        self._save()
        return url, "uploaded"

    def _remember(self, product: Product, content: str, key: str, url: str, destination: str) -> None:
        self.state[product.product_id] = {"hash": content, "key": key, "url": url, "destination": destination}
        self._save()

    def _save(self) -> None:
        write_atomic(self.o.out_dir / STATE_NAME, json.dumps(self.state, indent=1).encode())


def run_batch(
    products: Sequence[Product],
    options: BatchOptions,
    *,
    publisher: Publisher | None = None,
    store: PersonaStore | None = None,
    on_row: RowDone | None = None,
    renderer: Renderer | None = None,
    executor: Executor | None = None,
) -> BatchResult:
    """Render (and publish) every product; a product's failure is its row of the result, never an
    exception. ``executor`` makes the videos (default: ``in_process(renderer)``, ``renderer`` defaulting
    to ``render_talk`` here); each finished video is published here, in the driver, as it arrives, and
    the state is saved after each product, so an interrupted batch resumes. The rows keep the catalogue's
    order; ``on_row`` hears of each product when it is done. Raises only what stops the whole batch
    (the executor's: ``RenderCancelled`` when cancelled)."""
    options.out_dir.mkdir(parents=True, exist_ok=True)
    if executor is None:
        executor = in_process(renderer or partial(_render_here, store=store))
    batch = _Batch(products, options, publisher, on_row)
    results = executor(batch.jobs())
    try:
        for done in results:
            batch.take(done)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # an executor's clean-up (its workers stopped) runs now, not when collected
    rows = tuple(r for r in batch.rows if r is not None)
    if len(rows) != len(products):
        raise EngineError(f"The batch stopped after {len(rows)} of {len(products)} products.")
    return BatchResult(rows)


def _render_here(spec: TalkSpec, *, store: PersonaStore | None) -> None:
    render_talk(spec, store=store)


def report_csv(result: BatchResult) -> str:
    buffer = io.StringIO()
    names = list(BatchRow.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    for row in result.rows:
        writer.writerow(asdict(row))
    return buffer.getvalue()


def write_report(result: BatchResult, path: Path) -> Path:
    """The report as CSV (``.csv``) or JSON (anything else), written atomically."""
    if path.suffix.lower() == ".csv":
        data = report_csv(result).encode()
    else:
        data = json.dumps({"products": [asdict(r) for r in result.rows]}, indent=1).encode()
    write_atomic(path, data)
    return path
