"""The studio's menus and shortcuts, as data: (menu, text, keys, slot name on the window).

One table keeps every shortcut visible in one place (and checked for clashes by a test); the window
only provides the slots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

log = logging.getLogger(__name__)

Std = QKeySequence.StandardKey

MENUS = ("&File", "&Edit", "&View", "&Playback", "&Render", "&Help")

# (menu, text, shortcut, window method); None as text: a separator
ACTIONS: tuple[tuple[str, str | None, Any, str], ...] = (
    ("&File", "&Open video…", Std.Open, "choose_file"),
    ("&File", "Open &project…", "Ctrl+Shift+O", "choose_project"),
    ("&File", "&Save project", Std.Save, "save_project"),
    ("&File", "Save project &as…", "Ctrl+Shift+S", "save_project_as"),
    ("&File", "Open &demo", "Ctrl+D", "open_demo"),
    ("&File", "New &talking head…", "Ctrl+T", "new_talking_head"),
    ("&File", "Talking heads for a &catalogue…", "Ctrl+Shift+T", "talking_head_batch"),
    ("&File", None, "", ""),
    ("&File", "&Import persona…", "Ctrl+I", "import_persona"),
    ("&File", None, "", ""),
    ("&File", "&Quit", Std.Quit, "close"),
    ("&Edit", "Set &in point", "I", "set_in_point"),
    ("&Edit", "Set &out point", "O", "set_out_point"),
    ("&Edit", "Add &segment (in → out)", "Ctrl+Shift+A", "add_segment"),
    ("&Edit", "S&plit segment at playhead", "Ctrl+K", "split_segment"),
    ("&Edit", "&Merge segment with next", "Ctrl+M", "merge_segment"),
    ("&Edit", "Keep &original in segment", "Ctrl+Shift+K", "toggle_segment_original"),
    ("&Edit", "&Delete segment", "Ctrl+Del", "delete_segment"),
    ("&Edit", "Add mar&ker", "M", "add_marker"),
    ("&Edit", "Add &keyframe at playhead…", "Ctrl+Alt+K", "add_keyframe"),
    ("&View", "&Source", "1", "view_source"),
    ("&View", "&Processed", "2", "view_processed"),
    ("&View", "Side &by side", "3", "view_side_by_side"),
    ("&View", "&Wipe", "4", "view_wipe"),
    ("&View", "&Difference", "5", "view_difference"),
    ("&View", "&A/B toggle", "B", "toggle_ab"),
    ("&View", "Face &overlays", "Ctrl+Shift+F", "toggle_overlays"),
    ("&View", None, "", ""),
    ("&View", "Zoom &in", "Ctrl+=", "zoom_in"),
    ("&View", "Zoom o&ut (to 10%)", "Ctrl+-", "zoom_out"),
    ("&View", "Zoom to &fit", "Ctrl+0", "zoom_fit"),
    ("&View", "Zoom &100%", "Ctrl+1", "zoom_actual"),
    ("&View", "Timeline zoom in", "=", "timeline_zoom_in"),
    ("&View", "Timeline zoom out", "-", "timeline_zoom_out"),
    ("&View", None, "", ""),
    ("&View", "Dark theme", "", "use_dark_theme"),
    ("&View", "Light theme", "", "use_light_theme"),
    ("&Playback", "&Play / pause", "Space", "play_pause"),
    ("&Playback", "Play backwards (J)", "J", "shuttle_back"),
    ("&Playback", "Pause (K)", "K", "pause"),
    ("&Playback", "Play forwards (L)", "L", "shuttle_forward"),
    ("&Playback", None, "", ""),
    ("&Playback", "&Next frame", "Right", "next_frame"),
    ("&Playback", "&Previous frame", "Left", "previous_frame"),
    ("&Playback", "Forward 1 second", "Shift+Right", "forward_second"),
    ("&Playback", "Back 1 second", "Shift+Left", "back_second"),
    ("&Playback", "&First frame", "Home", "first_frame"),
    ("&Playback", "&Last frame", "End", "last_frame"),
    ("&Render", "&Render…", "Ctrl+R", "render_current"),
    ("&Render", "Render &again (last settings)", "Ctrl+Shift+R", "render_again"),
    ("&Render", "&Publish render…", "Ctrl+Shift+P", "publish_render"),
    ("&Render", None, "", ""),
    ("&Render", "Accept range (A)", "A", "review_accept"),
    ("&Render", "Keep original in range (X)", "X", "review_keep"),
    ("&Render", "Re-render range… (R)", "R", "review_rerender"),
    ("&Render", "Accept all in this shot", "Alt+A", "review_accept_shot"),
    ("&Render", "Accept all ranges to review", "Shift+A", "review_accept_all"),
    ("&Render", "Next range (N)", "N", "review_next"),
    ("&Render", "Previous range (P)", "P", "review_previous"),
    ("&Edit", "Se&ttings…", "Ctrl+,", "open_settings"),
    ("&Edit", "Swap &every face (no target face)", "", "target_all_faces"),
    ("&Help", "&About Layer Desktop", "", "about"),
    ("&Help", "Open the &log folder", "", "open_log_folder"),
    ("&Help", "&Diagnostics…", "", "show_diagnostics"),
)


def build_menus(window: QMainWindow) -> tuple[dict[str, QMenu], dict[str, QAction]]:
    """Create the menu bar from ``ACTIONS``; returns the menus by title and the actions by window
    method name."""
    window.menuBar().clear()
    menus: dict[str, QMenu] = {name: window.menuBar().addMenu(name) for name in MENUS}
    actions: dict[str, QAction] = {}
    for menu, text, keys, method in ACTIONS:
        if text is None:
            menus[menu].addSeparator()
            continue
        slot: Callable[[], object] = getattr(window, method)
        action = QAction(text, window)
        if keys:
            action.setShortcut(QKeySequence(keys))
        # window-wide, so a shortcut works whichever panel has focus (text fields keep their own keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False, s=slot: s())
        menus[menu].addAction(action)
        actions[method] = action
    return menus, actions
