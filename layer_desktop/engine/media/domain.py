"""The real domains of the output settings, shared by the specs, the CLI options and the encoder set-up.

A value outside these never reaches ``avcodec_open2``: pydantic refuses it at the engine API, typer
(which validates ``Literal`` and ``Annotated`` bounds the same way) refuses it on the command line, and
``check_output_settings`` refuses it for plain dataclass specs built in code.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from layer_desktop.errors import InputError

Codec = Literal["h264", "hevc"]
# x264 and x265 take the same names; NVENC maps them onto p1..p7 (encode.NVENC_PRESETS)
Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"
]
PRESETS: tuple[str, ...] = get_args(Preset)
CODECS: tuple[str, ...] = get_args(Codec)
# quality scale per codec: libx264/libx265 --crf and NVENC -cq all take 0 (best) .. 51 (worst)
CRF_RANGE: dict[str, tuple[int, int]] = {"h264": (0, 51), "hevc": (0, 51)}
CRF_MIN, CRF_MAX = 0, 51
# a chunk is one closed GOP held by the encoder: 10 000 frames is ~3 min at 60 fps
CHUNK_FRAMES_MIN, CHUNK_FRAMES_MAX = 1, 10_000
OUTPUT_PATH_MAX = 1024  # characters of a whole output path in a spec
OUTPUT_NAME_MAX = 255  # bytes of its last component (every common file system's limit)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_output_settings(codec: str, crf: int, preset: str) -> None:
    """Raise ``InputError`` naming the setting when ``codec``/``crf``/``preset`` are outside their domain."""
    if codec not in CODECS:
        raise InputError(f"Unknown codec '{codec}'.", hint=f"Use one of: {', '.join(CODECS)}.")
    if preset not in PRESETS:
        raise InputError(f"Unknown encoder preset '{preset}'.", hint=f"Use one of: {', '.join(PRESETS)}.")
    low, high = CRF_RANGE[codec]
    if not low <= crf <= high:
        raise InputError(
            f"CRF {crf} is outside {low}-{high} for {codec}.", hint="Lower is better; 18 is good."
        )


def output_name_problem(value: str) -> str | None:
    """Why ``value`` cannot name an output file (too long, control characters, no file name), or None."""
    if not value.strip():
        return "the output name is empty"
    if len(value) > OUTPUT_PATH_MAX:
        return f"the output path is longer than {OUTPUT_PATH_MAX} characters"
    if _CONTROL.search(value):
        return "the output name holds control characters"
    name = re.split(r"[\\/]", value)[-1]
    if name in ("", ".", ".."):
        return "the output must name a file, not a folder"
    if len(name.encode("utf-8", "surrogateescape")) > OUTPUT_NAME_MAX:
        return f"the output file name is longer than {OUTPUT_NAME_MAX} bytes"
    return None


def unencodable_text(data: object) -> str | None:
    """The first string inside ``data`` (dicts, lists, tuples walked) that UTF-8 cannot encode — a lone
    surrogate, which JSON can carry (``"\\ud800"``) but SQLite, file names and OpenCV's text drawing
    cannot (OpenCV crashes the process on one) — or None."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return data
        return None
    if isinstance(data, dict):
        data = [*data.keys(), *data.values()]
    if isinstance(data, list | tuple):
        for item in data:
            if (bad := unencodable_text(item)) is not None:
                return bad
    return None


def refuse_unencodable(data: object) -> object:
    """A pydantic ``mode="before"`` check: ``ValueError`` when ``data`` holds a lone surrogate."""
    if unencodable_text(data) is not None:
        raise ValueError("text holds a lone surrogate (not valid Unicode)")
    return data
