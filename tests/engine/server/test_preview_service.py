"""The preview service: encoded frames of the right size and format, cached by settings, safe under a burst
of threads, and a persona edited since is never answered from the cache."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from layer_desktop.engine.hashing import sha256_file
from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.engine.server.preview import PreviewService
from layer_desktop.engine.server.schemas import PreviewRequest
from layer_desktop.errors import FrameOutOfRangeError, PersonaNotFoundError
from tests.conftest import SHARED_MEDIA

TALK = SHARED_MEDIA / "clips" / "talk_astronaut_4s.mp4"
ROTATED = SHARED_MEDIA / "clips" / "vfr_rotated.mp4"
GRACE = SHARED_MEDIA / "faces" / "grace_hopper.jpg"


def make_store(home: Path) -> PersonaStore:
    store = PersonaStore(home / "layer.sqlite3", home / "media")
    create_persona(store, "Grace", [FaceInput(GRACE)], ConsentInput("Public domain"))
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> PersonaStore:
    return make_store(tmp_path_factory.mktemp("personas"))


@pytest.fixture
def service(store: PersonaStore) -> Iterator[PreviewService]:
    s = PreviewService(store)
    yield s
    s.close()


def request(path: Path = TALK, **kw: Any) -> PreviewRequest:
    return PreviewRequest.model_validate({"media": sha256_file(path), "frame": 10, "persona": "Grace", **kw})


def decoded(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def test_a_repeated_request_is_a_cache_hit_with_the_same_bytes(service: PreviewService) -> None:
    data, media_type = service.render(TALK, request())
    assert media_type == "image/jpeg" and data[:3] == b"\xff\xd8\xff"
    again, _ = service.render(TALK, request())
    assert again == data and (service.hits, service.misses) == (1, 1)
    frame = service.previewer.frame(TALK, 10, persona="Grace")
    image = decoded(data)
    assert image.shape == frame.shape == (512, 512, 3)
    assert np.abs(image.astype(int) - frame.astype(int)).mean() < 2.0  # JPEG quality 90


def test_changed_settings_miss_the_cache(service: PreviewService) -> None:
    first, _ = service.render(TALK, request())
    changes: list[dict[str, Any]] = [
        {"frame": 11}, {"visible_mark": False}, {"format": "png"}, {"max_side": 256},
        {"swap": {"feather": 0.2}}, {"face": "256,200@0"}, {"persona": None}, {"detector": "full"},
    ]  # fmt: skip
    for change in changes:
        service.render(TALK, request(**change))
    assert (service.hits, service.misses) == (0, 1 + len(changes))
    assert service.render(TALK, request())[0] == first and service.hits == 1
    unmarked = decoded(service.render(TALK, request(visible_mark=False))[0])
    assert np.abs(unmarked.astype(int) - decoded(first).astype(int)).max() > 100  # really another image


def test_png_is_the_rendered_frame_exactly(service: PreviewService) -> None:
    data, media_type = service.render(TALK, request(format="png"))
    assert media_type == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(decoded(data), service.previewer.frame(TALK, 10, persona="Grace"))


@pytest.mark.parametrize(
    ("path", "max_side", "shape"),
    [(TALK, 200, (200, 200)), (ROTATED, 320, (320, 180)), (ROTATED, 4000, (640, 360)), (TALK, 0, (512, 512))],
)
def test_max_side_bounds_the_longest_side(
    service: PreviewService, path: Path, max_side: int, shape: tuple[int, int]
) -> None:
    data, _ = service.render(path, request(path, frame=3, max_side=max_side, format="png"))
    image = decoded(data)
    assert image.shape == (*shape, 3)
    full = service.previewer.frame(path, 3, persona="Grace")
    small = cv2.resize(full, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    assert np.array_equal(image, small)


def test_a_burst_from_four_threads_gives_each_its_own_frame(store: PersonaStore) -> None:
    requests = [request(frame=f, visible_mark=bool(f % 2)) for f in (0, 5, 10, 15, 20, 25)]
    serial = PreviewService(store)
    try:
        expected = [serial.render(TALK, r)[0] for r in requests]
    finally:
        serial.close()
    shared = PreviewService(store)
    results: dict[tuple[int, int], bytes] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for k in range(len(requests)):
                i = (k + worker) % len(requests)  # every thread asks for every frame, in another order
                results[worker, i] = shared.render(TALK, requests[i])[0]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        shared.close()
    assert not errors and len(results) == 4 * len(requests)
    assert all(data == expected[i] for (_, i), data in results.items())
    assert shared.misses == len(requests) and shared.hits == 3 * len(requests)


def test_an_edited_persona_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    store = make_store(tmp_path / "personas")
    service = PreviewService(store)
    try:
        before, _ = service.render(TALK, request(format="png"))
        store.delete("Grace")
        create_persona(
            store, "Grace", [FaceInput(SHARED_MEDIA / "faces" / "astronaut.png")], ConsentInput("Test")
        )
        after, _ = service.render(TALK, request(format="png"))
        assert service.misses == 2 and service.hits == 0
        changed = np.abs(decoded(after).astype(int) - decoded(before).astype(int)).max(axis=2) > 12
        assert changed.sum() > 2000  # the face (~100 px wide) is another persona's, lit as the target
    finally:
        service.close()


def test_errors_propagate_and_nothing_is_cached(service: PreviewService) -> None:
    with pytest.raises(FrameOutOfRangeError):
        service.render(TALK, request(frame=100))
    with pytest.raises(PersonaNotFoundError):
        service.render(TALK, request(persona="Nobody"))
    service.render(TALK, request(frame=99))
    service.close()  # the readers close and the cache empties; the service still answers after
    service.render(TALK, request(frame=99))
    assert service.hits == 0
