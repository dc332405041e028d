"""The first-connection question: trust this host key? Shows the fingerprint exactly as
``ssh-keygen -lf`` prints it, so the user can compare it with the provider's console."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


class FingerprintDialog(QDialog):
    def __init__(self, host_id: str, fingerprint: str, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unknown host key")
        layout = QVBoxLayout(self)
        intro = QLabel(f"<b>{host_id}</b> is not known yet. Its {kind} key has the fingerprint:")
        self.fingerprint_label = QLabel(fingerprint)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(mono.pointSize() + 1)
        self.fingerprint_label.setFont(mono)
        self.fingerprint_label.setObjectName("fingerprint")
        advice = QLabel(
            "Compare it with the fingerprint your provider shows (or what ssh-keygen -lf prints for the "
            "host's key).\n"
            "Trust it only if they are the same: a different key means someone may be in between."
        )
        advice.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.trust_button = buttons.addButton("Trust and connect", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for w in (intro, self.fingerprint_label, advice, buttons):
            layout.addWidget(w)


def ask_fingerprint(parent: QWidget | None, host_id: str, fingerprint: str, kind: str) -> bool:
    return FingerprintDialog(host_id, fingerprint, kind, parent).exec() == QDialog.DialogCode.Accepted
