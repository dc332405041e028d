"""Loading still pictures for face work: content sniffed, colour and depth normalised, EXIF applied.

Everything becomes RGB uint8 (H, W, 3):

- the format is read from the bytes, never the extension (a JPEG named ``.png`` loads);
- CMYK JPEGs are converted by the decoder (OpenCV's libjpeg path);
- 16-bit images are reduced to 8 bits (rounded, ``/ 257``);
- an alpha channel is composited on **white** (a transparent background reads as a plain studio
  backdrop to the face detector, where black would look like hair or shadow);
- grayscale becomes three equal channels;
- the EXIF orientation tag (1–8) is applied, as a photo viewer would.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from layer_desktop.errors import ImageError

log = logging.getLogger(__name__)

MIN_SIDE = 32
_ORIENTATION_TAG = 0x0112


def load_image(path: str | Path, *, min_side: int = MIN_SIDE) -> NDArray[np.uint8]:
    """Read a still picture as RGB uint8 (H, W, 3).

    Raises ``ImageError`` (naming the file) when the file is missing, empty, not a picture OpenCV can
    decode, or smaller than ``min_side`` pixels on a side.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImageError(f"Cannot read the picture {p}: {exc.strerror or exc}", path=p) from exc
    if not data:
        raise ImageError(f"The picture {p} is empty (0 bytes).", path=p)
    return decode_image(data, name=str(p), min_side=min_side)


def decode_image(data: bytes, *, name: str = "<bytes>", min_side: int = MIN_SIDE) -> NDArray[np.uint8]:
    """Decode encoded picture bytes to RGB uint8; see ``load_image``."""
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        raw, kinds, blobs = cv2.imdecodeWithMetadata(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(f"{name} is not a picture that can be read ({exc.msg.strip()}).", path=name) from exc
    if raw is None or raw.size == 0:
        raise ImageError(f"{name} is not a picture that can be read (not JPEG, PNG, WebP, …).", path=name)
    rgb = _to_rgb8(np.asarray(raw), name)
    rgb = apply_orientation(rgb, _exif_orientation(kinds, blobs))
    h, w = rgb.shape[:2]
    if min(h, w) < min_side:
        raise ImageError(
            f"The picture {name} is too small ({w}×{h} pixels; at least {min_side} on each side needed).",
            path=name,
        )
    return rgb


def _to_rgb8(img: NDArray[np.generic], name: str) -> NDArray[np.uint8]:
    """Any decoded OpenCV image (BGR/BGRA/gray, 8/16-bit/float) to RGB uint8."""
    arr = _to_uint8(img, name)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=2))
    if channels == 4:
        return _composite_on_white(arr)
    if channels == 3:
        return np.ascontiguousarray(arr[:, :, ::-1])
    raise ImageError(f"{name} has {channels} colour channels, which is not supported.", path=name)


def _to_uint8(img: NDArray[np.generic], name: str) -> NDArray[np.uint8]:
    if img.dtype == np.uint8:
        return img.astype(np.uint8, copy=False)
    if img.dtype == np.uint16:
        return ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):  # HDR / float TIFF: clip to [0, 1]
        return (np.clip(np.nan_to_num(img.astype(np.float32)), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raise ImageError(f"{name} has an unsupported pixel type ({img.dtype}).", path=name)


def _composite_on_white(bgra: NDArray[np.uint8]) -> NDArray[np.uint8]:
    alpha = bgra[:, :, 3:4].astype(np.float32) / 255.0
    bgr = bgra[:, :, :3].astype(np.float32)
    out = bgr * alpha + 255.0 * (1.0 - alpha)
    return np.ascontiguousarray((out + 0.5).astype(np.uint8)[:, :, ::-1])


def apply_orientation(img: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """Turn an image stored with EXIF ``orientation`` (1–8) upright."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: np.rot90(a, k=-1)[::-1, :],
        8: lambda a: np.rot90(a, k=1),
    }
    op = ops.get(orientation)
    return img if op is None else np.ascontiguousarray(op(img))


def _exif_orientation(kinds: object, blobs: object) -> int:
    """The EXIF orientation among OpenCV's metadata chunks; 1 when absent or unreadable."""
    kind_list = np.asarray(kinds).ravel().tolist() if kinds is not None else []
    blob_list = list(blobs) if isinstance(blobs, (list, tuple)) else []
    for kind, blob in zip(kind_list, blob_list, strict=False):
        if int(kind) == cv2.IMAGE_METADATA_EXIF:
            try:
                return parse_exif_orientation(np.asarray(blob, dtype=np.uint8).tobytes())
            except (struct.error, ValueError) as exc:
                log.debug("unreadable EXIF block ignored: %s", exc)
    return 1


def parse_exif_orientation(exif: bytes) -> int:
    """The orientation tag (1–8) of a TIFF-structured EXIF block (with or without ``Exif\\0\\0``)."""
    if exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    if exif[:2] == b"II":
        endian = "<"
    elif exif[:2] == b"MM":
        endian = ">"
    else:
        raise ValueError("not a TIFF header")
    (ifd,) = struct.unpack_from(endian + "I", exif, 4)
    (count,) = struct.unpack_from(endian + "H", exif, ifd)
    for i in range(count):
        tag, typ, _n, value = struct.unpack_from(endian + "HHI4s", exif, ifd + 2 + 12 * i)
        if tag == _ORIENTATION_TAG and typ == 3:
            (orientation,) = struct.unpack_from(endian + "H", value, 0)
            return int(orientation) if 1 <= orientation <= 8 else 1
    return 1
