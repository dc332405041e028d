"""Where the client writes what an engine sends back: never a path the engine chose.

An engine may be rented, shared or compromised; a name it reports (``JobInfo.output_name``) is only a
suggestion for the file name, reduced to a plain, sanitised base name inside the folder the user chose.
"""

from __future__ import annotations

import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_MAX_NAME = 120
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


def safe_file_name(suggested: str, fallback: str) -> str:
    """A plain file name from ``suggested`` (last path component only, unsafe characters replaced, no
    leading dots, at most 120 characters, a video suffix), or ``fallback`` when nothing usable is left."""
    base = re.split(r"[\\/]", suggested)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in VIDEO_SUFFIXES:
        stem, suffix = base, "mp4"
    stem = stem.strip(" ._")[: _MAX_NAME - len(suffix) - 1]
    return f"{stem}.{suffix}" if stem else fallback


def download_target(folder: Path, suggested: str, fallback: str) -> Path:
    """``folder / safe_file_name(...)``; the result is always directly inside ``folder``."""
    target = folder / safe_file_name(suggested, fallback)
    assert target.parent == folder  # safe_file_name never yields a separator
    return target
