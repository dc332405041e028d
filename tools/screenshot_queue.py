"""Screenshot of the studio after a render through the queue on a local engine (for a person to look at).

Usage: QT_QPA_PLATFORM=offscreen python tools/screenshot_queue.py out.png [--dark]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def dark_palette() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#3a3a3a", QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#2f65ca", QPalette.ColorRole.HighlightedText: "#ffffff",
    }  # fmt: skip
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c8c8c"))
    return p


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("target", type=Path)
    ap.add_argument("--dark", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("LAYER_HOME", tempfile.mkdtemp(prefix="layer_shot_"))
    app = QApplication(sys.argv[:1])
    if args.dark:
        app.setPalette(dark_palette())
    from layer_desktop.ui.main_window import MainWindow

    window = MainWindow(engine=True)
    window.resize(1400, 900)
    window.show()
    window.open_demo()
    state = {"queued": False, "waited": 0}

    def tick() -> None:
        state["waited"] += 250
        queue = window.queue
        link = window.engine_link
        ready = window.persona_name and window.document.frame_count and link and link.capabilities
        if not state["queued"] and ready:
            window.render_current()
            state["queued"] = True
        done = queue is not None and any(j.downloaded for j in queue.jobs.values())
        if done or state["waited"] > 180_000:
            window.grab().save(str(args.target))
            window.close()
            app.quit()
            return
        QTimer.singleShot(250, tick)

    QTimer.singleShot(250, tick)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
