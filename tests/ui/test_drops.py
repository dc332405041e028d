"""Every file of the bad-input corpus dropped on the window: a clear error dialog naming the problem,
or — for the unusual but valid files — the right flow; nothing crashes and the window keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from layer_desktop.ui.main_window import MainWindow
from layer_desktop.ui.widgets.consent_dialog import ConsentDialog
from tests.conftest import SHARED_MEDIA
from tests.ui.studio_driver import close_error_dialogs, drop, error_dialog, open_window

BAD = SHARED_MEDIA / "bad"

# file → words the error dialog's message must contain
ERRORS = {
    "empty.mp4": "empty.mp4",
    "truncated_no_moov.mp4": "moov",
    "text_renamed.mp4": "text_renamed.mp4",
    "audio_only.mp4": "video",
    "one_pixel.png": "one_pixel.png",
    "corrupt_header.wav": "corrupt_header.wav",
}
# unusual but valid pictures: the persona flow goes on to the consent form
PICTURES = ("jpeg_named.png", "cmyk.jpg", "rgba16.png")


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = open_window(qtbot)
    yield w
    close_error_dialogs(w)
    w.close()


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_bad_file_gets_the_error_dialog(window: MainWindow, qtbot: QtBot, name: str) -> None:
    drop(window, [BAD / name])
    qtbot.waitUntil(lambda: error_dialog(window) is not None, timeout=20_000)
    box = error_dialog(window)
    assert box is not None
    assert ERRORS[name].lower() in box.text().lower(), box.text()
    assert box.informativeText().startswith("What to do:") and len(box.informativeText()) > 15
    assert box.detailedText()  # the details are there, folded away
    close_error_dialogs(window)
    window.last_error = None
    drop(window, [SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"])  # the window still works
    qtbot.waitUntil(lambda: window.document.frame_count == 100, timeout=20_000)
    assert window.last_error is None


def test_unknown_file_types_are_named_with_what_to_drop(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not media")
    drop(window, [notes, tmp_path])
    box = error_dialog(window)
    assert box is not None and "notes.txt" in box.text() and ".layer" in box.informativeText()


def test_a_truncated_video_opens_or_says_why(window: MainWindow, qtbot: QtBot) -> None:
    """The first 30% of a faststart mp4: either its frames open, or the dialog names the file."""
    drop(window, [BAD / "truncated_30pct.mp4"])
    qtbot.waitUntil(
        lambda: window.document.frame_count > 0 or error_dialog(window) is not None, timeout=20_000
    )
    box = error_dialog(window)
    assert box is None or "truncated_30pct" in box.text() or "cut off" in box.text().lower()


@pytest.mark.parametrize("name", PICTURES)
def test_unusual_pictures_go_on_to_the_consent_form(window: MainWindow, qtbot: QtBot, name: str) -> None:
    drop(window, [BAD / name])
    panel = window.persona_panel
    asked = lambda: isinstance(panel.pending_dialog, ConsentDialog) or error_dialog(window) is not None  # noqa: E731
    qtbot.waitUntil(asked, timeout=20_000)
    assert error_dialog(window) is None, error_dialog(window).text()  # type: ignore[union-attr]
    assert isinstance(panel.pending_dialog, ConsentDialog)
    panel.pending_dialog.reject()


def test_valid_media_without_video_or_audio(window: MainWindow, qtbot: QtBot) -> None:
    drop(window, [BAD / "video_only.mp4"])  # no sound: it opens, the waveform stays empty
    qtbot.waitUntil(lambda: window.document.frame_count == 50, timeout=20_000)
    assert window.last_error is None and error_dialog(window) is None


def test_voice_samples_alone_say_a_photo_is_needed(window: MainWindow, qtbot: QtBot) -> None:
    drop(window, [BAD / "speech.mp3"])  # a valid mp3, but a persona needs a face
    qtbot.waitUntil(lambda: error_dialog(window) is not None, timeout=20_000)
    box = error_dialog(window)
    assert box is not None and "photo" in box.text() and "speech.mp3" in box.text()


def test_camera_broadcast_and_animation_files_are_videos(tmp_path: Path) -> None:
    from layer_desktop.ui.drops import plan_drop

    names = ["cam.MTS", "show.m2ts", "tv.ts", "dvd.mpg", "loop.gif", "old.avi"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    plan = plan_drop([tmp_path / n for n in names])
    assert [p.name for p in plan.videos] == names
