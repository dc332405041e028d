"""Resumable, verified model downloads.

Bytes go to ``<models>/<filename>.part``. A later fetch continues it with ``Range: bytes=N-`` (a ``206``
answer is appended; a ``200`` means the server ignored the range and the file starts again). Only a file
whose sha256 matches the manifest is renamed into place; any other is moved to ``quarantine/`` and
``ModelHashMismatch`` is raised. The manifest's urls are mirrors, tried in order.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.engine.models.manifest import ModelSpec
from layer_desktop.errors import ModelDownloadError, ModelError, ModelHashMismatch

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes on disk so far, total bytes or None when unknown)."""

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def part_path(spec: ModelSpec, models_dir: Path) -> Path:
    return models_dir / f"{spec.filename}.part"


def quarantine(path: Path, quarantine_dir: Path, actual: str) -> Path:
    """Move a file that failed verification out of the way, where no loader looks."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / f"{path.name.removesuffix('.part')}.{actual[:16]}"
    os.replace(path, target)
    log.warning("quarantined %s as %s", path, target)
    return target


def check_hash(spec: ModelSpec, path: Path, quarantine_dir: Path | None) -> None:
    """Raise ``ModelHashMismatch`` (after quarantining the file, when a folder is given) unless
    ``path`` has the manifest's sha256. A model whose publisher gives no sha256 is accepted unchecked
    (and logged as such)."""
    if not spec.sha256:
        logging.getLogger(__name__).warning("%s has no published sha256: its file is not verified", spec.id)
        return
    actual = sha256_file(path)
    if actual == spec.sha256:
        return
    where = ""
    if quarantine_dir is not None:
        where = f" It was moved to {quarantine(path, quarantine_dir, actual)}."
    raise ModelHashMismatch(
        f"Model {spec.id!r} ({spec.filename}) failed verification: expected sha256 {spec.sha256}, "
        f"got {actual}.{where}",
        path=path,
    )


def download_model(
    spec: ModelSpec,
    models_dir: Path,
    *,
    client: httpx.Client | None = None,
    progress: ProgressCallback | None = None,
    attempts: int = 2,
) -> Path:
    """Download ``spec`` into ``models_dir`` (resuming a ``.part`` file), verify it and install it.

    Raises ``ModelDownloadError`` when no mirror delivered the file (the ``.part`` is kept for the next
    try) and ``ModelHashMismatch`` when the delivered file is not the published one.
    """
    if not spec.urls:
        raise ModelDownloadError(f"Model {spec.id!r} has no download url (it ships with the app).")
    models_dir.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=15.0))
    try:
        return _download_from_mirrors(spec, models_dir, http, progress, max(1, attempts))
    finally:
        if own_client:
            http.close()


def _download_from_mirrors(
    spec: ModelSpec, models_dir: Path, http: httpx.Client, progress: ProgressCallback | None, attempts: int
) -> Path:
    part = part_path(spec, models_dir)
    failure: ModelError | None = None
    for url in spec.urls:
        for _ in range(attempts):
            try:
                transfer(http, url, part, spec.size, progress)
            except ModelDownloadError as exc:
                log.info("download of %s from %s failed: %s", spec.id, url, exc)
                failure = exc
                continue
            try:
                check_hash(spec, part, models_dir / "quarantine")
            except ModelHashMismatch as exc:
                failure = exc
                break  # this mirror serves the wrong bytes: try the next one
            final = models_dir / spec.filename
            os.replace(part, final)
            log.info("installed model %s at %s", spec.id, final)
            return final
    if isinstance(failure, ModelDownloadError) and len(spec.urls) > 1:
        raise ModelDownloadError(
            f"Model {spec.id!r} could not be downloaded from any of its {len(spec.urls)} mirrors; "
            f"the last one said: {failure.message}",
            path=part,
        ) from failure
    assert failure is not None
    raise failure


def transfer(
    http: httpx.Client, url: str, part: Path, size: int | None, progress: ProgressCallback | None
) -> None:
    """Bring ``part`` up to the whole body of ``url``, continuing from its current length.

    Raises ``ModelDownloadError`` on a network or HTTP failure; what arrived stays in ``part``.
    """
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    if size is not None and offset == size and offset > 0:
        return  # complete from an earlier run; the hash check decides
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    done = offset
    try:
        with http.stream("GET", url, headers=headers) as resp:
            offset = _resume_offset(resp, url, part, offset)
            done = offset
            length = resp.headers.get("Content-Length")
            total = offset + int(length) if length is not None else size
            with part.open("ab" if offset else "wb") as fh:
                for chunk in resp.iter_bytes():
                    fh.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    except httpx.HTTPError as exc:
        why = str(exc) or type(exc).__name__
        if done == offset:
            raise ModelDownloadError(f"Could not download from {url}: {why}.", path=part) from exc
        raise ModelDownloadError(
            f"The download from {url} stopped after {done} bytes: {why}.", path=part
        ) from exc


def _resume_offset(resp: httpx.Response, url: str, part: Path, offset: int) -> int:
    """Where the body of ``resp`` starts in the file: ``offset`` for a 206, 0 for a 200."""
    if resp.status_code == 200:
        if offset:
            log.info("%s ignored the Range request; starting again from 0", url)
        return 0
    if resp.status_code == 206:
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == offset:
            return offset
        part.unlink(missing_ok=True)
        raise ModelDownloadError(f"{url} resumed at the wrong position; the partial file was discarded.")
    if resp.status_code == 416:
        part.unlink(missing_ok=True)  # our partial file is longer than the file there: start over
        raise ModelDownloadError(f"{url} refused to resume (HTTP 416); the partial file was discarded.")
    raise ModelDownloadError(f"{url} answered HTTP {resp.status_code} {resp.reason_phrase}.")
