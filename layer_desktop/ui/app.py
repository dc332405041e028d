"""`layer-desktop`: start the studio. With a file argument it opens it; with nothing to open, the demo."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from layer_desktop import __version__
from layer_desktop.paths import app_paths

log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="layer-desktop", description="Layer Desktop studio")
    ap.add_argument(
        "file", nargs="?", type=Path,
        help="a video, .layer project or .layerpersona to open "
        "(default: the project open at the last quit, else the unsaved one, else the demo)",
    )  # fmt: skip
    ap.add_argument("--no-demo", action="store_true", help="start empty instead of opening the demo")
    ap.add_argument("--no-engine", action="store_true", help="view media only: do not start the local engine")
    ap.add_argument("--screenshot", type=Path, help="save a screenshot of the window once loaded, then quit")
    ap.add_argument("--version", action="version", version=f"Layer Desktop {__version__}")
    return ap.parse_args(argv)


def setup_logging() -> Path:
    paths = app_paths().ensure()
    log_file = paths.log_dir / "layer-desktop.log"
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(log_file, encoding="utf-8")],
    )
    return log_file


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    log_file = setup_logging()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Layer Desktop")
    from layer_desktop.ui.main_window import MainWindow

    window = MainWindow(engine=not args.no_engine)
    window.show()
    if args.file:
        window.open_files([args.file])
    elif not window.restore_last_session() and not args.no_demo:
        window.open_demo()
    log.info("Layer Desktop %s started; log at %s", __version__, log_file)
    if args.screenshot:
        from layer_desktop.ui.screenshot import screenshot_when_loaded

        screenshot_when_loaded(window, args.screenshot)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
