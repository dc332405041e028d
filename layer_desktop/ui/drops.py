"""What a drop on the window means: files sorted by what the studio does with them.

Sorting is by name only — contents are checked by whatever opens them (a ``.png`` that is really a
JPEG still works; a text file named ``.mp4`` gets the decoder's clear error).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layer_desktop.errors import InputError

VIDEO = {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"}
# what cameras, broadcast captures and the web write besides (the media engine reads them frame-exactly)
VIDEO |= {".ts", ".m2ts", ".mts", ".mpg", ".mpeg", ".gif"}
IMAGE = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
AUDIO = {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac"}
PROJECT = ".layer"
PERSONA = ".layerpersona"
ACCEPTED = "videos (" + ", ".join(sorted(VIDEO)) + "), photos and voice samples for a persona, " \
    ".layer projects and .layerpersona bundles"  # fmt: skip


@dataclass(frozen=True)
class DropPlan:
    videos: tuple[Path, ...] = ()
    images: tuple[Path, ...] = ()
    audio: tuple[Path, ...] = ()
    projects: tuple[Path, ...] = ()
    personas: tuple[Path, ...] = ()


def plan_drop(paths: list[Path]) -> DropPlan:
    """Sort dropped files; raises ``InputError`` naming the files the studio cannot use (or folders)."""
    buckets: dict[str, list[Path]] = {"videos": [], "images": [], "audio": [], "projects": [], "personas": []}
    unknown: list[Path] = []
    for path in paths:
        suffix = path.suffix.lower()
        if path.is_dir():
            unknown.append(path)
        elif suffix in VIDEO:
            buckets["videos"].append(path)
        elif suffix in IMAGE:
            buckets["images"].append(path)
        elif suffix in AUDIO:
            buckets["audio"].append(path)
        elif suffix == PROJECT:
            buckets["projects"].append(path)
        elif suffix == PERSONA:
            buckets["personas"].append(path)
        else:
            unknown.append(path)
    if unknown:
        names = ", ".join(p.name for p in unknown)
        raise InputError(f"Layer cannot use {names}.", hint=f"Drop {ACCEPTED}.", path=unknown[0])
    return DropPlan(**{k: tuple(v) for k, v in buckets.items()})
