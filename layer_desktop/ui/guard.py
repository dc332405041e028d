"""Never lose work: the questions asked before the open project is replaced, and the offer of a
video's last project. Each is one modal message box; the answer comes back as a word."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)

Answer = Literal["save", "discard", "cancel"]
Btn = QMessageBox.StandardButton


def ask_unsaved(parent: QWidget, project_name: str, rendered: bool) -> Answer:
    """Save / Discard / Cancel before ``project_name`` is replaced."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Unsaved project",
        f"{project_name} has unsaved changes{' and renders' if rendered else ''}.",
        Btn.Save | Btn.Discard | Btn.Cancel,
        parent,
    )
    box.setObjectName("unsavedDialog")
    box.setInformativeText("Save it before opening another file?")
    box.setDefaultButton(Btn.Save)
    answer = box.exec()
    return "save" if answer == Btn.Save else "discard" if answer == Btn.Discard else "cancel"


def offer_project(parent: QWidget, video: Path, project: Path) -> bool:
    """True when the user wants ``project`` (the video's last project) instead of a new one."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Open its project?",
        f"{video.name} was last edited in {project.name}.",
        Btn.Open | Btn.Ignore,
        parent,
    )
    box.setObjectName("offerProjectDialog")
    box.setInformativeText("Open that project (with its renders and review), or start a new one?")
    box.button(Btn.Ignore).setText("New project")
    box.setDefaultButton(Btn.Open)
    return box.exec() == Btn.Open
