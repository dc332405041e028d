"""The consent step of creating a persona: who agreed, when, in what words, and to which files.

OK stays disabled until the persona has a name, the person who gave consent is named and the consent
box is ticked. Callers open it with ``open()`` and read ``result_input()`` on ``accepted``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.personas import ConsentInput

log = logging.getLogger(__name__)

CONSENT_TEXT = "I have this person's consent to use their face and voice"
_PATH_ROLE = Qt.ItemDataRole.UserRole


class ConsentDialog(QDialog):
    """Name the persona and record consent for the photos and voices listed."""

    def __init__(
        self,
        photos: Sequence[Path],
        voices: Sequence[Path] = (),
        name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New persona: consent")
        self.setObjectName("consentDialog")
        self.proof: Path | None = None
        self.name_edit = self._line("personaName", name, "The persona's name in Layer")
        self.given_by_edit = self._line("consentGivenBy", "", "Full name of the person shown")
        self.statement_edit = QPlainTextEdit()
        self.statement_edit.setObjectName("consentStatement")
        self.statement_edit.setPlaceholderText(
            "What they agreed to, in their words (optional), e.g. “I agree to my face and voice being "
            "used in videos made with Layer.”"
        )
        self.statement_edit.setMaximumHeight(90)
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setObjectName("consentDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setMaximumDate(QDate.currentDate())
        self.proof_label = QLabel("No proof file")
        self.proof_label.setObjectName("consentProofLabel")
        self.proof_button = QPushButton("Attach proof…")
        self.proof_button.setObjectName("consentProofButton")
        self.proof_button.clicked.connect(self._choose_proof)
        self.consent_check = QCheckBox(CONSENT_TEXT)
        self.consent_check.setObjectName("consentCheck")
        self.files = QListWidget()
        self.files.setObjectName("consentFiles")
        self._add_files(photos, voices)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName("consentButtons")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout()
        for edit in (self.name_edit, self.given_by_edit):
            edit.textChanged.connect(self._update_ok)
        self.consent_check.toggled.connect(self._update_ok)
        self._update_ok()

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def set_photo_status(self, path: Path, text: str) -> None:
        """Show what is known about one photo (faces found, the face chosen) beside its name."""
        for row in range(self.files.count()):
            item = self.files.item(row)
            if item.data(_PATH_ROLE) == str(path):
                item.setText(f"Photo: {path.name} — {text}")

    def photo_status(self, path: Path) -> str:
        """The line shown for ``path`` ("" when it is not listed)."""
        for row in range(self.files.count()):
            item = self.files.item(row)
            if item.data(_PATH_ROLE) == str(path):
                return item.text()
        return ""

    def set_proof(self, path: Path | None) -> None:
        """Attach (or with None, detach) a file proving consent, such as a signed form."""
        self.proof = path
        self.proof_label.setText(path.name if path is not None else "No proof file")

    def result_input(self) -> tuple[str, ConsentInput]:
        """(persona name, consent) as entered; an empty statement becomes None (a default is written)."""
        statement = self.statement_edit.toPlainText().strip() or None
        date = self.date_edit.date().toPython()
        consent = ConsentInput(self.given_by_edit.text().strip(), statement, date, self.proof)  # type: ignore[arg-type]
        return self.name_edit.text().strip(), consent

    # ---------------------------------------------------------------- internals

    def _line(self, name: str, text: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(text)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def _add_files(self, photos: Sequence[Path], voices: Sequence[Path]) -> None:
        for kind, paths in (("Photo", photos), ("Voice", voices)):
            for path in paths:
                item = QListWidgetItem(f"{kind}: {path.name}")
                item.setData(_PATH_ROLE, str(path))
                item.setToolTip(str(path))
                self.files.addItem(item)

    def _layout(self) -> None:
        proof_row = QHBoxLayout()
        proof_row.addWidget(self.proof_label, 1)
        proof_row.addWidget(self.proof_button)
        form = QFormLayout()
        form.addRow("Persona name", self.name_edit)
        form.addRow("Consent given by", self.given_by_edit)
        form.addRow("Statement", self.statement_edit)
        form.addRow("Date", self.date_edit)
        form.addRow("Proof", proof_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Files used for this persona:"))
        layout.addWidget(self.files)
        layout.addWidget(self.consent_check)
        layout.addWidget(self.buttons)

    def _update_ok(self) -> None:
        ready = (
            bool(self.name_edit.text().strip())
            and bool(self.given_by_edit.text().strip())
            and self.consent_check.isChecked()
        )
        self.ok_button.setEnabled(ready)

    def _choose_proof(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Proof of consent")
        if path:
            self.set_proof(Path(path))
