"""Everything one engine process holds: job store, media, the job runner and the preview lane."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.engine.server.media import MediaLibrary
from layer_desktop.engine.server.runner import JobRunner

if TYPE_CHECKING:
    from layer_desktop.engine.server.preview import PreviewService

log = logging.getLogger(__name__)


class EngineService:
    """Jobs run on the runner's one worker thread; previews on their own single thread (so scrubbing
    stays responsive while a render runs); requests and file transfers on the server's I/O pool."""

    def __init__(
        self,
        home: EngineHome,
        *,
        allowed_roots: Sequence[Path] = (),
        personas: PersonaStore | None = None,
        models: ModelStore | None = None,
        cluster: str | None = None,
    ) -> None:
        self.home = home.ensure()
        self.personas = personas or PersonaStore()
        self.models = models or ModelStore()
        self.store = JobStore(home.database)
        self.media = MediaLibrary(home, self.store, allowed_roots)
        self.runner = JobRunner(home, self.store, self.media, self.personas, self.models, cluster)
        self.preview_lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-preview")
        self._previews: PreviewService | None = None

    @property
    def previews(self) -> PreviewService:
        if self._previews is None:
            from layer_desktop.engine.server.preview import PreviewService

            self._previews = PreviewService(self.personas, self.models)
        return self._previews

    def start(self) -> None:
        self.runner.start()

    def stop(self) -> None:
        self.runner.stop()
        self.preview_lane.shutdown(wait=True, cancel_futures=True)
        if self._previews is not None:
            self._previews.close()
        self.store.close()
