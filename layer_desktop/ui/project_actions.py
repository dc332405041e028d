"""Projects, the studio's half that keeps work: open, save, restore at start, and the questions
asked before unsaved work would be replaced. Mixed into ``MainWindow`` like ``StudioActions``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from layer_desktop.errors import LayerError
from layer_desktop.ui.guard import ask_unsaved
from layer_desktop.ui.project import (
    ProjectState,
    has_work,
    load_project,
    recent_projects,
    recover_autosave,
    remember_recent,
)
from layer_desktop.ui.session_memory import last_session_project, remember_video_project

if TYPE_CHECKING:
    from layer_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

PROJECT_FILTER = "Layer projects (*.layer);;All files (*)"


class ProjectActions:
    """``self`` is the ``MainWindow``."""

    def choose_project(self: MainWindow) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if name:
            self.open_project(Path(name))

    def open_project(self: MainWindow, path: Path, *, ask: bool = True) -> None:
        """Open a ``.layer`` project and restore its video, persona, edits, review and view (after
        asking what to do with unsaved work in the open one, unless ``ask`` is False)."""
        if ask and self.project.path != Path(path) and not self._may_replace_project():
            return
        try:
            state = load_project(path)
        except LayerError as exc:
            self._on_error(exc)
            return
        remember_recent(path)
        self._build_recent_menu()
        self._open_state(state, path)

    def _open_state(self: MainWindow, state: ProjectState, path: Path | None) -> None:
        self.player.pause()
        self._clear_review()
        self.project.reset(state, path)
        self._restore_frame = state.current_frame
        self.viewer.set_mode(state.compare_mode)
        if state.persona:
            self.library.set_active(state.persona)
        if state.source:
            self.document.open(Path(state.source))
        self._load_review_if_rendered()

    def _may_replace_project(self: MainWindow) -> bool:
        """True when the open project may be replaced: nothing would be lost, or the user saved it or
        chose to discard it."""
        state = self.project.state
        if not has_work(state) or (self.project.path is not None and not self.project.is_dirty):
            return True
        name = self.project.path.name if self.project.path else "The untitled project"
        answer = ask_unsaved(self, name, rendered=bool(state.output))
        if answer == "save":
            return self.save_project()
        return answer == "discard"

    def restore_last_session(self: MainWindow) -> bool:
        """At start: the project open when the app last quit, else the unsaved untitled one; False if
        neither (the caller opens the demo)."""
        last = last_session_project()
        if last is not None:
            self.open_project(last, ask=False)
            return True
        return self.restore_unsaved()

    def restore_unsaved(self: MainWindow) -> bool:
        """Reopen the untitled project autosaved before the app last quit or crashed; False if none."""
        state = recover_autosave()
        if state is None or not state.source or not Path(state.source).is_file():
            return False
        self._open_state(state, None)
        self.project.autosave_now()  # keep it recoverable until it is saved somewhere
        self.statusBar().showMessage("Restored your unsaved project (File › Save project to keep it)")
        return True

    def save_project(self: MainWindow) -> bool:
        if self.project.path is None:
            return self.save_project_as()
        self.project.save()
        self._remember_video(self.project.path)
        self.statusBar().showMessage(f"Saved {self.project.path.name}")
        return True

    def _remember_video(self: MainWindow, path: Path) -> None:
        if self.project.state.source:
            remember_video_project(self.project.state.source, path)

    def save_project_as(self: MainWindow) -> bool:
        name, _ = QFileDialog.getSaveFileName(self, "Save project", "Untitled.layer", PROJECT_FILTER)
        if not name:
            return False
        path = Path(name).with_suffix(".layer")
        self.project.save(path)
        self._remember_video(path)
        remember_recent(path)
        self._build_recent_menu()
        self._update_title()
        return True

    def _build_recent_menu(self: MainWindow) -> None:
        menu = getattr(self, "_recent_menu", None)
        if menu is None:
            file_menu = self.menus["&File"]
            menu = self._recent_menu = file_menu.addMenu("Recent projects")
            file_menu.insertMenu(file_menu.actions()[2], menu)
        menu.clear()
        recent = recent_projects()
        for path in recent:
            menu.addAction(path.name, lambda p=path: self.open_project(p)).setToolTip(str(path))
        menu.setEnabled(bool(recent))
