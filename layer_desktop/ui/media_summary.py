"""The Media panel's text: the open video's facts as a small table."""

from __future__ import annotations

from html import escape
from pathlib import Path

from layer_desktop.engine.media.probe import MediaInfo


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
    body = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"
