"""Open a media file with PyAV, turning every way it can fail into a specific ``MediaError``.

PyAV says ``InvalidDataError`` for an empty file, a text file renamed ``.mp4`` and an MP4 whose index
was never written alike; the user needs to hear which of these it is, so we sniff the bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import av.container

from layer_desktop.errors import (
    CorruptMediaError,
    EmptyFileError,
    MediaError,
    MediaNotFoundError,
    NoAudioStreamError,
    NoVideoStreamError,
    UnsupportedFileError,
)

log = logging.getLogger(__name__)

# Demuxers that read single still pictures: a photo is not a video.
STILL_IMAGE_FORMATS = frozenset(
    {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "gif", "gif_pipe", "mjpeg"}
)


def check_file(path: Path) -> None:
    """Raise ``MediaNotFoundError`` / ``EmptyFileError`` before PyAV gets a chance to be vague."""
    if not path.exists():
        raise MediaNotFoundError(f"{path} does not exist.", path=path)
    if path.is_dir():
        raise UnsupportedFileError(f"{path} is a folder, not a media file.", path=path)
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{path} is empty (0 bytes).", path=path)


def describe_unreadable(path: Path, head: bytes) -> MediaError:
    """Explain a file FFmpeg could not open, from its first bytes."""
    if head[4:8] == b"ftyp":
        return CorruptMediaError(
            f"{path} is an MP4/MOV file whose index ('moov' box) is missing: the recording or copy was "
            "interrupted before it finished.",
            path=path,
        )
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return CorruptMediaError(f"{path} is a WAV file with a damaged header.", path=path)
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if head and printable == len(head):
        return UnsupportedFileError(f"{path} is a text file, not audio or video.", path=path)
    return UnsupportedFileError(f"{path} is not a media format Layer Desktop can read.", path=path)


@contextmanager
def open_input(path: str | Path) -> Iterator[av.container.InputContainer]:
    """Open ``path`` for reading; raises a ``MediaError`` subclass that says what is wrong."""
    p = Path(path)
    check_file(p)
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        with p.open("rb") as fh:
            head = fh.read(64)
        raise describe_unreadable(p, head) from exc
    except av.error.FFmpegError as exc:
        raise UnsupportedFileError(f"{p} cannot be opened: {exc}", path=p) from exc
    try:
        yield container
    finally:
        container.close()


# Still-image demuxers that also read animations and raw camera streams (MJPEG): a file with more than
# one picture is a video.
ANIMATION_FORMATS = frozenset({"gif", "gif_pipe", "webp_pipe", "mjpeg"})


def is_still_image(container: av.container.InputContainer, path: str | Path) -> bool:
    """True for a photo: a still-image format holding one picture (an animated GIF is a video)."""
    names = set(container.format.name.split(","))
    if not names & STILL_IMAGE_FORMATS:
        return False
    if not names & ANIMATION_FORMATS:
        return True
    # Counted on a second opening, so the caller's container still stands at the start.
    with av.open(str(path), metadata_errors="ignore") as other:
        if not other.streams.video:
            return True
        pictures = 0
        for packet in other.demux(other.streams.video[0]):
            pictures += packet.size > 0
            if pictures > 1:
                return False
    return True


def video_stream(container: av.container.InputContainer, path: str | Path) -> av.VideoStream:
    """The first video stream; raises ``NoVideoStreamError`` or, for a photo, ``UnsupportedFileError``."""
    if is_still_image(container, path):
        raise UnsupportedFileError(
            f"{path} is a still image, not a video.",
            hint=(
                "Add photos to a persona (Personas panel, or `layer persona create --face`); "
                "open a video here."
            ),
            path=path,
        )
    if not container.streams.video:
        raise NoVideoStreamError(f"{path} has no video track (it holds audio only).", path=path)
    return container.streams.video[0]


def audio_stream(container: av.container.InputContainer, path: str | Path) -> av.AudioStream:
    """The first audio stream; raises ``NoAudioStreamError``."""
    if not container.streams.audio:
        raise NoAudioStreamError(f"{path} has no audio track.", path=path)
    return container.streams.audio[0]


def decode_error(path: str | Path, exc: Exception, where: str) -> CorruptMediaError:
    """The error for a decode that stopped part way through a file."""
    log.warning("decode failed in %s at %s: %s", path, where, exc)
    return CorruptMediaError(f"{path} is damaged or cut short: decoding stopped at {where}.", path=path)
