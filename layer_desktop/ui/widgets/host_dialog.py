"""Add a GPU host: name, address, port, user, key file and remote work dir, validated as a
``HostProfile`` before it is kept (a bad value is shown under the form; nothing is stored)."""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from layer_desktop.remote.ssh.hosts import DEFAULT_WORK_DIR, HostProfile


class HostDialog(QDialog):
    """``profile`` is the validated host once accepted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hostDialog")
        self.setWindowTitle("Add GPU host")
        self.profile: HostProfile | None = None
        self.name_edit, self.host_edit, self.user_edit = QLineEdit(), QLineEdit(), QLineEdit("root")
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(22)
        self.key_edit, self.work_dir_edit = QLineEdit(), QLineEdit(DEFAULT_WORK_DIR)
        self.host_edit.setPlaceholderText("203.0.113.7 or box.example.com")
        self.key_edit.setPlaceholderText("~/.ssh/id_ed25519 (its passphrase goes to the keyring)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(browse)
        self.error_label = QLabel()
        self.error_label.setObjectName("hostError")
        self.error_label.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Name", self.name_edit)
        form.addRow("Host", self.host_edit)
        form.addRow("Port", self.port_spin)
        form.addRow("User", self.user_edit)
        form.addRow("Key file", key_row)
        form.addRow("Work dir on the host", self.work_dir_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add host", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(self.error_label)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "SSH private key")
        if path:
            self.key_edit.setText(path)

    def accept(self) -> None:
        fields = {
            "name": self.name_edit.text().strip(),
            "host": self.host_edit.text().strip(),
            "port": self.port_spin.value(),
            "user": self.user_edit.text().strip() or "root",
            "key_file": self.key_edit.text().strip() or None,
            "work_dir": self.work_dir_edit.text().strip() or DEFAULT_WORK_DIR,
        }
        if not fields["host"]:
            self.error_label.setText("Enter the host's address.")
            return
        try:
            self.profile = HostProfile.model_validate(fields)
        except ValidationError as exc:
            self.error_label.setText("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()))
            return
        super().accept()
