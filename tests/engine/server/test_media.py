"""The engine's media library when two clients send the same file at once (the studio's live preview and
its render both upload the source): whichever finishes first keeps the file, and the other's next PUT,
status or finish answers "complete" instead of "not known to this engine"."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from layer_desktop.engine.client import EngineClient
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.jobstore import JobStore
from layer_desktop.engine.server.media import MediaLibrary
from layer_desktop.engine.server.schemas import UploadStart
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
        except BaseException as exc:
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
