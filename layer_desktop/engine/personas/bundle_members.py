"""Reading a ``.layerpersona`` bundle's media safely: caps on the whole zip, members streamed to disk
and hashed on the way, every picture and recording decoded before anything is stored.

A zip bomb (a few MB that inflate to GB) is refused from the central directory before a byte is
inflated; a member whose directory entry lies is cut off one byte past its declared size while it
streams, so memory stays at one block and disk at the caps.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import av

from layer_desktop.engine.faces.image_io import load_image
from layer_desktop.engine.personas.media_store import SHA256_RE
from layer_desktop.engine.personas.records import Persona
from layer_desktop.errors import BundleError, ImageError

MAX_MEMBERS = 256  # photos, voice samples, thumbnail, consent proof, manifest
MAX_TOTAL_BYTES = 512 << 20  # all members together, uncompressed (the engine's upload cap, limits.py)
MAX_MEMBER_BYTES = 256 << 20  # one member (a long WAV voice sample)
MAX_IMAGE_PIXELS = 50_000_000  # a face photo; a bigger one is a decompression bomb, not a photo
BLOCK = 1 << 20


def check_directory(zf: zipfile.ZipFile, bundle: Path) -> None:
    """Refuse a zip with too many members or too many bytes once inflated (``BundleError``)."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise BundleError(f"{bundle} holds {len(infos)} files; a persona bundle has at most {MAX_MEMBERS}.")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES or any(i.file_size > MAX_MEMBER_BYTES for i in infos):
        raise BundleError(
            f"{bundle} would inflate to {total / 1e6:,.0f} MB: more than a persona bundle holds "
            f"({MAX_TOTAL_BYTES >> 20} MB in all, {MAX_MEMBER_BYTES >> 20} MB a file).",
            hint="This is not a bundle Layer Desktop wrote; ask for the persona to be exported again.",
        )


def stage_members(
    zf: zipfile.ZipFile, bundle: Path, files: dict[str, Any], needed: set[str], staging: Path
) -> dict[str, Path]:
    """Stream every needed media member into ``staging``, checking its declared size and sha256."""
    if missing := needed - set(files):
        raise BundleError(f"{bundle}: the manifest does not list media {sorted(missing)[0]}.", path=bundle)
    staged: dict[str, Path] = {}
    for sha in sorted(needed):
        if not SHA256_RE.match(sha) or files[sha].get("sha256") != sha:
            raise BundleError(f"{bundle}: the manifest has an invalid media entry {sha!r}.", path=bundle)
        size = int(files[sha]["size"])
        if not 0 <= size <= MAX_MEMBER_BYTES:
            raise BundleError(f"{bundle}: media {sha} declares an impossible size.", path=bundle)
        staged[sha] = _stream(zf, bundle, sha, size, staging / sha)
    return staged


def _stream(zf: zipfile.ZipFile, bundle: Path, sha: str, size: int, target: Path) -> Path:
    digest, total = hashlib.sha256(), 0
    with zf.open(f"media/{sha}") as member, target.open("wb") as out:  # a name we built, never the zip's
        while block := member.read(min(BLOCK, size + 1 - total)):
            total += len(block)
            digest.update(block)
            out.write(block)
            if total > size:
                break
    if total != size or digest.hexdigest() != sha:
        raise BundleError(
            f"{bundle}: the member media/{sha} was changed or damaged "
            "(its content does not match its sha256).",
            path=bundle,
        )
    return target


def check_media(persona: Persona, staged: dict[str, Path], bundle: Path) -> None:
    """Decode every photo (faces, thumbnail) and voice sample; ``BundleError`` names the bad one."""
    pictures = {f.sha256 for f in persona.faces}
    if persona.thumbnail_sha256 is not None:
        pictures.add(persona.thumbnail_sha256)
    for sha in sorted(pictures):
        _check_picture(staged[sha], bundle, sha)
    for voice in persona.voices:
        _check_recording(staged[voice.sha256], bundle, voice.sha256)


def _check_picture(path: Path, bundle: Path, sha: str) -> None:
    try:
        with av.open(str(path)) as c:  # the header only: the size before any pixel is decoded
            cc = c.streams.video[0].codec_context
            pixels = cc.width * cc.height
    except (av.error.FFmpegError, IndexError) as exc:
        raise BundleError(f"{bundle}: the photo {sha[:12]}… is not a picture ({exc}).", path=bundle) from exc
    if pixels > MAX_IMAGE_PIXELS:
        raise BundleError(f"{bundle}: the photo {sha[:12]}… is {pixels:,} pixels: not a face photo.")
    try:
        load_image(path, min_side=1)
    except ImageError as exc:
        raise BundleError(f"{bundle}: the photo {sha[:12]}… cannot be decoded.", path=bundle) from exc


def _check_recording(path: Path, bundle: Path, sha: str) -> None:
    frames = 0
    try:
        with av.open(str(path)) as c:
            for _ in c.decode(audio=0):
                frames += 1
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        raise BundleError(f"{bundle}: the voice sample {sha[:12]}… is not a recording ({exc}).") from exc
    if frames == 0:
        raise BundleError(f"{bundle}: the voice sample {sha[:12]}… holds no sound.", path=bundle)
