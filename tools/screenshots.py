"""Screenshots of every studio panel, in dark and light palettes, at 1× and 2× scale, for a person to
look at (docs, reviews of the layout). Runs the real window on a real local engine in a throwaway
home: demo persona, a clip with a covered face rendered through the queue, the review list, each
compare mode, and the dialogs.

    QT_QPA_PLATFORM=offscreen python tools/screenshots.py --out shots/            # all four variants
    python tools/screenshots.py --out shots/ --theme light --scale 2            # one variant

Each variant runs in its own process (the scale factor must be set before Qt starts); the pictures
land in ``<out>/<theme>-x<scale>/``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
log = logging.getLogger("screenshots")


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.02)
    for _ in range(5):  # let the last repaint through
        QApplication.processEvents()
        time.sleep(0.02)


def gap_clip(media: Path, out: Path) -> Path:
    """75 frames of one shot whose face a card covers in frames 30-49 (a lost-face range to review; a cut
    to a faceless shot is a cutaway and is not flagged)."""
    from tests.clips import make_covered_face_clip  # the same clip the studio's end-to-end test renders

    return make_covered_face_clip(out, media)


def shoot_variant(out: Path, theme: str, media: Path) -> list[Path]:
    import numpy as np
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QApplication, QWidget

    from layer_desktop.engine.faces import load_image
    from layer_desktop.errors import MediaError
    from layer_desktop.ui.errors import show_error
    from layer_desktop.ui.main_window import MainWindow, window_settings
    from layer_desktop.ui.widgets.consent_dialog import ConsentDialog
    from layer_desktop.ui.widgets.face_picker import FacePickerDialog
    from layer_desktop.ui.widgets.images import to_pixmap

    _app = QApplication.instance() or QApplication([sys.argv[0]])
    settings = window_settings()
    settings.setValue("theme", theme)
    settings.sync()
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def save(name: str, widget: QWidget | QPixmap) -> None:
        pixmap = widget if isinstance(widget, QPixmap) else widget.grab()
        path = out / f"{name}.png"
        pixmap.save(str(path))
        saved.append(path)

    window = MainWindow(engine=True)
    window.resize(1360, 860)
    window.show()
    wait_until(lambda: window.engine_link and window.engine_link.capabilities, 90, "the engine")
    window.open_demo()
    wait_until(lambda: window.persona_name and window.document.frame_count == 100, 60, "the demo")
    wait_until(lambda: window.timeline._thumbs, 30, "thumbnails")
    wait_until(lambda: window.viewer.has_processed, 60, "the demo persona's live preview")
    save("01-window-demo", window)
    window.open_path(gap_clip(media, Path(tempfile.mkdtemp(dir=os.environ["LAYER_HOME"])) / "covered.mp4"))
    wait_until(lambda: window.document.frame_count == 75 and window.timeline._thumbs, 30, "the gap clip")
    window.render_current()
    dialog = window.render_dialog
    assert dialog is not None
    wait_until(dialog.isVisible, 5, "the render dialog")
    dialog.lipsync_box.setCurrentIndex(dialog.lipsync_box.findData("mouth"))  # the switches shown on
    dialog.watermark_check.setChecked(True)
    save("11-dialog-render", dialog)
    dialog.lipsync_box.setCurrentIndex(dialog.lipsync_box.findData("off"))  # the render itself: plain
    dialog.watermark_check.setChecked(False)
    dialog.accept()
    wait_until(lambda: window.ranges or window.last_error, 300, "the render and its review")
    window.document.request_frame(12)
    wait_until(lambda: window.document.current == 12, 10, "frame 12")
    window.add_marker()
    window.project.add_segment(55, 70, enabled=False)
    for mode in ("source", "processed", "side_by_side", "wipe", "difference"):
        window.viewer.set_mode(mode)
        wait_until(lambda m=mode: m == "source" or window.viewer.has_processed, 20, f"the {mode} view")
        save(f"02-viewer-{mode}", window.centralWidget())
    window.transport.overlays.setChecked(True)
    window.document.request_frame(10)
    wait_until(
        lambda: (
            window.document.current == 10
            and window.viewer.overlays
            and all(face["track"] is not None for face in window.viewer.overlays)
        ),
        120,
        "face overlays with track ids",
    )
    save("03-viewer-overlays", window.centralWidget())
    window.project.set_face(f"track:{window.viewer.overlays[0]['track']}")  # as a click on the face does
    QApplication.processEvents()
    save("03-viewer-target", window.centralWidget())
    save("05-panel-media-target", window.dock_media)
    window.project.set_face("auto")
    window.viewer.set_mode("side_by_side")
    window.transport.overlays.setChecked(False)
    window.review_panel.select_range(0)
    wait_until(lambda: window.viewer.has_processed, 20, "the flagged range")
    save("04-window-review", window)
    window.zoom_out()
    window.zoom_out()
    QApplication.processEvents()
    save("02-viewer-zoomed-out", window.centralWidget())
    window.zoom_fit()
    for name, dock in (("personas", window.dock_personas), ("review", window.dock_review),
                       ("queue", window.dock_queue), ("media", window.dock_media)):  # fmt: skip
        dock.raise_()
        QApplication.processEvents()
        save(f"05-panel-{name}", dock)
    save("06-timeline", window.timeline)
    faces = [REPO / "resources" / "demo" / "grace_hopper.jpg"]
    consent = ConsentDialog(faces, [REPO / "resources" / "demo" / "arctic_a0009_female.wav"], "Grace", window)
    consent.show()
    wait_until(lambda: consent.isVisible(), 5, "the consent form")
    save("07-dialog-consent", consent)
    consent.close()
    face = load_image(faces[0])
    two = np.hstack([face, face[:, ::-1]])
    h, w = face.shape[:2]
    boxes = [(w * 0.2, h * 0.15, w * 0.8, h * 0.75), (w * 1.2, h * 0.15, w * 1.8, h * 0.75)]
    picker = FacePickerDialog(to_pixmap(two), boxes, "Choose a face", window)
    picker.show()
    picker.select(1)
    save("08-dialog-face-picker", picker)
    picker.close()
    window.review_panel.select_range(0)
    window.review_panel.rerender_current()
    dialog = window.review_panel.pending_dialog
    if dialog is not None:
        wait_until(dialog.isVisible, 5, "the re-render dialog")
        save("09-dialog-rerender", dialog)
        dialog.reject()
    shoot_new_dialogs(window, save)
    box = show_error(
        window, MediaError("The video clip.mp4 is cut off after 2.3 s.", hint="Export it again.")
    )
    wait_until(box.isVisible, 5, "the error dialog")
    save("10-dialog-error", box)
    box.close()
    window.close()
    return saved


def shoot_new_dialogs(window: Any, save: Callable[[str, Any], None]) -> None:
    """Publish (with a destination whose keys are not needed to show it) and every Settings page."""
    from layer_desktop.remote.storage import save_destination
    from layer_desktop.secrets import KeyringSecrets
    from layer_desktop.settings import S3Destination

    save_destination(S3Destination(name="team-renders", bucket="renders", endpoint_url="https://s3.example.com"),
                     None, KeyringSecrets())  # fmt: skip
    window.publish_render()
    publish = window.publish_dialog
    wait_until(publish.isVisible, 5, "the publish dialog")
    save("12-dialog-publish", publish)
    publish.publish_button.click()  # to an unreachable bucket, cancelled at once: the queue's publish row
    window.publisher.cancel()
    wait_until(lambda: not window.publisher.busy, 30, "the cancelled publish")
    window.queue_panel.table.selectRow(window.queue_panel.table.rowCount() - 1)
    window.dock_queue.raise_()
    save("12-panel-queue-publish", window.dock_queue)
    publish.close()
    for i, page in enumerate(("Engines", "Destinations", "Models", "Voice", "Output", "Disclosure")):
        settings = window.open_settings(page)
        wait_until(settings.isVisible, 5, "the settings dialog")
        save(f"{13 + i}-settings-{page.lower()}", settings)
        settings.close()
    shoot_talking_heads(window, save)


def shoot_talking_heads(window: Any, save: Callable[[str, Any], None]) -> None:
    """File › New talking head (with its preview) and the catalogue batch dialog; the Add-host form."""
    from layer_desktop.ui.widgets.host_dialog import HostDialog

    window.new_talking_head()
    talk = window.talk_dialog
    wait_until(talk.isVisible, 5, "the talking-head dialog")
    talk.photo.setText(str(REPO / "resources" / "demo" / "grace_hopper.jpg"))
    talk.script.setPlainText("Our new travel mug keeps coffee hot for twelve hours.")
    talk.preview_button.click()
    wait_until(lambda: talk.status.text().startswith("Preview:"), 120, "the talking-head preview")
    save("19-dialog-talking-head", talk)
    talk.close()
    window.talking_head_batch()
    batch = window.talk_batch_dialog
    wait_until(batch.isVisible, 5, "the catalogue dialog")
    save("20-dialog-talking-head-batch", batch)
    batch.close()
    host = HostDialog(window)
    host.show()
    wait_until(host.isVisible, 5, "the add-host form")
    save("21-dialog-add-host", host)
    host.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--theme", choices=("dark", "light"))
    ap.add_argument("--scale", type=int, choices=(1, 2))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--media", type=Path, default=REPO.parent / "shared" / "media", help="the test media kit")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.child:  # one variant, in the throwaway home its parent made
        for path in shoot_variant(args.out / f"{args.theme}-x{args.scale}", str(args.theme), args.media):
            log.info("saved %s", path)
        return 0
    failed = 0
    for theme in (args.theme,) if args.theme else ("dark", "light"):
        for scale in (args.scale,) if args.scale else (1, 2):
            env = {
                **os.environ,
                "QT_SCALE_FACTOR": str(scale),
                "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
            }
            # always a throwaway home: never the caller's (a running app's engine, personas, settings)
            env["LAYER_HOME"] = home = tempfile.mkdtemp(prefix="layer-shots-")
            cmd = [sys.executable, __file__, "--out", str(args.out), "--theme", theme, "--scale", str(scale),
                   "--media", str(args.media), "--child"]  # fmt: skip
            try:
                failed += subprocess.call(cmd, env=env) != 0
            finally:
                shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
