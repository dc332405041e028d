"""The engine's media library when two clients send the same file at once (the studio's live preview and
its render both upload the source): whichever finishes first keeps the file, and the other's next PUT,
status or finish answers "complete" instead of "not known to this engine"."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.server import media as media_module
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.engine.server.media import MediaLibrary, UploadWriter
from layer_desktop.engine.server.schemas import UploadStart
from layer_desktop.errors import EngineRequestError
from tests.engine.server.conftest import EngineProcess

DATA = bytes(range(256)) * 40  # 10 KiB


def library(tmp_path: Path) -> MediaLibrary:
    home = EngineHome(tmp_path / "engine").ensure()
    return MediaLibrary(home, JobStore(home.database))


def test_an_upload_overtaken_by_the_same_file_ends_complete(tmp_path: Path) -> None:
    media = library(tmp_path)
    sha = hashlib.sha256(DATA).hexdigest()
    req = UploadStart(sha256=sha, size=len(DATA), filename="clip.mp4")
    first, second = media.start(req), media.start(req)
    assert (first.offset, second.offset, first.complete) == (0, 0, False)
    media.write(sha, 0, DATA[:4096])  # both clients send the first block; the second one's is refused
    media.write(sha, 4096, DATA[4096:])
    kept = media.finish(sha)

    late = media.write(sha, 4096, DATA[4096:8192])  # the overtaken client's next block
    assert late.complete and late.offset == len(DATA) and late.media_id == sha
    assert media.status(sha).complete
    assert media.finish(sha) == kept
    assert media.start(req).complete
    assert media.path(sha).read_bytes() == DATA


def test_two_clients_upload_the_same_file_at_once(engine_process: EngineProcess, tmp_path: Path) -> None:
    engine = engine_process.start()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(DATA * 300)  # 3 MiB: several blocks each
    results: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with EngineClient(engine.endpoint, upload_chunk=256 * 1024) as client:
                results.append(client.upload(clip).media_id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    for _ in range(3):  # three rounds: the interleaving differs from round to round
        results.clear()
        threads = [threading.Thread(target=send) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert results == [hashlib.sha256(clip.read_bytes()).hexdigest()] * 3
        clip.write_bytes(clip.read_bytes() + b"x")  # new content: a new upload next round


def test_a_streamed_upload_is_committed_every_mebibyte_and_one_writer_sends_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = library(tmp_path)
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    sha = hashlib.sha256(data).hexdigest()
    media.start(UploadStart(sha256=sha, size=len(data), filename="clip.mp4"))
    part = tmp_path / "engine" / "uploads" / f"{sha}.part"
    writer = media.receive(sha, 0, len(data))
    assert isinstance(writer, UploadWriter)
    piece = 384 * 1024
    assert not writer.add(data[:piece]) and not writer.add(data[piece : 2 * piece])
    assert part.stat().st_size == 0  # held in memory until a mebibyte is there
    assert writer.add(data[2 * piece : 3 * piece])  # 1.125 MiB: a commit is due
    assert writer.commit().offset == 3 * piece == part.stat().st_size
    with pytest.raises(EngineRequestError) as busy:  # a second request meanwhile: 409, nothing written
        media.receive(sha, 3 * piece, None)
    assert busy.value.status == 409 and "Another request" in busy.value.message
    writer.add(data[3 * piece : 4 * piece])  # uncommitted when the writer goes stale

    monkeypatch.setattr(media_module, "STALE_WRITER_S", 0.0)  # its link froze: another one takes over
    taker = media.receive(sha, 3 * piece, None)
    assert isinstance(taker, UploadWriter)
    with pytest.raises(EngineRequestError) as late:  # the stale writer's late bytes are dropped
        writer.commit()
    assert late.value.status == 409 and part.stat().st_size == 3 * piece
    writer.close()  # does not release the taker's hold
    assert taker.add(data[3 * piece :]) and taker.commit().offset == len(data)
    with pytest.raises(EngineRequestError) as past:
        taker.add(b"!")
    assert past.value.status == 413
    taker.close()
    assert media.finish(sha).size == len(data) and media.path(sha).read_bytes() == data
