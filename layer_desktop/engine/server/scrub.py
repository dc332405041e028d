"""What leaves the engine names no absolute path of the engine's machine: error messages, hints and job
reports carry a file's name at most. A remote engine's folder layout is not the client's business (and
a shared one's is other users'), and a local client knows its own paths already."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

# an absolute POSIX path of two or more parts, as it appears inside a sentence
_ABSOLUTE = re.compile(r"(?<![\w.:/-])/(?:[^\s/'\"()<>,;]+/)+[^\s/'\"()<>,;]*")


def scrub(text: str | None) -> str | None:
    """``text`` with every absolute path replaced by its last part (``/srv/engine/jobs/ab/x.mp4`` →
    ``x.mp4``)."""
    if text is None:
        return None
    return _ABSOLUTE.sub(lambda m: PurePosixPath(m.group().rstrip(".")).name + _dot(m.group()), text)


def _dot(path: str) -> str:
    return "." if path.endswith(".") else ""  # the full stop after a path ends the sentence


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """A job report without the engine's folders: ``job_dir`` and ``output`` as names only."""
    return {k: PurePosixPath(v).name if k in ("job_dir", "output") and isinstance(v, str) else v
            for k, v in report.items()}  # fmt: skip
