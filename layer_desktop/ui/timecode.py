"""SMPTE timecode for the studio's one frame numbering (frames count from 0, as the engine, the
review and the CLI count them). 29.97 and 59.94 fps use drop-frame timecode (``;`` before the frames),
so the timecode keeps step with the wall clock; other rates count whole frames per second."""

from __future__ import annotations

FRAMES_FROM = 0  # the first frame's number, everywhere in the UI
DROP_RATES = {30: 2, 60: 4}  # nominal rate → frame numbers dropped each minute (not every tenth)


def is_drop_frame(fps: float) -> bool:
    """True for the NTSC rates 29.97 and 59.94 (30000/1001, 60000/1001)."""
    nominal = round(fps)
    return nominal in DROP_RATES and abs(fps - nominal * 1000 / 1001) < 0.005


def timecode(frame: int, fps: float) -> str:
    """``HH:MM:SS:FF`` for ``frame`` (0-based) at ``fps``; drop-frame ``HH:MM:SS;FF`` at 29.97/59.94."""
    nominal = max(1, round(fps))
    if is_drop_frame(fps):
        drop = DROP_RATES[nominal]
        per_10min = nominal * 600 - drop * 9
        per_min = nominal * 60 - drop
        tens, rest = divmod(frame, per_10min)
        extra = drop * 9 * tens + (drop * ((rest - drop) // per_min) if rest > drop else 0)
        frame += extra
        sep = ";"
    else:
        sep = ":"
    ff = frame % nominal
    seconds = frame // nominal
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{ff:02d}"
