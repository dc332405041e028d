"""The studio's main window (issue 2 scope: open a video, scrub it frame-exactly, see its facts).

Panels for personas, review, queue and publishing arrive with their issues; this window already
follows the rules they will: long work on the task manager, one error dialog, shortcuts for everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from layer_desktop import __version__
from layer_desktop.engine.faces import load_image
from layer_desktop.engine.media.probe import MediaInfo
from layer_desktop.engine.media.reader import DecodedFrame
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline import TransformSpec
from layer_desktop.engine.pipeline.demo import DemoContent, demo_content, ensure_demo_persona
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.errors import EngineUnavailableError, InputError, LayerError
from layer_desktop.paths import app_paths
from layer_desktop.ui.document import MediaDocument
from layer_desktop.ui.engine_link import EngineLink, describe
from layer_desktop.ui.errors import show_error
from layer_desktop.ui.queue import RenderQueue
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.widgets.images import to_pixmap
from layer_desktop.ui.widgets.preview import PreviewView
from layer_desktop.ui.widgets.queue_panel import QueuePanel
from layer_desktop.ui.widgets.timeline import TimelineView

log = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.webm *.m4v *.avi);;All files (*)"


class MainWindow(QMainWindow):
    """``engine=True`` starts a local engine child process (renders go through it, the queue follows
    them); without it the window only views media (faster to start, for tests of viewing alone)."""

    def __init__(self, *, engine: bool = False, engine_home: EngineHome | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"Layer Desktop {__version__}")
        self.resize(1180, 760)
        self.setAcceptDrops(True)
        self.tasks = TaskManager(self)
        self.document = MediaDocument(self.tasks, self)
        self.preview = PreviewView()
        self.timeline = TimelineView()
        self.info_label = QLabel("No video open")
        self.info_label.setObjectName("mediaInfo")
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.persona_label = QLabel()
        self.persona_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.persona_label.setWordWrap(True)
        self.last_error: BaseException | None = None
        self.persona_name: str | None = None
        self.engine_link: EngineLink | None = None
        self.queue: RenderQueue | None = None
        self.engine_label = QLabel("Engine: off")
        self.engine_label.setObjectName("engineStatus")
        self._build()
        self._connect()
        if engine:
            self._start_engine(engine_home)

    def _start_engine(self, home: EngineHome | None) -> None:
        link = self.engine_link = EngineLink(self.tasks, home, self)
        queue = self.queue = RenderQueue(link, self)
        dock = self._dock("Queue", QueuePanel(queue), Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([dock], [200], Qt.Orientation.Vertical)  # the viewer keeps most of the height
        queue.downloaded.connect(lambda _job, path: self.statusBar().showMessage(f"Rendered: {path}"))
        self.engine_label.setText(describe(None, None))
        link.status_changed.connect(lambda st: self.engine_label.setText(describe(st, link.capabilities)))
        link.ready.connect(lambda caps: self.engine_label.setText(describe(None, caps)))
        link.ready.connect(lambda _caps: queue.reattach())
        link.failed.connect(self._on_error)
        queue.failed.connect(self._on_error)
        link.start()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(centre)
        self._dock("Media", self.info_label, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("Persona", self.persona_label, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._actions()
        self.statusBar().addPermanentWidget(self.engine_label)
        self.statusBar().showMessage("Ready")

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock{title}")
        dock.setWidget(widget)
        dock.setMinimumWidth(220)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu_name: str, text: str, keys: QKeySequence | QKeySequence.StandardKey | str,
                slot: Callable[[], object]) -> QAction:  # fmt: skip
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        self._menus[menu_name].addAction(action)
        return action

    def _actions(self) -> None:
        self.menuBar().clear()
        self._menus = {name: self.menuBar().addMenu(name) for name in ("&File", "&Frame", "&Render")}
        self._action("&File", "&Open video…", QKeySequence.StandardKey.Open, self.choose_file)
        self._action("&File", "Open &demo", "Ctrl+D", self.open_demo)
        self._action("&File", "&Quit", QKeySequence.StandardKey.Quit, self.close)
        self._action("&Render", "&Render with persona", "Ctrl+R", self.render_current)
        self._action("&Frame", "&Next frame", "Right", lambda: self.document.step(1))
        self._action("&Frame", "&Previous frame", "Left", lambda: self.document.step(-1))
        self._action("&Frame", "Forward 1 second", "Shift+Right", lambda: self.document.step(self._fps()))
        self._action("&Frame", "Back 1 second", "Shift+Left", lambda: self.document.step(-self._fps()))
        self._action("&Frame", "&First frame", "Home", lambda: self.document.request_frame(0))
        self._action(
            "&Frame", "&Last frame", "End", lambda: self.document.request_frame(self.document.frame_count - 1)
        )

    def _connect(self) -> None:
        d = self.document
        d.opened.connect(self._on_opened)
        d.frame_ready.connect(self._on_frame)
        d.thumbnails_ready.connect(self.timeline.set_thumbnails)
        d.peaks_ready.connect(self.timeline.set_peaks)
        d.failed.connect(self._on_error)
        self.timeline.seek_requested.connect(d.request_frame)

    def _fps(self) -> int:
        info = self.document.info
        return max(1, round(info.video.avg_fps)) if info and info.video else 25

    # ------------------------------------------------------------------ opening
    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open video", "", VIDEO_FILTER)
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path) -> None:
        self.statusBar().showMessage(f"Opening {path.name}…")
        self.document.open(path)

    def open_demo(self, demo: DemoContent | None = None) -> None:
        content = demo or demo_content()
        face = to_pixmap(load_image(content.persona_face))
        self.persona_label.setPixmap(face.scaledToWidth(200, Qt.TransformationMode.SmoothTransformation))
        self.persona_label.setToolTip(content.persona_name)
        self.persona_label.setText("")
        self.persona_name = None  # until the demo persona exists in the store (first run: built now)
        self.tasks.run(lambda: ensure_demo_persona(PersonaStore()).name, self._persona_ready, self._on_error)
        self.open_path(content.clip)

    def _persona_ready(self, name: str) -> None:
        self.persona_name = name

    def render_current(self) -> None:
        """Queue the open video with the chosen persona on the engine; the video lands in renders/."""
        try:
            if self.queue is None:
                raise EngineUnavailableError(
                    "The engine is off in this window.", hint="Start the studio normally."
                )
            if self.document.path is None:
                raise InputError("Open a video first.", hint="File › Open video… (Ctrl+O), or drop one here.")
            if not self.persona_name:
                raise InputError(
                    "Choose a persona first.", hint="Open the demo (Ctrl+D) or create a persona."
                )
        except LayerError as exc:
            self._on_error(exc)
            return
        source = Path(self.document.path)
        target = app_paths().renders_dir / f"{source.stem}-layer.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.queue.submit(TransformSpec(source=str(source), output=str(target), persona=self.persona_name))
        self.statusBar().showMessage(f"Queued {source.name} → {target.name}")

    # ------------------------------------------------------------------ results
    def _on_opened(self, info: MediaInfo) -> None:
        self.timeline.set_media(self.document.frame_count)
        self.info_label.setText(media_summary(info))
        self.statusBar().showMessage(f"Opened {Path(info.path).name}")

    def _on_frame(self, frame: DecodedFrame) -> None:
        total = self.document.frame_count
        self.preview.show_frame(frame.image, f"Frame {frame.index + 1} / {total}   {frame.time:.3f} s")
        self.timeline.set_current(frame.index)

    def _on_error(self, exc: BaseException) -> None:
        self.last_error = exc
        self.statusBar().showMessage("Could not do that — see the message")
        show_error(self, exc)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(Path(urls[0].toLocalFile()))
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.queue is not None:
            self.queue.stop()
        self.tasks.shutdown()
        if self.engine_link is not None:
            self.engine_link.stop()
        self.document.close()
        super().closeEvent(event)


def media_summary(info: MediaInfo) -> str:
    rows = [
        ("File", Path(info.path).name),
        ("Container", info.container),
        ("Duration", f"{info.duration:.3f} s"),
    ]
    if info.video:
        v = info.video
        rows += [
            ("Video", f"{v.codec} {v.display_width}×{v.display_height}"),
            ("Frames", str(v.frame_count)),
            ("Frame rate", f"{v.avg_fps:.3f} fps" + (" (variable)" if v.vfr else "")),
            ("Rotation", f"{v.rotation}°"),
        ]
    if info.audio:
        a = info.audio
        rows.append(("Audio", f"{a.codec} {a.sample_rate} Hz, {a.channels} ch"))
    else:
        rows.append(("Audio", "none"))
    body = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"
