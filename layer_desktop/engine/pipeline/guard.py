"""What a transform job checks and holds before it does any work: its output place (not the source,
a writable folder, disk space, no other job writing it) and, for its whole run, the output's lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from layer_desktop.engine.media.preflight import check_output, disk_errors, hold_output
from layer_desktop.engine.pipeline.spec import TransformSpec, parse_face
from layer_desktop.errors import FrameOutOfRangeError
from layer_desktop.settings import write_atomic


def audio_inputs(spec: TransformSpec) -> tuple[Path, ...]:
    """Files besides the source that the job reads (a replacement audio track)."""
    return () if spec.audio in ("source", "none") else (Path(spec.audio),)


@contextlib.contextmanager
def guarded_output(spec: TransformSpec, work_dir: Path) -> Iterator[None]:
    """Check ``spec``'s output place, then hold it (lock file with our pid) for the ``with`` block; a
    full disk met inside becomes ``DiskFullError``. Raises ``OutputPlaceError``, ``OutputInUseError``,
    ``DiskFullError``."""
    output = Path(spec.output)
    check_output(
        Path(spec.source), output, work_dir,
        crf=spec.output_settings.crf, other_inputs=audio_inputs(spec),
    )  # fmt: skip
    with hold_output(output), disk_errors(work_dir):
        yield


def check_face_frame(spec: TransformSpec, frame_count: int) -> None:
    """Raise ``FrameOutOfRangeError`` when ``face: X,Y@F`` names a frame past the clip's end."""
    kind, args = parse_face(spec.face)
    if kind == "point" and int(args[2]) >= frame_count:
        raise FrameOutOfRangeError(
            f"The face point names frame {int(args[2])}, but the video has {frame_count} frames.",
            hint=f"Use a frame from 0 to {frame_count - 1} in --face X,Y@FRAME.",
        )


@contextlib.contextmanager
def spec_restored_on_failure(spec_file: Path) -> Iterator[None]:
    """A re-render is atomic: when anything in the ``with`` block fails, ``spec_file`` gets its old
    bytes back (the chunks it dropped from the manifest are rendered again, from that spec, next time)."""
    before = spec_file.read_bytes()
    try:
        yield
    except BaseException:
        write_atomic(spec_file, before)
        raise
