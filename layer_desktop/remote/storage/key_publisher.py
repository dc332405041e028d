"""Publishing under keys made elsewhere (a talking-head batch renders its own ``{org}/videos/…`` keys):
one destination opened once, each file uploaded under its key, its link returned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from layer_desktop.remote.storage.destinations import get_destination
from layer_desktop.remote.storage.publish import PublishOptions, publish
from layer_desktop.remote.storage.records import PublishDb

KeyPublisher = Callable[[Path, str], str]


def key_publisher(name: str, db: PublishDb | None = None) -> KeyPublisher:
    """``send(file, key) -> link`` for the destination called ``name``. Raises ``DestinationError`` now
    for an unknown destination; each call raises what ``publish`` raises."""
    destination = get_destination(name)
    records = db or PublishDb()

    def send(file: Path, key: str) -> str:
        # the key holds safe segments only, so as a template it renders to itself
        return publish(file, destination, options=PublishOptions(key_template=key), db=records).url

    return send
