"""The seam where a cluster takes over parts of a transform job (``run_transform(elsewhere=…)``)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from layer_desktop.engine.media.render import RenderSpec
from layer_desktop.engine.pipeline.analysis import AnalysisKey


class Elsewhere(Protocol):
    """Parts of a job done by other processes (a cluster's workers), each before the engine's own pass
    over the same files: ``analyse`` fills the analysis folder's chunk files (the engine then only reads
    them), ``encode`` fills the render's work folder (the render then verifies and joins the chunks)."""

    def analyse(self, folder: Path, key: AnalysisKey) -> None: ...

    def encode(self, rspec: RenderSpec, work_dir: Path) -> None: ...
