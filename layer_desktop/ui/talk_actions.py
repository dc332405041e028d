"""The talking-head mode of the studio: File › New talking head opens ``TalkDialog``; Preview animates
the first seconds on the task manager (shown in the dialog), Render goes through the queue to the
engine, and the finished video opens in the viewer and plays (publish it from the Queue panel)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import ValidationError
from PySide6.QtCore import QTimer

from layer_desktop.engine.talking.batch import BatchOptions, BatchResult, run_batch, write_report
from layer_desktop.engine.talking.catalogue import read_catalogue
from layer_desktop.engine.talking.render import prepare_talk
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import InputError, LayerError
from layer_desktop.paths import app_paths
from layer_desktop.remote.storage.key_publisher import key_publisher
from layer_desktop.ui.widgets.talk_batch_dialog import TalkBatchDialog
from layer_desktop.ui.widgets.talk_dialog import TalkDialog

if TYPE_CHECKING:
    from layer_desktop.engine.media.probe import MediaInfo
    from layer_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

PREVIEW_S = 2.0
AUDIO_WAIT_TRIES = 30  # x 100 ms


def preview_frames(spec: TalkSpec, seconds: float = PREVIEW_S) -> list[np.ndarray]:
    """The first ``seconds`` of ``spec``'s video as RGB frames (speech, face and frames; no encode)."""
    with tempfile.TemporaryDirectory(prefix="layer-talk-preview-") as folder:
        animator = prepare_talk(spec, Path(folder))
        return [animator.frame(i) for i in range(min(animator.frames, round(seconds * spec.fps)))]


class TalkActions:
    """Mixed into ``MainWindow``."""

    talk_dialog: TalkDialog | None = None
    talk_batch_dialog: TalkBatchDialog | None = None
    _talk_targets: set[str]
    _play_when_open: Path | None = None

    def new_talking_head(self: MainWindow) -> None:
        """File › New talking head…: the dialog (one at a time)."""
        if not hasattr(self, "_talk_targets"):
            self._talk_targets = set()
            self.document.opened.connect(self._talk_opened)
            if self.queue is not None:
                self.queue.downloaded.connect(self._talk_downloaded)
        if self.talk_dialog is None:
            names = [p.name for p in self.library.personas]
            output = app_paths().data_dir / "talking-heads" / "talking-head.mp4"
            self.talk_dialog = TalkDialog(names, output, self)
            self.talk_dialog.preview_requested.connect(self.preview_talking_head)
            self.talk_dialog.render_requested.connect(self.render_talking_head)
        self.talk_dialog.show()
        self.talk_dialog.raise_()

    def _talk_spec(self: MainWindow) -> TalkSpec | None:
        assert self.talk_dialog is not None
        try:
            return self.talk_dialog.spec()
        except ValidationError as exc:
            err = exc.errors()[0]
            self._on_error(InputError(f"The talking head cannot be made: {err['msg']}.",
                                      hint="Choose a photo or persona and type a script."))  # fmt: skip
            return None

    def preview_talking_head(self: MainWindow) -> None:
        spec = self._talk_spec()
        if spec is None or self.talk_dialog is None:
            return
        dialog = self.talk_dialog
        dialog.status.setText("Previewing…")

        def shown(frames: list[np.ndarray]) -> None:
            dialog.status.setText(f"Preview: the first {len(frames) / spec.fps:.1f} s")
            dialog.show_preview(frames)

        self.tasks.run(lambda: preview_frames(spec), shown, self._on_error)

    def render_talking_head(self: MainWindow) -> None:
        spec = self._talk_spec()
        if spec is None or self.talk_dialog is None:
            return
        if self.queue is None:
            self._on_error(
                InputError("Rendering needs the engine, which is off.", hint="Restart the studio.")
            )
            return
        target = Path(spec.output)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._talk_targets.add(str(target))
        self.queue.submit_talk(spec)
        self.talk_dialog.status.setText(f"Queued → {target.name}")
        self.statusBar().showMessage(f"Queued the talking head → {target}")

    def talking_head_batch(self: MainWindow) -> None:
        """File › Talking heads for a catalogue…: the batch dialog (one at a time)."""
        if self.talk_batch_dialog is None:
            from layer_desktop.remote.storage import list_destinations

            names = [d.name for d in list_destinations()]
            folder = str(app_paths().data_dir / "talking-heads" / "catalogue")
            self.talk_batch_dialog = TalkBatchDialog(names, folder, self)
            self.talk_batch_dialog.start_requested.connect(self.run_talking_head_batch)
        self.talk_batch_dialog.show()
        self.talk_batch_dialog.raise_()

    def run_talking_head_batch(self: MainWindow) -> None:
        dialog = self.talk_batch_dialog
        assert dialog is not None
        try:
            products = read_catalogue(Path(dialog.catalogue.text().strip()))
            publisher = key_publisher(dialog.publish_to) if dialog.publish_to else None
        except LayerError as exc:
            self._on_error(exc)
            return
        out_dir = Path(dialog.out_dir.text().strip())
        options = BatchOptions(out_dir=out_dir, org=dialog.org.text().strip() or "default",
                               destination=dialog.publish_to)  # fmt: skip

        def work() -> BatchResult:
            result = run_batch(products, options, publisher=publisher, on_row=dialog.row_done.emit)
            write_report(result, out_dir / "report.csv")
            write_report(result, out_dir / "report.json")
            return result

        dialog.started(len(products))
        self.tasks.run(work, dialog.finished, self._on_error)

    def _talk_downloaded(self: MainWindow, job_id: str, path: str) -> None:
        if path in self._talk_targets:
            self._talk_targets.discard(path)
            self._play_when_open = Path(path)
            self.open_path(Path(path))

    def _talk_opened(self: MainWindow, info: MediaInfo) -> None:
        if self._play_when_open is not None and self.document.path == self._play_when_open:
            self._play_when_open = None
            self._play_with_sound(AUDIO_WAIT_TRIES)

    def _play_with_sound(self: MainWindow, tries: int) -> None:
        """Play once the player holds the video's sound (it loads in the background), or without it."""
        if len(self.player.audio.pcm) or tries <= 0:
            self.player.play(1.0)
            return
        QTimer.singleShot(100, lambda: self._play_with_sound(tries - 1))
