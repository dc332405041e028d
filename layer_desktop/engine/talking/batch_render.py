"""How a catalogue batch's videos are made: an ``Executor`` takes the render jobs (pulled one by one, as it
has room for them) and yields each finished one as soon as it is done, in any order.

    in_process(renderer)   the default: one job after the other in this process (or through ``renderer``,
                           e.g. an engine service), each finished before the next is pulled
    talk_on_cluster(…)     ``layer_desktop.engine.cluster.talk``: Ray actors, one per GPU, several at once

A job's own failure (``LayerError``, a bad file) is a ``Rendered`` with an error and a hint, never an
exception: the batch goes on. An executor raises only for what stops the whole batch (cancelled, the
cluster lost). Publishing is never an executor's business: the driver publishes each finished video.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import LayerError

log = logging.getLogger(__name__)

Renderer = Callable[[TalkSpec], None]  # writes spec.output (this process, or an engine service)
FILE_HINT = "Check the product's files and run the batch again."


@dataclass(frozen=True)
class RenderJob:
    index: int  # the product's place in the catalogue
    product: str  # its id, for logs
    spec: TalkSpec  # spec.output: where the finished video must be


@dataclass(frozen=True)
class Rendered:
    """A finished job: its video is complete at ``spec.output`` unless ``error`` says why not."""

    index: int
    error: str = ""
    hint: str = ""
    worker: dict[str, Any] = field(default_factory=dict)  # where and when it ran (pid, started, finished)


Executor = Callable[[Iterable[RenderJob]], Iterator[Rendered]]


def failure(product: str, exc: Exception) -> tuple[str, str]:
    """(error, hint) of a product's failure: a ``LayerError``'s own words, else the exception named."""
    if isinstance(exc, LayerError):
        log.info("product %s failed: %s", product, exc.message)
        return exc.message, exc.hint
    log.error("product %s failed", product, exc_info=exc)
    return f"{type(exc).__name__}: {exc}", FILE_HINT


def in_process(renderer: Renderer) -> Executor:
    """Each job made by ``renderer``, one after the other; the next job is pulled once the driver has
    taken the last one (so a product the same as an earlier one finds that one's video in the cache)."""

    def run(jobs: Iterable[RenderJob]) -> Iterator[Rendered]:
        for job in jobs:
            started = time.time()
            try:
                renderer(job.spec)
            except (LayerError, OSError, ValueError) as exc:
                error, hint = failure(job.product, exc)
                yield Rendered(job.index, error, hint)
                continue
            yield Rendered(job.index, worker={"started": started, "finished": time.time()})

    return run
