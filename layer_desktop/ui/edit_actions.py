"""Editing and viewing: segments, markers and in/out on the project (each an undoable operation),
playback and frame stepping, compare modes and zoom, help. Mixed into ``MainWindow``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog, QMessageBox

from layer_desktop import __version__
from layer_desktop.engine.pipeline.keyframes import KEYFRAMED_BOUNDS
from layer_desktop.paths import app_paths

if TYPE_CHECKING:
    from layer_desktop.ui.main_window import MainWindow


class EditActions:
    """The Edit, View, Playback and Help menus' slots; ``self`` is the ``MainWindow``."""

    # ------------------------------------------------------------------ segments and markers
    def _current(self: MainWindow) -> int:
        return self.document.current

    def _select_segment(self: MainWindow, index: int) -> None:
        self.selected_segment = index

    def _segment_here(self: MainWindow) -> int | None:
        """The selected segment, else the one under the playhead."""
        segments = self.project.state.segments
        if self.selected_segment is not None and self.selected_segment < len(segments):
            return self.selected_segment
        frame = self._current()
        hits = [i for i, s in enumerate(segments) if s.start <= frame <= s.stop]
        return hits[-1] if hits else None

    def _need_segment(self: MainWindow) -> int | None:
        index = self._segment_here()
        if index is None:  # a hint in the status bar, not a modal error: nothing went wrong
            self.statusBar().showMessage(
                "No segment at the playhead: click a segment on the timeline, or add one (Ctrl+Shift+A).",
                6000,
            )
        return index

    def set_in_point(self: MainWindow) -> None:
        self._edit(self.project.set_in, self._current())

    def set_out_point(self: MainWindow) -> None:
        self._edit(self.project.set_out, self._current())

    def add_segment(self: MainWindow) -> None:
        """A segment from the in point to the out point (or the next two seconds without them)."""
        s = self.project.state
        start = s.in_point if s.in_point is not None else self._current()
        stop = s.out_point if s.out_point is not None else start + round(2 * self._fps())
        stop = min(stop, max(self.document.frame_count - 1, start))
        if self._edit(self.project.add_segment, start, stop):
            self.selected_segment = len(self.project.state.segments) - 1
            self.timeline.selected_segment = self.selected_segment

    def split_segment(self: MainWindow) -> None:
        index = self._need_segment()
        if index is not None:
            self._edit(self.project.split_segment, index, self._current())

    def merge_segment(self: MainWindow) -> None:
        index = self._need_segment()
        if index is not None:
            self._edit(self.project.merge_segments, index)

    def toggle_segment_original(self: MainWindow) -> None:
        index = self._need_segment()
        if index is not None:
            enabled = self.project.state.segments[index].enabled
            self._edit(self.project.update_segment, index, enabled=not enabled)

    def delete_segment(self: MainWindow) -> None:
        index = self._need_segment()
        if index is not None and self._edit(self.project.remove_segment, index):
            self.selected_segment = None

    def add_keyframe(self: MainWindow) -> None:
        """Keyframe a numeric swap option of the segment under the playhead at the current frame."""
        index = self._need_segment()
        if index is None:
            return
        option, ok = QInputDialog.getItem(self, "Keyframe", "Option:", list(KEYFRAMED_BOUNDS), 0, False)
        if not ok:
            return
        low, high = KEYFRAMED_BOUNDS[option]
        value, ok = QInputDialog.getDouble(self, "Keyframe", f"{option} at frame {self._current()}:",
                                           high, low, high, 3)  # fmt: skip
        if ok:
            self._edit(self.project.set_keyframe, index, option, self._current(), value)

    def add_marker(self: MainWindow) -> None:
        self._edit(self.project.add_marker, self._current())

    # ------------------------------------------------------------------ playback and view
    def play_pause(self: MainWindow) -> None:
        self.player.toggle()

    def shuttle_back(self: MainWindow) -> None:
        self.player.shuttle(-1)

    def shuttle_forward(self: MainWindow) -> None:
        self.player.shuttle(+1)

    def pause(self: MainWindow) -> None:
        self.player.pause()

    def _step(self: MainWindow, delta: int) -> None:
        self.player.pause()
        self.document.step(delta)

    def next_frame(self: MainWindow) -> None:
        self._step(1)

    def previous_frame(self: MainWindow) -> None:
        self._step(-1)

    def forward_second(self: MainWindow) -> None:
        self._step(round(self._fps()))

    def back_second(self: MainWindow) -> None:
        self._step(-round(self._fps()))

    def first_frame(self: MainWindow) -> None:
        self._seek(0)

    def last_frame(self: MainWindow) -> None:
        self._seek(self.document.frame_count - 1)

    def view_source(self: MainWindow) -> None:
        self.viewer.set_mode("source")

    def view_processed(self: MainWindow) -> None:
        self.viewer.set_mode("processed")

    def view_side_by_side(self: MainWindow) -> None:
        self.viewer.set_mode("side_by_side")

    def view_wipe(self: MainWindow) -> None:
        self.viewer.set_mode("wipe")

    def view_difference(self: MainWindow) -> None:
        self.viewer.set_mode("difference")

    def toggle_ab(self: MainWindow) -> None:
        self.viewer.toggle_ab()

    def toggle_overlays(self: MainWindow) -> None:
        self.transport.overlays.toggle()

    def zoom_fit(self: MainWindow) -> None:
        self.viewer.zoom_fit()

    def zoom_actual(self: MainWindow) -> None:
        self.viewer.zoom_actual()

    def zoom_in(self: MainWindow) -> None:
        self.viewer.zoom_in()

    def zoom_out(self: MainWindow) -> None:
        self.viewer.zoom_out()

    def timeline_zoom_in(self: MainWindow) -> None:
        self.timeline.zoom_in()

    def timeline_zoom_out(self: MainWindow) -> None:
        self.timeline.zoom_out()

    # ------------------------------------------------------------------ help
    def about(self: MainWindow) -> None:
        from layer_desktop.settings import load_settings
        from layer_desktop.update_check import check_for_update

        text = f"Layer Desktop {__version__}\nLog: {app_paths().log_dir}"
        url = load_settings(app_paths().settings_file).update_url
        if not url:
            QMessageBox.about(
                self, "About Layer Desktop", text + "\nUpdate check: off (Settings › update URL)"
            )
            return
        self.tasks.run(
            lambda: check_for_update(url).summary(),
            lambda line: QMessageBox.about(self, "About Layer Desktop", f"{text}\n{line}"),
            lambda exc: QMessageBox.about(self, "About Layer Desktop", f"{text}\nUpdate check: {exc}"),
            heavy=False,
        )

    def open_log_folder(self: MainWindow) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(app_paths().log_dir)))

    def show_diagnostics(self: MainWindow) -> None:
        from layer_desktop.ui.widgets.diagnostics_dialog import DiagnosticsDialog

        dialog = DiagnosticsDialog(self.tasks, parent=self)
        dialog.setModal(False)
        dialog.show()
