"""The Render dialog (Ctrl+R): where the video goes, how it is encoded, which frames get the persona,
which engine renders it, the voice, lip-sync, the visible AI mark and the invisible watermark.

A lip-sync backend whose model is not installed is greyed out and says how to get it. Every value is
checked with the engine's own types (``build_spec``) as it changes; OK stays disabled
and the reason is shown while the choice would be refused. An output file that exists is only
overwritten after asking.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from layer_desktop.engine.lipsync.options import BACKENDS, LipSyncOptions
from layer_desktop.engine.pipeline.spec import Disclosure, Output, TransformSpec, Voice
from layer_desktop.errors import LayerError
from layer_desktop.ui.model_choices import disable_choice, how_to_get, missing_lipsync_models
from layer_desktop.ui.project_file import ProjectState
from layer_desktop.ui.render_options import RANGE_TEXT, RenderChoice, build_spec, default_choice, output_path

log = logging.getLogger(__name__)

LIPSYNC_TEXT = {
    "off": "Off",
    "mouth": "Mouth (offline, no download)",
    "wav2lip": "Wav2Lip",
    "wav2lip_gan": "Wav2Lip GAN",
    "edtalk": "EDTalk",
    "musetalk": "MuseTalk (CUDA GPU)",
}
PRESETS = ("ultrafast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def engine_choices(hosts: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(name, label) of the engines a render can go to: the local one and each connected host
    (``host:NAME``, what ``RenderQueue.submit(engine=…)`` takes)."""
    return [("local", "Local engine (this computer)")] + [
        (f"host:{name}", f"{name} (GPU host over SSH)") for name in hosts
    ]


class RenderDialog(QDialog):
    """``spec()`` is the validated job once accepted; ``choice()`` what to remember for Ctrl+Shift+R.
    ``hosts``: the connected GPU hosts, offered as engines beside the local one."""

    def __init__(
        self,
        state: ProjectState,
        frame_count: int,
        last: RenderChoice | None,
        parent: QWidget | None = None,
        hosts: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.hosts = tuple(hosts)
        self.setObjectName("renderDialog")
        self.setWindowTitle("Render video")
        self.setMinimumWidth(560)
        self.state, self.frame_count = state, frame_count
        start = last or default_choice()
        self._build(start)
        self.path_edit.setText(str(output_path(state, start.model_copy(update={"output": ""}))))
        self._validate()

    # ------------------------------------------------------------------ layout
    def _build(self, c: RenderChoice) -> None:
        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.container_box = _combo(["mp4", "mov", "mkv"], c.container)
        self.codec_box = _combo(["h264", "hevc"], c.output_settings.codec)
        self.crf_box = QSpinBox()
        self.crf_box.setRange(0, 51)
        self.crf_box.setValue(c.output_settings.crf)
        self.crf_box.setToolTip("Quality: lower is better and bigger (18 looks like the source)")
        self.preset_box = _combo(list(PRESETS), c.output_settings.preset)
        self.range_box = QComboBox()
        for key, text in RANGE_TEXT.items():
            self.range_box.addItem(text, key)
        self.range_box.setCurrentIndex(list(RANGE_TEXT).index(c.range))
        self.engine_box = QComboBox()
        for name, label in engine_choices(self.hosts):
            self.engine_box.addItem(label, name)
        self.engine_box.setCurrentIndex(max(0, self.engine_box.findData(c.engine)))  # a host still connected
        self.voice_check = QCheckBox("Convert the voice to the persona's")
        self.voice_check.setChecked(c.voice.enabled)
        self.voice_backend = _combo(["world", "elevenlabs"], c.voice.backend)
        self.lipsync_box = QComboBox()
        for key in ("off", *BACKENDS):
            self.lipsync_box.addItem(LIPSYNC_TEXT.get(key, key), key)
        self.lipsync_box.setToolTip("Move the mouth to the output's sound (the converted voice)")
        self.missing_lipsync = missing_lipsync_models()
        for backend, models in self.missing_lipsync.items():
            disable_choice(self.lipsync_box, backend, how_to_get(models))
        self.lipsync_box.setCurrentIndex(max(0, self.lipsync_box.findData(_lipsync_key(c.lipsync))))
        self.mark_check = QCheckBox("Show the visible AI mark")
        self.mark_check.setChecked(c.disclosure.visible_mark)
        self.mark_text = QLineEdit(c.disclosure.text)
        self.watermark_check = QCheckBox("Hide an invisible watermark in the frames")
        self.watermark_check.setToolTip(
            "The job id, hidden in the picture (`layer provenance check` reads it); faint on smooth areas"
        )
        self.watermark_check.setChecked(c.disclosure.watermark)
        self.problem = QLabel()
        self.problem.setObjectName("renderProblem")
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Save to", path_row)
        form.addRow("Container", self.container_box)
        form.addRow("Codec", self.codec_box)
        form.addRow("Quality (CRF)", self.crf_box)
        form.addRow("Speed (preset)", self.preset_box)
        form.addRow("Apply to", self.range_box)
        form.addRow("Engine", self.engine_box)
        form.addRow("Voice", self.voice_check)
        form.addRow("Voice backend", self.voice_backend)
        form.addRow("Lip-sync", self.lipsync_box)
        form.addRow("Disclosure", self.mark_check)
        form.addRow("Mark text", self.mark_text)
        form.addRow("Watermark", self.watermark_check)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.render_button = self.buttons.addButton("Render", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._confirm)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for box in (self.container_box, self.codec_box, self.preset_box, self.range_box, self.voice_backend,
                    self.lipsync_box):  # fmt: skip
            box.currentIndexChanged.connect(self._validate)
        self.container_box.currentIndexChanged.connect(self._container_changed)
        self.crf_box.valueChanged.connect(self._validate)
        self.path_edit.textChanged.connect(self._validate)
        self.mark_text.textChanged.connect(self._validate)
        self.voice_check.toggled.connect(self._validate)
        self.mark_check.toggled.connect(self._mark_toggled)

    # ------------------------------------------------------------------ values
    def choice(self) -> RenderChoice:
        """The dialog's values (raises ``ValidationError`` through the engine types for bad ones)."""
        return RenderChoice(
            output=self.path_edit.text().strip(),
            container=self.container_box.currentText(),
            output_settings=Output(
                codec=self.codec_box.currentText(),
                crf=self.crf_box.value(),
                preset=self.preset_box.currentText(),
            ),
            range=self.range_box.currentData(),
            engine=str(self.engine_box.currentData()),
            voice=Voice(enabled=self.voice_check.isChecked(), backend=self.voice_backend.currentText()),
            lipsync=self._lipsync(),
            disclosure=Disclosure(
                visible_mark=self.mark_check.isChecked(),
                text=self.mark_text.text(),
                watermark=self.watermark_check.isChecked(),
            ),
            face=self.state.face,
        )

    def _lipsync(self) -> LipSyncOptions:
        key = str(self.lipsync_box.currentData())
        return LipSyncOptions() if key == "off" else LipSyncOptions(enabled=True, backend=key)  # type: ignore[arg-type]

    def spec(self) -> TransformSpec:
        return build_spec(self.state, self.choice(), self.frame_count)

    def _validate(self) -> None:
        self.voice_backend.setEnabled(self.voice_check.isChecked())
        self.mark_text.setEnabled(self.mark_check.isChecked())
        lipsync = str(self.lipsync_box.currentData())
        if lipsync in self.missing_lipsync:  # the remembered choice of a model removed since
            self._refuse(how_to_get(self.missing_lipsync[lipsync]))
            return
        try:
            self.spec()
        except LayerError as exc:
            self._refuse(exc.user_text())
            return
        except ValueError as exc:  # a pydantic ValidationError from the engine types
            self._refuse(str(exc).splitlines()[-1].strip())
            return
        self.problem.setText("")
        self.render_button.setEnabled(True)

    def _refuse(self, why: str) -> None:
        self.problem.setText(why)
        self.render_button.setEnabled(False)

    def _container_changed(self) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(f".{self.container_box.currentText()}")))

    def _mark_toggled(self, on: bool) -> None:
        if not on and not _confirm_mark_off(self):
            self.mark_check.setChecked(True)
        self._validate()

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Render to", self.path_edit.text(), "Videos (*.mp4 *.mov *.mkv)"
        )
        if name:
            suffix = Path(name).suffix.lstrip(".")
            if suffix in ("mp4", "mov", "mkv"):
                self.container_box.setCurrentText(suffix)
            self.path_edit.setText(str(Path(name).with_suffix(f".{self.container_box.currentText()}")))

    def _confirm(self) -> None:
        target = Path(self.spec().output)
        if target.exists() and not _confirm_overwrite(self, target):
            return
        self.accept()


def _combo(items: list[str], current: str) -> QComboBox:
    box = QComboBox()
    box.addItems(items)
    if current in items:
        box.setCurrentText(current)
    return box


def _lipsync_key(options: LipSyncOptions) -> str:
    return options.backend if options.enabled else "off"


def _confirm_overwrite(parent: QWidget, target: Path) -> bool:
    answer = QMessageBox.question(
        parent, "Replace the file?", f"{target.name} already exists in {target.parent}. Replace it?"
    )
    return answer == QMessageBox.StandardButton.Yes


def _confirm_mark_off(parent: QWidget) -> bool:
    answer = QMessageBox.question(
        parent,
        "Turn the AI mark off?",
        "The visible mark tells viewers the video was changed by AI. Render without it?",
    )
    return answer == QMessageBox.StandardButton.Yes
