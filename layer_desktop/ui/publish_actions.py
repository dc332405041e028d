"""Publish and Settings, the studio's slots for them (mixed into ``MainWindow``): the Publish dialog
on a finished render, the record kept in the project, and the Settings dialog with its pages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from layer_desktop.errors import InputError
from layer_desktop.remote.storage import PublishRecord
from layer_desktop.ui.publishing import published_link
from layer_desktop.ui.widgets.publish_dialog import PublishDialog
from layer_desktop.ui.widgets.settings_dialog import SettingsDialog

if TYPE_CHECKING:
    from layer_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class PublishActions:
    """``self`` is the ``MainWindow``."""

    def publish_render(self: MainWindow) -> None:
        """Publish the project's finished render (Render › Publish…)."""
        output = self.project.state.output
        if not output or not Path(output).is_file():
            self._on_error(
                InputError(
                    "There is no finished render to publish yet.",
                    hint="Render the video first (Ctrl+R), then publish it.",
                )
            )
            return
        self.publish_file(Path(output))

    def publish_file(self: MainWindow, path: Path) -> None:
        """Open the Publish dialog for ``path`` with the last used destination preselected."""
        project = self.project.path.stem if self.project.path else Path(path).stem
        dialog = PublishDialog(path, self.publisher, project, self.open_destinations, self)
        self.publish_dialog = dialog
        dialog.show()

    def _on_published(self: MainWindow, record: PublishRecord) -> None:
        self.project.add_publish(published_link(record))
        self.statusBar().showMessage(f"Published {Path(record.source_path).name} → {record.url}")

    def open_settings(self: MainWindow, page: str = "Engines") -> SettingsDialog:
        dialog = SettingsDialog(self.tasks, self.engine_label.text(), self)
        self.settings_dialog = dialog
        dialog.destinations.changed.connect(self._destinations_changed)
        dialog.show_page(page)
        dialog.show()
        return dialog

    def open_destinations(self: MainWindow) -> None:
        self.open_settings("Destinations")

    def _destinations_changed(self: MainWindow) -> None:
        dialog = self.publish_dialog
        if dialog is not None:
            dialog.reload_destinations()
