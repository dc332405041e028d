"""Rendering and reviewing, the studio's half that talks to the engine: queue the project, fetch the
review records of its render, show the flagged ranges, and accept / keep original / re-render a range
(a segment in the project, undoable, and a splice of only the affected chunks on the engine).
Mixed into ``MainWindow`` like ``StudioActions``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from layer_desktop.engine.pipeline.spec import Segment, TransformSpec
from layer_desktop.errors import EngineUnavailableError, InputError, LayerError
from layer_desktop.ui.errors import show_error
from layer_desktop.ui.render_options import RenderChoice, build_spec, default_choice
from layer_desktop.ui.review import FlaggedRange, flagged_ranges, range_thumbnails
from layer_desktop.ui.widgets.render_dialog import RenderDialog

if TYPE_CHECKING:
    from layer_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# the project's review verdicts → the Review panel's words
VERDICT_TEXT = {"accepted": "accepted", "original": "kept original", "rerendered": "re-rendered"}


def panel_states(review: dict[str, str]) -> dict[str, str]:
    return {key: VERDICT_TEXT.get(value, value) for key, value in review.items()}


@dataclass(frozen=True)
class PendingRerender:
    """A re-render sent to the engine; its segment and verdict enter the project when it is done."""

    job_id: str
    range: FlaggedRange
    segment: Segment
    verdict: str
    status: str  # the status bar's message before, shown again if the job fails


class ReviewActions:
    """Render and review; ``self`` is the ``MainWindow``."""

    # ------------------------------------------------------------------ rendering and review
    def render_current(self: MainWindow) -> None:
        """Open the Render dialog (output path, encoding, range, engine, voice, mark)."""
        if not self._can_render():
            return
        hosts = self.queue.hosts() if self.queue is not None else []
        dialog = RenderDialog(self.project.state, self.document.frame_count, self._last_render, self, hosts)
        self.render_dialog = dialog
        dialog.accepted.connect(lambda: self._render_with(dialog.choice(), dialog.spec()))
        dialog.open()

    def render_again(self: MainWindow) -> None:
        """Render with the last dialog's settings (Ctrl+Shift+R) into a new file next to the source."""
        if not self._can_render():
            return
        choice = (self._last_render or default_choice()).model_copy(update={"output": ""})
        try:
            spec = build_spec(self.project.state, choice, self.document.frame_count)
        except LayerError as exc:
            self._on_error(exc)
            return
        self._render_with(choice, spec)

    def _can_render(self: MainWindow) -> bool:
        state = self.project.state
        try:
            if self.queue is None:
                raise EngineUnavailableError(
                    "The engine is off in this window.", hint="Start the studio normally."
                )
            if not state.source:
                raise InputError("Open a video first.", hint="File › Open video… (Ctrl+O), or drop one here.")
            if not state.persona:
                raise InputError(
                    "Choose a persona first.", hint="Double-click one in Personas, or open the demo (Ctrl+D)."
                )
        except LayerError as exc:
            self._on_error(exc)
            return False
        return True

    def _render_with(self: MainWindow, choice: RenderChoice, spec: TransformSpec) -> None:
        assert self.queue is not None
        target = Path(spec.output)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._last_render = choice
        self._render_target = str(target)
        self.queue.submit(spec, choice.engine)
        self.statusBar().showMessage(f"Queued {Path(spec.source).name} → {target}")

    def _on_submitted(self: MainWindow, job_id: str, target: str) -> None:
        if target == self._render_target:
            self._clear_review()
            self.project.set_job(job_id, target)

    def _on_downloaded(self: MainWindow, job_id: str, path: str) -> None:
        if job_id == self.project.state.job_id:
            self._apply_rerender(job_id)
            self._load_review(job_id, Path(path))

    def engine_ready(self: MainWindow) -> None:
        self._load_review_if_rendered()
        if self.viewer.mode != "source" and self.document.frame_count:
            self.processed.request(self.document.current)

    def _load_review_if_rendered(self: MainWindow) -> None:
        state = self.project.state
        link = self.engine_link
        if state.job_id and state.output and Path(state.output).is_file() and link and link.capabilities:
            self._load_review(state.job_id, Path(state.output))

    def _load_review(self: MainWindow, job_id: str, output: Path) -> None:
        try:  # a host's job: its records are on the host's engine
            link = self.queue.link_of(job_id) if self.queue is not None else self.engine_link
        except LayerError as exc:  # that host is no longer connected
            self._on_error(exc)
            return
        assert link is not None

        def fetch() -> tuple[list[FlaggedRange], dict[str, np.ndarray]]:
            ranges = flagged_ranges(link.client().records(job_id))
            return ranges, range_thumbnails(output, ranges)

        self.tasks.run(
            fetch, lambda result: self._review_loaded(output, *result), self._on_error, heavy=False
        )

    def _review_loaded(self: MainWindow, output: Path, ranges: list[FlaggedRange],
                       thumbs: dict[str, np.ndarray]) -> None:  # fmt: skip
        self.ranges = ranges
        self.review_panel.set_ranges(ranges, panel_states(self.project.state.review))
        self.review_panel.set_thumbnails(thumbs)
        self.timeline.set_flags([(r.start, r.stop, r.flags[0] if r.flags else "") for r in ranges])
        self.processed.set_rendered(output)
        if self.document.frame_count:
            self.processed.request(self.document.current)
        self.dock_review.raise_()
        self.statusBar().showMessage(f"Rendered: {output} — {len(ranges)} range(s) to review")

    def _clear_review(self: MainWindow) -> None:
        self.ranges = []
        self.review_panel.set_ranges(None)
        self.timeline.set_flags([])
        self.processed.set_rendered(None)

    # the review keys, window-wide: they work whatever has focus inside the window
    def review_accept(self: MainWindow) -> None:
        self.review_panel.accept_current()

    def review_keep(self: MainWindow) -> None:
        self.review_panel.keep_current()

    def review_rerender(self: MainWindow) -> None:
        self.review_panel.rerender_current()

    def review_accept_all(self: MainWindow) -> None:
        self.review_panel.accept_all()

    def review_accept_shot(self: MainWindow) -> None:
        self.review_panel.accept_shot()

    def review_next(self: MainWindow) -> None:
        self.review_panel.select_next()

    def review_previous(self: MainWindow) -> None:
        self.review_panel.select_previous()

    def _accept_all(self: MainWindow, ranges: list[FlaggedRange]) -> None:
        """Accept every range still to review, as one undoable step."""
        stack = self.project.undo_stack
        stack.beginMacro(f"Accept {len(ranges)} ranges")
        for rng in ranges:
            self.project.set_review(rng.key, "accepted")
        stack.endMacro()
        self.statusBar().showMessage(f"Accepted {len(ranges)} range(s)")

    def _on_range_selected(self: MainWindow, rng: FlaggedRange) -> None:
        self.player.pause()
        self.document.request_frame(rng.start)

    def _rerender(self: MainWindow, rng: FlaggedRange, changes: dict[str, str], verdict: str) -> None:
        """Keep the original or re-render one range: a segment in the project (undoable) and a splice
        of only the affected chunks on the engine."""
        state = self.project.state
        if self.queue is None or not state.job_id:
            self._on_error(
                InputError("Render the video before re-rendering part of it.", hint="Render (Ctrl+R).")
            )
            return
        try:
            segment = (
                state.to_spec(state.output or "out.mp4")
                .with_segment(rng.start, rng.stop, changes)
                .segments[-1]
            )
        except LayerError as exc:
            self._on_error(exc)
            return
        # the project changes only once the engine has re-rendered: a failed job leaves the Review row,
        # the timeline and the status bar as they were
        self._pending_rerender = PendingRerender(state.job_id, rng, segment, verdict,
                                                 self.statusBar().currentMessage())  # fmt: skip
        self.queue.rerender(state.job_id, rng.start, rng.stop, changes)
        self.statusBar().showMessage(f"Re-rendering frames {rng.start}–{rng.stop}…")

    def _apply_rerender(self: MainWindow, job_id: str) -> None:
        pending = self._pending_rerender
        if pending is None or pending.job_id != job_id:
            return
        self._pending_rerender = None
        seg, rng = pending.segment, pending.range
        stack = self.project.undo_stack
        stack.beginMacro(f"Re-render frames {rng.start}–{rng.stop}")
        self.project.add_segment(seg.start, seg.stop, enabled=seg.enabled, persona=seg.persona, swap=seg.swap)
        self.project.set_review(rng.key, pending.verdict)
        stack.endMacro()

    def _on_queue_refused(self: MainWindow, exc: BaseException) -> None:
        """The engine refused a submit or re-render (or its stream broke): a pending re-render is
        dropped, the status bar says what it said before, and the reason goes to the error dialog."""
        pending, self._pending_rerender = self._pending_rerender, None
        self._on_error(exc)
        if pending is not None:
            self.statusBar().showMessage(pending.status)

    def _on_job_failed(self: MainWindow, job_id: str, exc: BaseException) -> None:
        """A job of this project failed: say why in the dialog; a failed re-render changes nothing."""
        if job_id != self.project.state.job_id:
            return
        pending = self._pending_rerender
        if pending is not None and pending.job_id == job_id:
            self._pending_rerender = None
            self.statusBar().showMessage(pending.status)
        show_error(self, exc)
        self.last_error = exc
