"""Checks made before any work starts, so that a render never fails at its end for a reason known at
its start, and never touches the user's source.

    check_output(source, output, ...)   folder exists and is writable, output is not a folder nor an input,
                                        enough free space for the chunks and the output
    hold_output(output)                 a lock file with our pid next to the output, for the whole job
    disk_errors()                       ENOSPC / EDQUOT met during the work → ``DiskFullError``

Free space is read through ``FreeSpace`` (``shutil.disk_usage`` by default), a seam a test replaces
where it cannot mount a small file system.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av

from layer_desktop.errors import DiskFullError, OutputInUseError, OutputPlaceError

log = logging.getLogger(__name__)

FreeSpace = Callable[[Path], int]  # free bytes on the file system holding a folder
MARGIN = 1.5  # the estimate is rough (CRF is not a bitrate): ask for half as much again
SLACK = 64 * 1024 * 1024  # manifests, records, audio, the join's temporary file
LOCK_SUFFIX = ".layer-lock"


def disk_free(folder: Path) -> int:
    """Free bytes for an unprivileged writer on ``folder``'s file system."""
    return shutil.disk_usage(folder).free


@dataclass(frozen=True)
class Estimate:
    """Rough size of what a render writes: each chunk once, then the joined output."""

    chunks: int
    output: int


def estimate_size(source: Path, crf: int) -> Estimate:
    """Bytes a render of ``source`` at ``crf`` writes, from pixels × rate × duration (x264 halves the
    bitrate about every 6 CRF steps; 0.12 bit/pixel at CRF 18 is a generous 1080p figure), never below
    the source's own size at CRF ≤ 18."""
    size = source.stat().st_size
    try:
        with av.open(str(source)) as c:
            v = c.streams.video[0]
            seconds = float(c.duration / av.time_base) if c.duration else 0.0
            rate = float(v.average_rate or 25)
            bits = v.codec_context.width * v.codec_context.height * rate * seconds * 0.12
    except (av.error.FFmpegError, IndexError, OSError, ZeroDivisionError):
        bits = 0.0  # the reader reports an unreadable source properly; here only the size matters
    estimate = int(bits / 8 * 2 ** ((18 - crf) / 6))
    if crf <= 18:
        estimate = max(estimate, size)
    total = int(estimate * MARGIN)
    return Estimate(chunks=total, output=total)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def check_place(output: Path, inputs: tuple[Path, ...]) -> None:
    """Raise ``OutputPlaceError`` when ``output`` names a folder, is one of ``inputs`` (same path or
    inode), or its folder is missing or not writable."""
    if output.is_dir():
        raise OutputPlaceError(
            f"The output {output} is a folder.", hint="Give a file name, e.g. -o out.mp4.", path=output
        )
    for source in inputs:
        if _same_file(output, source):
            raise OutputPlaceError(
                f"The output {output} is the input file: writing it would destroy the source.",
                hint="Choose another output name (e.g. add -layer before the extension).",
                path=output,
            )
    folder = output.parent
    if not folder.is_dir():
        raise OutputPlaceError(
            f"The output folder {folder} does not exist.",
            hint=f"Create it first (mkdir -p {folder}) or choose another output.",
            path=folder,
        )
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".layer-write-test"):
            pass
    except OSError as exc:
        raise OutputPlaceError(
            f"The output folder {folder} cannot be written ({exc.strerror}).",
            hint="Choose an output (-o) in a folder you can write to, or fix its permissions.",
            path=folder,
        ) from None


def check_space(needs: list[tuple[Path, int]], free_space: FreeSpace | None = None) -> None:
    """Raise ``DiskFullError`` when a folder's file system has less free space than asked of it. Needs
    on one file system add up (``needs``: an existing folder and the bytes written there)."""
    by_device: dict[int, tuple[Path, int]] = {}
    for folder, size in needs:
        dev = folder.stat().st_dev
        first, total = by_device.get(dev, (folder, 0))
        by_device[dev] = (first, total + size + SLACK)
    for folder, wanted in by_device.values():
        free = (free_space or disk_free)(folder)
        if free < wanted:
            raise DiskFullError(
                f"Not enough free space on the disk holding {folder}: about {wanted / 1e6:,.0f} MB "
                f"needed, {free / 1e6:,.0f} MB free.",
                hint="Free disk space, or choose an output (-o) or work folder on another disk.",
                path=folder,
            )


def existing_parent(folder: Path) -> Path:
    """``folder`` or its nearest existing ancestor (a work folder is created later, on that disk)."""
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_output(
    source: Path,
    output: Path,
    work_dir: Path,
    *,
    crf: int,
    other_inputs: tuple[Path, ...] = (),
    free_space: FreeSpace | None = None,
) -> None:
    """Every check on where a render writes, before it starts. Raises ``OutputPlaceError`` or
    ``DiskFullError`` with what to do."""
    check_place(output, (source, *other_inputs))
    size = estimate_size(source, crf) if source.is_file() else Estimate(0, 0)
    check_space([(existing_parent(work_dir), size.chunks), (output.parent, size.output)], free_space)


def lock_path(output: Path) -> Path:
    return output.parent / f".{output.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def hold_output(output: Path) -> Iterator[Path]:
    """Hold ``output`` for this job: a lock file with our pid beside it, locked with ``flock`` (released
    by the kernel when the process dies, so a crash leaves no stale lock). Raises ``OutputInUseError``
    naming the holder's pid."""
    path = lock_path(output)
    fd = _acquire(path, output)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _acquire(path: Path, output: Path) -> int:
    import fcntl  # POSIX; the engine and the CLI run on Linux and macOS

    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutputPlaceError(
                f"The output folder {output.parent} cannot be written ({exc.strerror}).", path=output.parent
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise OutputInUseError(
                f"The output {output} is in use by pid {holder}: another job is writing it.",
                path=output,
            ) from None
        # the holder may have removed the file between our open and our lock: lock the file on disk
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(fd).st_ino == path.stat().st_ino:
                return fd
        os.close(fd)


def _read_pid(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"


@contextlib.contextmanager
def disk_errors(where: Path) -> Iterator[None]:
    """Turn a full disk met during the work into ``DiskFullError`` (the finished chunks are kept)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise DiskFullError(
            f"The disk filled up while writing ({exc.filename or where}).",
            hint="Free disk space and run the same command again: finished chunks are reused.",
            path=where,
        ) from exc
