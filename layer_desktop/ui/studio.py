"""What the studio's actions do: open, view, edit the project, render, review — the slots behind the
menus, panels and drops. Mixed into ``MainWindow``, which owns the view-models and widgets this uses.

Every edit of the project goes through ``ProjectDocument`` (an undoable operation); every long step
runs on the task manager; every failure goes to the one error dialog.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QFileDialog

from layer_desktop import __version__
from layer_desktop.engine.media.probe import MediaInfo
from layer_desktop.engine.media.reader import DecodedFrame
from layer_desktop.engine.personas import PersonaStore, analyse_voice
from layer_desktop.engine.pipeline.demo import DemoContent, demo_content, ensure_demo_persona
from layer_desktop.engine.swap.options import SwapOptions
from layer_desktop.errors import InputError, LayerError
from layer_desktop.ui.drops import plan_drop
from layer_desktop.ui.guard import offer_project
from layer_desktop.ui.media_summary import media_summary
from layer_desktop.ui.overlays import CHUNK_FRAMES, FaceOverlays
from layer_desktop.ui.project import (
    ProjectState,
)
from layer_desktop.ui.render_options import RenderChoice
from layer_desktop.ui.review import FlaggedRange
from layer_desktop.ui.review_flow import PendingRerender, panel_states
from layer_desktop.ui.session_memory import (
    project_for_video,
)
from layer_desktop.ui.timecode import timecode
from layer_desktop.ui.widgets.publish_dialog import PublishDialog
from layer_desktop.ui.widgets.render_dialog import RenderDialog
from layer_desktop.ui.widgets.settings_dialog import SettingsDialog

if TYPE_CHECKING:
    from layer_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

VIDEO_FILTER = (
    "Videos (*.mp4 *.mov *.mkv *.webm *.m4v *.avi *.ts *.m2ts *.mts *.mpg *.mpeg *.gif);;All files (*)"
)


class StudioActions:
    """The window's behaviour; ``self`` is the ``MainWindow``."""

    def __init__(self: MainWindow) -> None:
        self.ranges: list[FlaggedRange] = []
        self.selected_segment: int | None = None
        self._restore_frame: int | None = None
        self._render_target: str | None = None
        self._last_render: RenderChoice | None = None
        self._pending_rerender: PendingRerender | None = None
        self.render_dialog: RenderDialog | None = None
        self.publish_dialog: PublishDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._shown: DecodedFrame | None = None
        self._media_html = "No video open"
        self._no_processed_note = ""  # the status bar's "why there is no processed view", while shown
        self._applied: ProjectState | None = None
        self.overlays = FaceOverlays(self.tasks, self)
        d = self.document
        d.opened.connect(self._on_opened)
        d.frame_ready.connect(self._on_frame)
        d.thumbnails_ready.connect(self.timeline.set_thumbnails)
        d.peaks_ready.connect(self.timeline.set_peaks)
        d.failed.connect(self._on_error)
        t = self.timeline
        t.seek_requested.connect(self._seek)
        t.segment_edges_changed.connect(
            lambda i, a, b: self._edit(self.project.update_segment, i, start=a, stop=b)
        )
        t.segment_selected.connect(self._select_segment)
        self.processed.ready.connect(self._on_processed)
        self.processed.unavailable.connect(self._on_no_processed)
        self.overlays.ready.connect(self._on_overlays)
        self.overlays.tracking.connect(self._on_tracking)
        self.scrub.progress.connect(self._on_proxy_progress)
        self.viewer.mode_changed.connect(self._on_mode)
        self.viewer.face_clicked.connect(self._on_face_clicked)
        self.transport.overlays.toggled.connect(self._on_overlays_toggled)
        self.project.changed.connect(self._on_project_changed)
        self.project.dirty_changed.connect(lambda _d: self._update_title())
        self.library.active_changed.connect(self._on_persona_chosen)
        self.library.changed.connect(self._on_personas_changed)
        self.library.failed.connect(self._on_error)
        r = self.review_panel
        r.range_selected.connect(self._on_range_selected)
        r.accepted.connect(lambda rng: self._edit(self.project.set_review, rng.key, "accepted"))
        r.accepted_all.connect(self._accept_all)
        r.keep_original.connect(lambda rng: self._rerender(rng, {"enabled": "false"}, "original"))
        r.rerender_requested.connect(lambda rng, changes: self._rerender(rng, changes, "rerendered"))
        if self.queue is not None:
            self.queue.submitted.connect(self._on_submitted)
            self.queue.downloaded.connect(self._on_downloaded)
            self.queue.job_failed.connect(self._on_job_failed)
        self.publisher.published.connect(self._on_published)
        self._build_recent_menu()
        self._update_title()

    # ------------------------------------------------------------------ helpers
    def _edit(self: MainWindow, op: Any, *args: Any, **kwargs: Any) -> bool:
        """Run a project operation; a refused edit (bad range, …) goes to the error dialog."""
        try:
            op(*args, **kwargs)
        except LayerError as exc:
            self._on_error(exc)
            return False
        return True

    def _fps(self: MainWindow) -> float:
        info = self.document.info
        return float(info.video.avg_fps) if info and info.video and info.video.avg_fps else 25.0

    def _update_title(self: MainWindow) -> None:
        path = self.project.path
        name = path.name if path else "Untitled"
        self.setWindowTitle(f"{name}{' •' if self.project.is_dirty else ''} — Layer Desktop {__version__}")

    # ------------------------------------------------------------------ opening
    def choose_file(self: MainWindow) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open video", "", VIDEO_FILTER)
        if name:
            self.open_path(Path(name))

    def open_files(self: MainWindow, paths: list[Path]) -> None:
        """A drop or a command line: videos open, photos/voices make a persona, projects and bundles open."""
        try:
            plan = plan_drop(paths)
        except LayerError as exc:
            self._on_error(exc)
            return
        for bundle in plan.personas:
            self.library.import_bundle(bundle)
        if plan.projects:
            self.open_project(plan.projects[0])
        elif plan.videos:
            self.open_path(plan.videos[0])
        if plan.images or plan.audio:
            # voice samples are checked first, so a broken one is named before any form opens
            audio = plan.audio
            images = plan.images
            self.tasks.run(
                lambda: [analyse_voice(p) for p in audio],
                lambda _ok: self._start_persona(images, audio),
                self._on_error,
                heavy=False,
            )

    def _start_persona(self: MainWindow, images: tuple[Path, ...], audio: tuple[Path, ...]) -> None:
        if not images:
            names = ", ".join(p.name for p in audio)
            self._on_error(
                InputError(
                    "A persona needs at least one photo with a face; "
                    f"only voice samples were dropped ({names}).",
                    hint="Drop photos together with the voice samples, or drop the samples on a persona in "
                    "the Personas panel to add them to it.",
                )
            )
            return
        self.persona_panel.start_create([*images, *audio])

    def open_path(self: MainWindow, path: Path) -> None:
        """Open a video: a new project on it (the persona stays chosen). Unsaved work is not dropped
        without asking, and the video's last project is offered when it has one."""
        self.player.pause()
        replacing = bool(self.project.state.source) and Path(self.project.state.source or "") != path
        if replacing and not self._may_replace_project():
            return
        known = project_for_video(path)
        if known is not None and known != self.project.path and offer_project(self, path, known):
            self.open_project(known, ask=False)
            return
        if replacing:
            self.project.reset(ProjectState(persona=self.project.state.persona))
            self._clear_review()
        if self.project.state.source != str(path):
            self.project.set_source(str(path))
        self.statusBar().showMessage(f"Opening {path.name}…")
        self.document.open(path)

    def open_demo(self: MainWindow, demo: DemoContent | None = None) -> None:
        """The built-in demo: the demo persona (built on first use) and the demo clip."""
        content = demo or demo_content()
        self.tasks.run(lambda: ensure_demo_persona(PersonaStore()).name, self._demo_persona_ready,
                       self._on_error, heavy=False)  # fmt: skip
        self.open_path(content.clip)
        self.viewer.set_mode("side_by_side")  # the newcomer sees the persona applied next to the source

    def _demo_persona_ready(self: MainWindow, name: str) -> None:
        self.library.reload()
        self.library.set_active(name)

    @property
    def persona_name(self: MainWindow) -> str | None:
        return self.project.state.persona

    def import_persona(self: MainWindow) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import persona", "", "Personas (*.layerpersona)")
        if name:
            self.library.import_bundle(Path(name))

    # ------------------------------------------------------------------ document → views
    def _on_opened(self: MainWindow, info: MediaInfo) -> None:
        self.timeline.set_media(self.document.frame_count)
        self.timeline.set_fps(self._fps())
        self.project.frame_count = self.document.frame_count
        self._applied = None
        self._on_project_changed(self.project.state)
        self.processed.set_source(Path(info.path))
        self.overlays.set_source(Path(info.path))
        self.document.proxy_folder = self.scrub.set_source(Path(info.path))
        self.review_panel.set_options(SwapOptions(), self.document.frame_count)
        self._media_html = media_summary(info)
        self._show_target(self.project.state.face)
        self.statusBar().showMessage(f"Opened {Path(info.path).name}")
        if self._restore_frame:
            self.document.request_frame(self._restore_frame)
        self._restore_frame = None
        self._load_review_if_rendered()

    def _on_frame(self: MainWindow, frame: DecodedFrame) -> None:
        self._shown = frame
        total = self.document.frame_count
        caption = (
            f"Frame {frame.index} / {total - 1}   {timecode(frame.index, self._fps())}   {frame.time:.3f} s"
        )
        self.viewer.show_frame(frame.image, caption)
        self.timeline.set_current(frame.index)
        self.project.set_view(current_frame=frame.index)
        if self.viewer.mode != "source":
            self.processed.request(frame.index)
        self.overlays.request(frame.index, frame.image)

    def _on_processed(self: MainWindow, result: tuple[int, np.ndarray]) -> None:
        index, rgb = result
        if index == self.document.current:
            self.viewer.show_processed(rgb)
        if self._no_processed_note and self.statusBar().currentMessage() == self._no_processed_note:
            self.statusBar().clearMessage()  # "choose a persona…" no longer holds
        self._no_processed_note = ""

    def _on_no_processed(self: MainWindow, why: str) -> None:
        self.viewer.show_processed(None)
        starting = self.engine_link is not None and self.engine_link.capabilities is None
        if self.viewer.mode != "source" and not starting:  # while it starts, the engine label says so
            self.statusBar().showMessage(why)
            self._no_processed_note = why

    def _on_overlays(self: MainWindow, result: tuple[int, list[dict[str, Any]]]) -> None:
        index, faces = result
        if index == self.document.current:
            self.viewer.set_overlays(faces)

    def _on_tracking(self: MainWindow, done: int, total: int) -> None:
        self.tracking_label.setText(f"Tracking faces {100 * done // max(total, 1)}%")
        self.tracking_label.setVisible(done < total and self.overlays.enabled)
        shown = self._shown  # its chunk was just tracked: draw the ids
        if shown is not None and (done - CHUNK_FRAMES <= shown.index < done or done >= total):
            self.overlays.request(shown.index, shown.image)

    def _on_overlays_toggled(self: MainWindow, on: bool) -> None:
        self.overlays.set_enabled(on)
        self.tracking_label.setVisible(False)
        if on and self._shown is not None:
            self.overlays.request(self._shown.index, self._shown.image)

    def _on_mode(self: MainWindow, mode: str) -> None:
        self.project.set_view(compare_mode=mode)
        if mode != "source" and self.document.frame_count:
            self.processed.request(self.document.current)

    def _seek(self: MainWindow, frame: int) -> None:
        """The playhead dragged or clicked on the timeline: the scrub proxy's frame while it moves, the
        exact frame once it rests."""
        self.player.pause()
        self.document.request_frame(frame, fast=True)

    def _on_proxy_progress(self: MainWindow, done: int, total: int) -> None:
        self.proxy_label.setText(f"Scrub proxy {100 * done // max(total, 1)}%")
        self.proxy_label.setVisible(done < total)

    # ------------------------------------------------------------------ project → views
    def _on_project_changed(self: MainWindow, state: ProjectState) -> None:
        edits = state.model_copy(update={"current_frame": 0, "compare_mode": ""})  # view state aside
        if edits == self._applied:
            return  # only the playhead moved (every frame while playing): nothing to redraw here
        self._applied = edits
        self.timeline.set_segments(
            [
                (
                    s.start,
                    s.stop,
                    (s.persona or state.persona or "persona") if s.enabled else "original",
                    s.enabled,
                )
                for s in state.segments
            ]
        )
        self.timeline.set_markers(list(state.markers))
        self.timeline.set_keyframes([k.frame for s in state.segments for k in s.keyframes])
        self.timeline.set_in_out(state.in_point, state.out_point)
        if self.ranges:
            self.review_panel.set_ranges(self.ranges, panel_states(state.review))
        if state.persona and state.persona != self.library.active:
            self.library.set_active(state.persona)
        self.processed.set_persona(state.persona)
        self._show_target(state.face)
        self._update_title()

    def _on_persona_chosen(self: MainWindow, name: str) -> None:
        if (name or None) != self.project.state.persona:
            self.project.set_persona(name or None)
        if self.viewer.mode != "source" and self.document.frame_count:
            self.processed.request(self.document.current)

    def _on_personas_changed(self: MainWindow) -> None:
        for persona in self.library.personas:
            self.processed.forget_persona(persona.name)
