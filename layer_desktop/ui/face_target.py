"""Click-to-target: a click on a face in the viewer makes it the only face swapped (``track:N``, or the
face under the point, ``X,Y@FRAME``, where the frame is not tracked yet). Mixed into ``MainWindow``."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from layer_desktop.engine.pipeline.spec import parse_face

if TYPE_CHECKING:
    from layer_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def face_choice(hit: dict[str, Any], frame: int) -> str:
    """The spec's face value for a click: ``track:N`` when the face has a track id, else the point."""
    if hit.get("track") is not None:
        return f"track:{int(hit['track'])}"
    return f"{round(float(hit['x']))},{round(float(hit['y']))}@{frame}"


def target_track(face: str) -> int | None:
    kind, args = parse_face(face)
    return int(args[0]) if kind == "track" else None


def target_html(face: str) -> str:
    """The Media tab's line about the target face."""
    if face == "auto":
        return "<p><b>Target face:</b> every face (click a face in the viewer to swap only that one)</p>"
    return (
        f"<p><b>Target face:</b> {html.escape(face)} — only this face is swapped "
        "(Edit › Swap every face to go back)</p>"
    )


class FaceTargetActions:
    """``self`` is the ``MainWindow``."""

    def _on_face_clicked(self: MainWindow, hit: dict[str, Any]) -> None:
        face = face_choice(hit, self.document.current)
        if self._edit(self.project.set_face, face):
            self.statusBar().showMessage(f"Target face: {face} — only this face is swapped")

    def target_all_faces(self: MainWindow) -> None:
        """Swap every face again (Edit menu)."""
        self._edit(self.project.set_face, "auto")

    def _show_target(self: MainWindow, face: str) -> None:
        self.viewer.set_target(target_track(face))
        self.processed.set_face(face)
        self.info_label.setText(self._media_html + target_html(face))
