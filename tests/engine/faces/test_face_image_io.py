"""load_image: content sniffing, colour/depth/alpha normalisation, EXIF orientation, clear errors."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from layer_desktop.engine.faces import FaceAnalyzer, load_image
from layer_desktop.engine.faces.image_io import parse_exif_orientation
from layer_desktop.errors import ImageError


def _exif_with_orientation(orientation: int, endian: str = "<") -> bytes:
    head = b"II*\x00" if endian == "<" else b"MM\x00*"
    return (
        head
        + struct.pack(endian + "I", 8)
        + struct.pack(endian + "H", 1)
        + struct.pack(endian + "HHI", 0x0112, 3, 1)
        + struct.pack(endian + "HH", orientation, 0)
        + struct.pack(endian + "I", 0)
    )


def test_jpeg_named_png_is_sniffed_as_jpeg(media_dir: Path) -> None:
    path = media_dir / "bad" / "jpeg_named.png"
    img = load_image(path)
    reference = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    assert np.array_equal(img, reference)


def test_cmyk_jpeg_becomes_rgb_matching_the_rgb_crop(media_dir: Path) -> None:
    cmyk = load_image(media_dir / "bad" / "cmyk.jpg")
    rgb = load_image(media_dir / "bad" / "jpeg_named.png")  # the same crop saved as RGB
    assert cmyk.shape == (256, 256, 3) and cmyk.dtype == np.uint8
    assert np.abs(cmyk.astype(int) - rgb.astype(int)).mean() < 8  # same colours, not inverted


def test_rgba16_png_is_reduced_to_8_bit_and_composited_on_white(media_dir: Path) -> None:
    path = media_dir / "bad" / "rgba16.png"
    img = load_image(path)
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and img.dtype == np.uint8 and img.shape == (256, 256, 3)
    alpha = raw[:, :, 3]
    transparent, opaque = alpha == 0, alpha == 65535
    assert transparent.any() and opaque.any()
    assert (img[transparent] == 255).all()
    expected = np.round(raw[:, :, 2::-1][opaque] / 257.0)
    assert np.abs(img[opaque].astype(int) - expected).max() <= 1


def test_loaded_bad_images_still_show_the_face(media_dir: Path, analyzer: FaceAnalyzer) -> None:
    for name in ("cmyk.jpg", "rgba16.png", "jpeg_named.png"):
        faces = analyzer.detect(load_image(media_dir / "bad" / name))
        assert len(faces) == 1, name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("one_pixel.png", ("one_pixel.png", "too small", "1×1")),
        ("empty.mp4", ("empty.mp4", "empty")),
        ("text_renamed.mp4", ("text_renamed.mp4", "not a picture")),
        ("speech.mp3", ("speech.mp3", "not a picture")),
    ],
)
def test_unusable_files_raise_image_error_naming_file_and_problem(
    media_dir: Path, name: str, words: tuple[str, ...]
) -> None:
    with pytest.raises(ImageError) as info:
        load_image(media_dir / "bad" / name)
    for word in words:
        assert word in str(info.value)
    assert info.value.hint


def test_missing_file_is_an_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.png"):
        load_image(tmp_path / "nope.png")


def test_grayscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    grey = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    path = tmp_path / "grey.png"
    cv2.imwrite(str(path), grey)
    img = load_image(path)
    assert img.shape == (48, 64, 3)
    assert all(np.array_equal(img[:, :, c], grey) for c in range(3))


@pytest.mark.parametrize("endian", ["<", ">"])
def test_exif_orientation_is_applied(tmp_path: Path, endian: str) -> None:
    img = np.zeros((40, 60, 3), dtype=np.uint8)
    img[:10, :20] = 255  # a white block top-left
    ok, buf = cv2.imencodeWithMetadata(
        ".jpg", img, [cv2.IMAGE_METADATA_EXIF], [np.frombuffer(_exif_with_orientation(6, endian), np.uint8)]
    )
    assert ok
    path = tmp_path / "rotated.jpg"
    path.write_bytes(bytes(buf))
    out = load_image(path)
    assert out.shape == (60, 40, 3)  # orientation 6: stored sideways, shown rotated 90° clockwise
    assert out[:20, -10:].mean() > 200 and out[-20:, :10].mean() < 50


def test_exif_parser_reads_both_byte_orders_and_the_exif_prefix() -> None:
    assert parse_exif_orientation(_exif_with_orientation(8, "<")) == 8
    assert parse_exif_orientation(b"Exif\x00\x00" + _exif_with_orientation(3, ">")) == 3
    with pytest.raises(ValueError):
        parse_exif_orientation(b"nothing here")
