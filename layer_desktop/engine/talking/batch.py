"""``run_batch``: a product catalogue → one talking-head video per product, resumable and cached.

Each product is rendered to ``out_dir/<key>`` (the key from the template), then handed to the
``publisher`` (when one is given) as soon as it is finished. A product whose content hash (photo,
script, voice, settings) and key match the batch state, with its file present, is skipped; the same
content made for another product is copied from the cache instead of rendered again. One product's
failure is recorded with what to do and the batch goes on; the report lists every product.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from layer_desktop.engine.personas import PersonaStore
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
from layer_desktop.errors import InputError, LayerError
from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

STATE_NAME = ".layer-talk-batch.json"
Status = Literal["made", "cached", "finished", "failed"]
Publisher = Callable[[Path, str], str]  # (video, key) → the link; raises LayerError subclasses
Renderer = Callable[[TalkSpec], None]  # writes spec.output (this process, or an engine service)
RowDone = Callable[["BatchRow", int, int], None]  # (row, number, total)


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


def _place(cached: Path, video: Path) -> None:
    video.parent.mkdir(parents=True, exist_ok=True)
    tmp = video.with_name(f".{video.name}.copy")
    shutil.copyfile(cached, tmp)
    os.replace(tmp, video)


class _Batch:
    def __init__(
        self, options: BatchOptions, publisher: Publisher | None, store: PersonaStore | None,
        renderer: Renderer | None,
    ) -> None:  # fmt: skip
        self.o, self.publisher, self.store = options, publisher, store
        self.renderer = renderer or self._here
        self.state = _state(options.out_dir)
        self.cache = app_paths().cache_dir / "talk" / "videos"

    def _here(self, spec: TalkSpec) -> None:
        render_talk(spec, store=self.store)

    def run(self, product: Product) -> BatchRow:
        started = time.perf_counter()
        try:
            row = self._one(product)
        except LayerError as exc:
            log.info("product %s failed: %s", product.product_id, exc.message)
            row = BatchRow(product.product_id, product.name, "failed", error=exc.message, hint=exc.hint)
        except (OSError, ValueError) as exc:
            log.exception("product %s failed", product.product_id)
            row = BatchRow(product.product_id, product.name, "failed", error=f"{type(exc).__name__}: {exc}",
                           hint="Check the product's files and run the batch again.")  # fmt: skip
        return BatchRow(**{**asdict(row), "seconds": round(time.perf_counter() - started, 2)})

    def _one(self, product: Product) -> BatchRow:
        script = script_for(product, self.o.script_template)
        voice = product.voice or self.o.voice
        content = content_hash(product, script, voice, self.o.settings)
        key = output_key(self.o.key_template, org=self.o.org, product=product, content=content)
        video = self.o.out_dir / key
        known = self.state.get(product.product_id, {})
        status: Status
        if known.get("hash") == content and video.is_file():
            status = "finished"
        elif (self.cache / f"{content}.mp4").is_file():
            _place(self.cache / f"{content}.mp4", video)
            status = "cached"
        else:
            video.parent.mkdir(parents=True, exist_ok=True)
            self.renderer(_spec(product, script, voice, video, self.o.settings))
            self.cache.mkdir(parents=True, exist_ok=True)
            _place(video, self.cache / f"{content}.mp4")
            status = "made"
        self._remember(product, content, key, known.get("url", "") if status == "finished" else "",
                       known.get("destination", "") if status == "finished" else "")  # fmt: skip
        url, published = self._publish(product, video, key)
        return BatchRow(product.product_id, product.name, status, str(video), key, url, published)

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
) -> BatchResult:
    """Render (and publish) every product; failures are rows of the result, never exceptions.
    ``renderer`` makes one video (default: ``render_talk`` in this process)."""
    options.out_dir.mkdir(parents=True, exist_ok=True)
    batch = _Batch(options, publisher, store, renderer)
    rows = []
    for number, product in enumerate(products, start=1):
        row = batch.run(product)
        rows.append(row)
        if on_row is not None:
            on_row(row, number, len(products))
    return BatchResult(tuple(rows))


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
