"""A publish as the Queue panel lists it: file → destination, state, percentage and ETA, and its log.

Qt-free; the panel keeps one ``PublishRow`` per publish started in this session and draws it with the
engine's jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from layer_desktop.errors import LayerError, PublishCancelled

PERMILLE = 1000  # the progress bar's scale (bytes overflow its int past 2 GiB)


@dataclass
class PublishRow:
    row_id: str  # "publish-N", shown in the Job column
    file: Path
    destination: str
    state: str = "uploading"  # uploading, published, cancelled, failed
    detail: str = ""  # the link once published, the reason once failed
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    log: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state == "uploading"

    @property
    def permille(self) -> int:
        if self.state == "published":
            return PERMILLE
        return PERMILLE * self.done // self.total if self.total else 0

    def progressed(self, done: int, total: int, eta_s: float | None) -> None:
        self.done, self.total, self.eta_s = done, total, eta_s

    def finished(self, url: str) -> None:
        self.state, self.detail = "published", url
        self.log.append(f"published: {url}")

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, PublishCancelled):
            self.state, self.detail = "cancelled", "publish again to continue where it stopped"
        else:
            self.state = "failed"
            self.detail = exc.user_text() if isinstance(exc, LayerError) else str(exc)
        self.log.append(f"{self.state}: {self.detail}")

    def texts(self) -> list[str]:
        """The Queue panel's columns: Job, Output, State, Stage, Progress (a bar), fps, ETA."""
        eta = f"{self.eta_s:.0f} s" if self.eta_s is not None and self.active else ""
        state = self.state + (f": {self.detail}" if self.detail else "")
        stage = "Uploading" if self.active else ""
        return [self.row_id, f"{self.file.name} → {self.destination}", state, stage, "", "", eta]
