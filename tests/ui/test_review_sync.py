"""Out-of-sync ranges in the review list carry their A/V offset."""

from __future__ import annotations

from layer_desktop.ui.review import flagged_ranges


def test_out_of_sync_ranges_say_how_far_the_sound_is_off() -> None:
    records = [
        {"frame": i, "flags": ["out_of_sync"], "av_offset": 4 if i < 13 else 5} for i in range(10, 16)
    ] + [
        {"frame": 30, "flags": ["no_face"], "av_offset": None},
        {"frame": 40, "flags": ["out_of_sync"], "av_offset": -1},
    ]
    ranges = flagged_ranges(records)
    assert [(r.start, r.stop, r.av_offset) for r in ranges] == [(10, 15, 4), (30, 30, None), (40, 40, -1)]
    assert ranges[0].reason == "Sound out of sync with the mouth (frames 10–15; sound 4 frames late)"
    assert ranges[1].reason == "No face found (frame 30)"
    assert ranges[2].reason.endswith("(frame 40; sound 1 frame early)")
