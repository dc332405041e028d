"""Settings › Destinations: the publish destinations, a form to add one (R2, GCS with HMAC keys,
S3-compatible), its keys typed into password fields and stored straight in the keyring, and Test
(the storage layer's probe: write, read back, delete, sign a link)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import TypeAdapter, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.errors import InputError, LayerError
from layer_desktop.remote.storage import (
    HmacKeys,
    ProbeReport,
    list_destinations,
    probe_destination,
    remove_destination,
    save_destination,
)
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import DestinationSpec
from layer_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

KINDS = (("s3", "S3-compatible"), ("r2", "Cloudflare R2"), ("gcs", "Google Cloud Storage (HMAC keys)"))
_SPEC: TypeAdapter[Any] = TypeAdapter(DestinationSpec)


class DestinationsPage(QWidget):
    changed = Signal()  # a destination was added or removed

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.list = QListWidget()
        self.kind_box = QComboBox()
        for kind, label in KINDS:
            self.kind_box.addItem(label, kind)
        self.name_edit = QLineEdit()
        self.bucket_edit = QLineEdit()
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setPlaceholderText("https://… (empty: the service's own)")
        self.region_edit = QLineEdit("us-east-1")
        self.account_edit = QLineEdit()
        self.account_edit.setPlaceholderText("R2 only: the 32-character account id")
        self.public_edit = QLineEdit()
        self.public_edit.setPlaceholderText("optional: https://cdn.example.com (else signed links)")
        self.key_id_edit = QLineEdit()
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_id_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.save_button = QPushButton("Save destination")
        self.test_button = QPushButton("Test")
        self.remove_button = QPushButton("Remove")
        self.result = QLabel("")
        self.result.setObjectName("destinationResult")
        self.result.setWordWrap(True)
        self._build()

    def _build(self) -> None:
        form = QFormLayout()
        for label, widget in (
            ("Kind", self.kind_box),
            ("Name", self.name_edit),
            ("Bucket", self.bucket_edit),
            ("Endpoint", self.endpoint_edit),
            ("Region", self.region_edit),
            ("Account id", self.account_edit),
            ("Public address", self.public_edit),
            ("Access key id", self.key_id_edit),
            ("Secret access key", self.secret_edit),
        ):
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        for b in (self.save_button, self.test_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Where Publish uploads renders. Keys are kept in the system keyring."))
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.remove_button.clicked.connect(self.remove)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.list.currentTextChanged.connect(lambda _t: self._update_buttons())
        self._kind_changed()
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for dest in list_destinations():
            self.list.addItem(f"{dest.name}")
            self.list.item(self.list.count() - 1).setToolTip(f"{dest.kind}: bucket {dest.bucket}")
        self._update_buttons()

    def spec(self) -> DestinationSpec:
        """The form as a destination; raises ``InputError`` naming the first bad field."""
        kind = str(self.kind_box.currentData())
        values: dict[str, Any] = {
            "kind": kind,
            "name": self.name_edit.text().strip(),
            "bucket": self.bucket_edit.text().strip(),
        }
        if self.public_edit.text().strip():
            values["public_base_url"] = self.public_edit.text().strip()
        if self.endpoint_edit.text().strip():
            values["endpoint_url"] = self.endpoint_edit.text().strip()
        if kind == "s3":
            values["region"] = self.region_edit.text().strip() or "us-east-1"
        elif kind == "r2":
            values["account_id"] = self.account_edit.text().strip()
        else:
            values["auth"] = "hmac"
        try:
            spec: DestinationSpec = _SPEC.validate_python(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"][1:]) or "destination"
            raise InputError(
                f"{field.replace('_', ' ').capitalize()}: {err['msg']}.",
                hint="Correct that field and save again.",
            ) from None
        return spec

    def save(self) -> None:
        """Validate the form and store it: keys into the keyring, the rest into the settings."""
        try:
            dest = self.spec()
            key_id, secret = self.key_id_edit.text().strip(), self.secret_edit.text()
            creds = HmacKeys(key_id, secret) if key_id or secret else None
            save_destination(dest, creds, KeyringSecrets())
        except LayerError as exc:
            self.result.setText(exc.user_text())
            return
        self.key_id_edit.clear()
        self.secret_edit.clear()
        self.result.setText(f"Saved '{dest.name}'. Press Test to check it.")
        self.reload()
        matches = self.list.findItems(dest.name, Qt.MatchFlag.MatchExactly)
        if matches:
            self.list.setCurrentItem(matches[0])
        self.changed.emit()

    def test(self) -> None:
        """Run the probe for the selected destination on a worker; the report lands in ``result``."""
        item = self.list.currentItem()
        dest = next((d for d in list_destinations() if item and d.name == item.text()), None)
        if dest is None:
            return
        self.result.setText(f"Testing '{dest.name}'…")
        self.test_button.setEnabled(False)
        self.tasks.run(lambda: probe_destination(dest), self._tested, self._test_failed, heavy=False)

    def remove(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        try:
            remove_destination(item.text(), KeyringSecrets())
        except LayerError as exc:
            self.result.setText(exc.user_text())
            return
        self.result.setText(f"Removed '{item.text()}' and its keys.")
        self.reload()
        self.changed.emit()

    def _tested(self, report: ProbeReport) -> None:
        self.last_report = report
        lines = [f"{'✓' if s.ok else ('–' if s.skipped else '✗')} {s.name}: {s.detail}" for s in report.steps]
        verdict = "works" if report.ok else "does not work"
        self.result.setText(f"'{report.destination}' {verdict}.\n" + "\n".join(lines))
        self._update_buttons()

    def _test_failed(self, exc: BaseException) -> None:
        self.result.setText(f"The test could not run: {exc}")
        self._update_buttons()

    def _kind_changed(self) -> None:
        kind = self.kind_box.currentData()
        self.region_edit.setEnabled(kind == "s3")
        self.account_edit.setEnabled(kind == "r2")

    def _update_buttons(self) -> None:
        chosen = self.list.currentItem() is not None
        self.test_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
