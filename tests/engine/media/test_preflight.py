"""Checks before any work: the output is not the input, its folder exists and is writable, it is not a
folder, the disk has room, and no other job holds it — for `layer render` and `layer transform`, through
the real entry point. A full disk is a real small tmpfs where this machine lets the test mount one
(root), else the free-space seam; a read-only folder is a read-only tmpfs for root (who may write
anywhere else), else a folder without write permission."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from layer_desktop.cli import main
from layer_desktop.engine.media import preflight
from layer_desktop.engine.media.preflight import disk_errors, hold_output, lock_path
from layer_desktop.errors import DiskFullError, OutputInUseError
from tests.conftest import SHARED_MEDIA

CLIP = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())  # rich wraps long lines
    assert "Traceback" not in text
    return code, text


def render_argv(source: Path, output: Path) -> list[str]:
    return ["render", str(source), "--passthrough", "--preset", "ultrafast", "-o", str(output)]


def transform_argv(source: Path, output: Path) -> list[str]:
    # the persona does not exist: a refusal about the output proves the check comes before everything
    return ["transform", "--persona", "Nobody", "--video", str(source), "-o", str(output)]


COMMANDS = {"render": render_argv, "transform": transform_argv}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    copy = tmp_path / "src" / "clip.mp4"
    copy.parent.mkdir()
    shutil.copyfile(CLIP, copy)
    return copy


def nothing_started(home: Path) -> bool:
    """No job folder, analysis or render chunks were made."""
    return not any(home.rglob("analysis")) and not any(home.rglob("manifest.json"))


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on a 4 MB file system: a real tmpfs when mountable, else the free-space seam says 4 MB."""
    folder = tmp_path / "small"
    mounted = _mount_tmpfs(folder, "size=4m")
    if not mounted:
        real = preflight.disk_free
        monkeypatch.setattr(
            preflight, "disk_free", lambda p: 4_000_000 if p.is_relative_to(folder) else real(p)
        )
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    mounted = _mount_tmpfs(folder, "ro,size=1m")
    if not mounted:
        folder.chmod(0o500)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o700)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_output_equal_to_the_input_is_refused_and_the_source_is_unchanged(
    command: str, source: Path, layer_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sha256(source)
    code, text = run(COMMANDS[command](source, source), capsys)
    assert code == 2 and "is the input file" in text and "Choose another output name" in text
    assert sha256(source) == before
    # the same file under another name (a hard link: same inode) is refused too
    link = source.with_name("same.mp4")
    os.link(source, link)
    code, text = run(COMMANDS[command](source, link), capsys)
    assert code == 2 and "is the input file" in text
    assert sha256(source) == before and nothing_started(layer_home)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_output_folder_is_refused_before_any_work(
    command: str, source: Path, tmp_path: Path, layer_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(COMMANDS[command](source, tmp_path / "missing" / "out.mp4"), capsys)
    assert code == 2 and "does not exist" in text and "mkdir -p" in text
    assert nothing_started(layer_home)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_output_naming_a_folder_is_refused(
    command: str, source: Path, tmp_path: Path, layer_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(COMMANDS[command](source, tmp_path), capsys)
    assert code == 2 and "is a folder" in text and "Give a file name" in text
    assert nothing_started(layer_home)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_read_only_output_folder_is_refused(
    command: str, source: Path, read_only: Path, layer_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(COMMANDS[command](source, read_only / "out.mp4"), capsys)
    assert code == 2 and "cannot be written" in text and "folder you can write to" in text
    assert not (read_only / "out.mp4").exists() and nothing_started(layer_home)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_full_disk_is_refused_before_any_work(
    command: str, source: Path, small_disk: Path, layer_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(COMMANDS[command](source, small_disk / "out.mp4"), capsys)
    assert code == 2 and "Not enough free space" in text and "Free disk space" in text
    assert list(small_disk.iterdir()) == [] and nothing_started(layer_home)


def test_the_estimate_grows_with_quality_and_covers_the_source(source: Path) -> None:
    best, worst = preflight.estimate_size(source, 0), preflight.estimate_size(source, 51)
    assert best.output > worst.output and best.output >= source.stat().st_size


def test_a_disk_filling_up_during_the_work_is_a_clear_error(tmp_path: Path) -> None:
    # /dev/full answers every write with the kernel's real ENOSPC
    with (
        pytest.raises(DiskFullError, match="disk filled up") as info,
        disk_errors(tmp_path),
        open("/dev/full", "wb", buffering=0) as fh,
    ):
        fh.write(b"chunk")
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.ENOSPC
    with pytest.raises(KeyError), disk_errors(tmp_path):  # other errors pass through unchanged
        raise KeyError("x")


HOLDER = """
import sys
from pathlib import Path
from layer_desktop.engine.media.preflight import hold_output
with hold_output(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def held_by_another_process(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    output = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(output)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield output, proc.pid
    assert proc.stdin is not None
    proc.stdin.close()
    proc.stdout.close()
    assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_second_job_on_the_same_output_is_told_who_holds_it(
    command: str, source: Path, held_by_another_process: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    output, pid = held_by_another_process
    code, text = run(COMMANDS[command](source, output), capsys)
    assert code == 2 and f"in use by pid {pid}" in text and "Wait for the other job" in text
    assert not output.exists()


def test_the_lock_is_released_and_removed_after_the_job(tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    with hold_output(output) as lock:
        assert lock.read_text().strip() == str(os.getpid())
        with pytest.raises(OutputInUseError, match=f"pid {os.getpid()}"), hold_output(output):
            pass
    assert not lock_path(output).exists()
    with hold_output(output):  # free again
        pass


def test_a_render_still_works_and_leaves_no_lock(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.mp4"
    code, text = run([*render_argv(source, output), "--chunk-frames", "50"], capsys)
    assert code == 0, text
    assert output.stat().st_size > 0 and not lock_path(output).exists()
