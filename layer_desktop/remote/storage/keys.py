"""Object keys from a template such as ``{org}/videos/{project}-{id}.mp4``, and link expiries.

Every field value is sanitised to one safe path segment (letters, digits, ``.``, ``_``, ``-``), so a
project called ``../../etc`` or ``a/b`` cannot climb out of the template's folders; only the template's own
``/`` make folders. ``{id}`` is the first 12 hex digits of the file's sha256: the same file gets the same key,
which makes re-publishing it idempotent.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from layer_desktop.errors import KeyTemplateError, PublishError

FIELDS = ("org", "project", "persona", "date", "id", "name", "stem", "ext")
MAX_KEY_BYTES = 1024
MAX_EXPIRY = dt.timedelta(days=7)  # the longest a SigV4 presigned URL may live
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class KeyFields:
    """The values a key template may use besides those taken from the file."""

    org: str = ""
    project: str = ""
    persona: str = ""
    date: dt.date | None = None  # default: today (UTC)


def sanitize_segment(value: str) -> str:
    """One safe path segment: accents folded, anything else unsafe (``/`` included) turned into ``-``."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", folded).strip(".-")
    return re.sub(r"-{2,}", "-", cleaned)[:200]


def render_key(template: str, *, file: Path, sha256: str, fields: KeyFields | None = None) -> str:
    """The object key for ``file``; raises ``KeyTemplateError`` for unknown fields or an empty result."""
    fields = fields or KeyFields()
    date = fields.date or dt.datetime.now(dt.UTC).date()
    values = {
        "org": fields.org,
        "project": fields.project,
        "persona": fields.persona,
        "date": date.isoformat(),
        "id": sha256[:12],
        "name": file.name,
        "stem": file.stem,
        "ext": file.suffix.lstrip("."),
    }
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise KeyTemplateError(f"The key template {template!r} is malformed: {exc}.") from None
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if name not in values or spec or conversion:
            raise KeyTemplateError(f"The key template {template!r} uses an unknown field {{{name}}}.")
        out.append(sanitize_segment(values[name]))
    return _normalise(template, "".join(out))


def _normalise(template: str, key: str) -> str:
    segments = [s for s in key.replace("\\", "/").split("/") if s]
    if any(s in (".", "..") for s in segments) or not segments:
        raise KeyTemplateError(f"The key template {template!r} gives an empty or unsafe key ({key!r}).")
    result = "/".join(segments)
    if len(result.encode("utf-8")) > MAX_KEY_BYTES:
        raise KeyTemplateError(f"The key from template {template!r} is longer than {MAX_KEY_BYTES} bytes.")
    return result


def parse_expiry(text: str) -> dt.timedelta:
    """``30m``, ``24h``, ``7d``, ``3600s`` → a duration of at most 7 days; raises ``PublishError``."""
    match = _DURATION.match(text)
    if not match:
        raise PublishError(
            f"{text!r} is not a duration.", hint="Write the link expiry as 30m, 24h or 7d (at most 7 days)."
        )
    delta = dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not dt.timedelta(seconds=1) <= delta <= MAX_EXPIRY:
        raise PublishError(
            f"A link expiry of {text} is not possible: signed links last from 1 second to 7 days.",
            hint="Choose 7d or less, or set a public base URL (custom domain / r2.dev) for links that last.",
        )
    return delta
