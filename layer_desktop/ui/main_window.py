"""The studio's main window: docks for Personas, Media, Review and Queue around the viewer and timeline.

The window builds the panels and wires the view-models together; what each action does lives in
``StudioActions`` (opening, project, views), ``ReviewActions`` (render, review) and ``EditActions``
(edit, view, playback menus), so this module stays the layout. Long work runs on the task
manager, errors reach one dialog, and every action has a shortcut (``ui/menus.py``).
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QVBoxLayout, QWidget

from layer_desktop import __version__
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.paths import app_paths
from layer_desktop.ui.document import MediaDocument
from layer_desktop.ui.edit_actions import EditActions
from layer_desktop.ui.engine_link import EngineLink, RemoteEngineLink, describe
from layer_desktop.ui.errors import ErrorReporter, show_error
from layer_desktop.ui.face_target import FaceTargetActions
from layer_desktop.ui.menus import build_menus
from layer_desktop.ui.personas import PersonaLibrary
from layer_desktop.ui.playback import Player
from layer_desktop.ui.processed import ProcessedFrames
from layer_desktop.ui.project import ProjectDocument
from layer_desktop.ui.project_actions import ProjectActions
from layer_desktop.ui.publish_actions import PublishActions
from layer_desktop.ui.publishing import Publisher
from layer_desktop.ui.queue import RenderQueue, host_engine
from layer_desktop.ui.review_flow import ReviewActions
from layer_desktop.ui.scrub import ScrubProxies
from layer_desktop.ui.session_memory import remember_session
from layer_desktop.ui.studio import StudioActions
from layer_desktop.ui.talk_actions import TalkActions
from layer_desktop.ui.tasks import TaskManager
from layer_desktop.ui.theme import apply_theme
from layer_desktop.ui.transport import TransportBar
from layer_desktop.ui.widgets.engines_page import EnginesPage
from layer_desktop.ui.widgets.persona_panel import PersonaPanel
from layer_desktop.ui.widgets.queue_panel import QueuePanel
from layer_desktop.ui.widgets.review_panel import ReviewPanel
from layer_desktop.ui.widgets.timeline import TimelineView
from layer_desktop.ui.widgets.viewer import ViewerView

log = logging.getLogger(__name__)


def window_settings() -> QSettings:
    """Window geometry, dock layout and theme (QSettings only for these, kept in the app's config dir)."""
    return QSettings(str(app_paths().config_dir / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(
    StudioActions,
    ProjectActions,
    ReviewActions,
    EditActions,
    PublishActions,
    FaceTargetActions,
    TalkActions,
    QMainWindow,
):
    """``engine=True`` starts a local engine child process (previews and renders go through it);
    without it the window views media and edits projects only (faster, for tests of viewing alone)."""

    def __init__(self, *, engine: bool = False, engine_home: EngineHome | None = None) -> None:
        QMainWindow.__init__(self)
        self.setWindowTitle(f"Layer Desktop {__version__}")
        self._size_to_screen()
        self.setAcceptDrops(True)
        self.last_error: BaseException | None = None
        self.tasks = TaskManager(self)
        self.document = MediaDocument(self.tasks, self)
        self.player = Player(self.document, self)
        self.project = ProjectDocument(parent=self)
        self.library = PersonaLibrary(self.tasks, parent=self)
        self.engine_link: EngineLink | None = EngineLink(self.tasks, engine_home, self) if engine else None
        self.queue: RenderQueue | None = RenderQueue(self.engine_link, self) if self.engine_link else None
        self.processed = ProcessedFrames(self.tasks, self.engine_link, self)
        self.publisher = Publisher(self.tasks, self)
        self.viewer = ViewerView()
        self.transport = TransportBar(self.player, self.viewer)
        self.timeline = TimelineView()
        self.viewer.caption.setToolTip(
            "Frames count from 0 everywhere (viewer, timeline, Review, the CLI); "
            "timecode is HH:MM:SS:FF, drop-frame (;) at 29.97 and 59.94 fps"
        )
        self.persona_panel = PersonaPanel(self.library)
        self.review_panel = ReviewPanel()
        self.info_label = QLabel("No video open")
        self.engine_label = QLabel("Engine: off")
        self.tracking_label = QLabel()  # face tracking progress, while overlays are on and it runs
        self.proxy_label = QLabel()  # scrub proxy build progress
        self.scrub = ScrubProxies(self.tasks, self)
        self.errors = ErrorReporter(self._on_error, self)
        self.errors.install()
        self._build()
        self.menus, self.actions_by_name = build_menus(self)
        self._add_undo_actions()
        StudioActions.__init__(self)
        self._restore_layout()
        self.library.reload()
        if self.engine_link is not None:
            self._start_engine(self.engine_link)
        settle_garbage()

    # ------------------------------------------------------------------ layout
    def _size_to_screen(self) -> None:
        """A first start fills most of the screen (a saved layout replaces this in ``_restore_layout``)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        if area is None or area.width() < 800:
            self.resize(1280, 800)
            return
        self.resize(round(area.width() * 0.85), round(area.height() * 0.85))

    def _build(self) -> None:
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(4, 4, 4, 6)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self.transport)
        layout.addWidget(self.timeline)
        self.setCentralWidget(centre)
        self.info_label.setObjectName("mediaInfo")
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.info_label.setWordWrap(True)
        self.engine_label.setObjectName("engineStatus")
        left, right, bottom = (
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.dock_personas = self._dock("Personas", self.persona_panel, left)
        self.dock_review = self._dock("Review", self.review_panel, right)
        self.dock_media = self._dock("Media", self.info_label, right)
        self.tabifyDockWidget(self.dock_review, self.dock_media)
        # this computer and the GPU hosts reached over SSH
        self.engines_page = EnginesPage(self.tasks)
        self.dock_engines = self._dock("Engines", self.engines_page, right)
        self.tabifyDockWidget(self.dock_media, self.dock_engines)
        self.dock_review.raise_()
        if self.queue is not None:
            self.queue_panel = QueuePanel(self.queue)
            self.queue_panel.attach_publisher(self.publisher)  # publishes are listed and cancelled there too
            self.queue_panel.publish_requested.connect(lambda path: self.publish_file(Path(path)))
            self.queue_panel.message.connect(self.statusBar().showMessage)
            self.dock_queue = self._dock("Queue", self.queue_panel, bottom)
            self.engines_page.engine_connected.connect(self._host_connected)  # renders can go there now
            self.engines_page.engine_disconnected.connect(self.queue.remove_link)
            self.resizeDocks([self.dock_queue], [230], Qt.Orientation.Vertical)  # 3 rows and the log
        self.resizeDocks([self.dock_personas, self.dock_review], [250, 300], Qt.Orientation.Horizontal)
        self.statusBar().addPermanentWidget(self.tracking_label)
        self.statusBar().addPermanentWidget(self.proxy_label)
        self.proxy_label.hide()
        self.tracking_label.hide()
        self.statusBar().addPermanentWidget(self.engine_label)
        self.statusBar().showMessage("Ready")

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock{title}")
        dock.setWidget(widget)
        dock.setMinimumWidth(200)
        self.addDockWidget(area, dock)
        return dock

    def _add_undo_actions(self) -> None:
        edit = self.menus["&Edit"]
        undo = self.project.undo_stack.createUndoAction(self, "&Undo")
        redo = self.project.undo_stack.createRedoAction(self, "&Redo")
        undo.setShortcut("Ctrl+Z")
        redo.setShortcuts(["Ctrl+Shift+Z", "Ctrl+Y"])
        first = edit.actions()[0] if edit.actions() else None
        edit.insertActions(first, [undo, redo])
        edit.insertSeparator(first)
        self.actions_by_name["undo"], self.actions_by_name["redo"] = undo, redo

    def _start_engine(self, link: EngineLink) -> None:
        queue = self.queue
        assert queue is not None
        self.engine_label.setText(describe(None, None))
        link.status_changed.connect(lambda st: self.engine_label.setText(describe(st, link.capabilities)))
        link.ready.connect(lambda caps: self.engine_label.setText(describe(None, caps)))
        link.ready.connect(lambda _caps: queue.reattach())
        link.ready.connect(lambda _caps: settle_garbage())
        link.ready.connect(lambda _caps: self.engine_ready())
        link.failed.connect(self._on_error)
        queue.failed.connect(self._on_queue_refused)
        link.start()

    def _host_connected(self, name: str) -> None:
        """A host's engine answers: the queue can send jobs to it (a reconnect keeps the same link)."""
        remote = self.engines_page.engine_for(name)
        if self.queue is None or remote is None or host_engine(name) in self.queue.links:
            return
        self.queue.add_link(name, RemoteEngineLink(self.tasks, remote, self))

    # ------------------------------------------------------------------ settings
    def _restore_layout(self) -> None:
        s = window_settings()
        geometry, state = s.value("geometry"), s.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)  # type: ignore[arg-type]
        if state is not None:
            self.restoreState(state)  # type: ignore[arg-type]
        self.theme = "light" if s.value("theme") == "light" else "dark"
        apply_theme(self.theme)  # type: ignore[arg-type]

    def _save_layout(self) -> None:
        s = window_settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState())
        s.setValue("theme", self.theme)
        s.sync()

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        apply_theme(theme)  # type: ignore[arg-type]
        self.viewer.update()
        self.timeline.update()

    def use_dark_theme(self) -> None:
        self.set_theme("dark")

    def use_light_theme(self) -> None:
        self.set_theme("light")

    # ------------------------------------------------------------------ errors, drops, closing
    def _on_error(self, exc: BaseException) -> None:
        self.last_error = exc
        self.statusBar().showMessage("Could not do that — see the message")
        show_error(self, exc)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_files(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.player.pause()
        self.project.close()
        remember_session(self.project.path)  # the next start opens it again (None: the untitled autosave)
        self._save_layout()
        if self.queue is not None:
            self.queue.stop()  # and the hosts' links
        self.engines_page.shutdown()  # tunnels closed; the hosts' engines and jobs keep running
        self.overlays.close()  # its tracking pass stops at the next frame: the shutdown waits for it
        self.scrub.close()  # the proxy build stops at its next frame (and resumes next time)
        self.publisher.cancel()  # an upload stops at its next block (and resumes on the next Publish)
        if self.settings_dialog is not None:
            self.settings_dialog.models.cancel()  # a model download too (and resumes on the next Download)
        self.tasks.shutdown()
        if self.engine_link is not None:
            self.engine_link.stop()
        self.document.close()
        self.processed.close()
        self.errors.uninstall()
        super().closeEvent(event)


def settle_garbage() -> None:
    """Move everything alive now out of the garbage collector's sight (``gc.freeze``, no collection:
    that alone costs ~75 ms): start-up leaves many long-lived objects (Qt, NumPy, ONNX Runtime,
    pydantic), and a full collection over them stalls the GUI thread for ~60–80 ms at a random moment,
    e.g. while the user scrubs. Called again once the engine is up."""
    gc.freeze()
