"""Frame timelines that took a whole decode (AVI with B-frames, GIF, raw streams), kept on disk in the
app's cache, so the studio, the engine and the CLI decode such a file once, not once per process.

An entry is keyed by the file's resolved path, size and modification time: a changed file misses.
A damaged or unreadable entry is ignored (the timeline is built again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from layer_desktop.paths import app_paths
from layer_desktop.settings import write_atomic

log = logging.getLogger(__name__)

VERSION = 1
CacheKey = tuple[str, int, int, int]  # resolved path, size, mtime_ns, stream index


def _file(key: CacheKey) -> Path:
    digest = hashlib.sha256(json.dumps([VERSION, *key]).encode()).hexdigest()[:32]
    return app_paths().cache_dir / "timelines" / f"{digest}.json"


def load(key: CacheKey) -> dict[str, Any] | None:
    """The stored entry for ``key`` (what ``save`` was given), or None."""
    try:
        data = json.loads(_file(key).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring a damaged timeline cache entry for %s: %s", key[0], exc)
        return None
    if not isinstance(data, dict) or data.get("key") != list(key):
        return None
    return data


def save(key: CacheKey, data: dict[str, Any]) -> None:
    """Store ``data`` (JSON-able) for ``key``; a failure to write only costs a decode next time."""
    try:
        write_atomic(_file(key), json.dumps({**data, "key": list(key)}, separators=(",", ":")).encode())
    except OSError as exc:
        log.warning("could not store the timeline of %s: %s", key[0], exc)
