"""SMPTE timecode: whole-frame rates count frames per second; 29.97 and 59.94 drop frame numbers."""

from __future__ import annotations

from layer_desktop.ui.timecode import is_drop_frame, timecode

NTSC = 30000 / 1001


def test_non_drop_rates() -> None:
    assert timecode(0, 25.0) == "00:00:00:00" and timecode(24, 25.0) == "00:00:00:24"
    assert timecode(25, 25.0) == "00:00:01:00" and timecode(90_000, 25.0) == "01:00:00:00"
    assert timecode(30, 30.0) == "00:00:01:00" and not is_drop_frame(30.0) and not is_drop_frame(25.0)


def test_drop_frame_at_29_97_skips_two_numbers_a_minute_except_every_tenth() -> None:
    assert is_drop_frame(NTSC) and is_drop_frame(60000 / 1001)
    assert timecode(1799, NTSC) == "00:00:59;29"
    assert timecode(1800, NTSC) == "00:01:00;02"  # ;00 and ;01 do not exist in minute 1
    assert timecode(17981, NTSC) == "00:09:59;29"
    assert timecode(17982, NTSC) == "00:10:00;00"  # every tenth minute keeps them
    assert timecode(107_892, NTSC) == "01:00:00;00"  # an hour of wall clock is an hour of timecode
    assert timecode(3600, 60000 / 1001) == "00:01:00;04"
