"""Test-wide fixtures: media paths, an isolated app home, and a guard against leaked threads."""

from __future__ import annotations

import importlib.util
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest

REPO = Path(__file__).resolve().parent.parent
# the project's test-media kit sits beside the repo (../shared/media); LAYER_TEST_MEDIA points elsewhere
SHARED_MEDIA = Path(os.environ.get("LAYER_TEST_MEDIA") or REPO.parent / "shared" / "media")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# playback sound through miniaudio's null device: real timing, no sound card needed, no ALSA noise
os.environ.setdefault("LAYER_AUDIO_BACKEND", "null")


def require_component(name: str, available: bool, why: str) -> None:
    """Skip when a test component (sshd, S3 server, …) is missing — but fail in CI (LAYER_REQUIRE_ALL=1)."""
    if available:
        return
    if os.environ.get("LAYER_REQUIRE_ALL") == "1":
        pytest.fail(f"{name} is required in CI but missing: {why}")
    pytest.skip(f"{name} missing: {why}")


@pytest.fixture(scope="session")
def media_dir() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.fail(
            f"test media kit not found at {SHARED_MEDIA} "
            "(the repo's ../shared/media, or set LAYER_TEST_MEDIA)"
        )
    return SHARED_MEDIA


@pytest.fixture(autouse=True)
def layer_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own app home, so nothing touches the real user's folders."""
    home = tmp_path / "layer_home"
    monkeypatch.setenv("LAYER_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running behind it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Makes (once per session) a file of ``tests/media_zoo.py`` by name and returns its path."""
    from tests.media_zoo import make

    folder = tmp_path_factory.mktemp("zoo")
    return lambda name: make(name, folder)


@pytest.fixture(scope="session")
def real_footage(tmp_path_factory: pytest.TempPathFactory, media_dir: Path) -> object:
    """The generated real-footage clip (tests/footage.py) with its ground truth, made once per session
    (or reused from LAYER_FOOTAGE_CACHE, a folder, when set)."""
    from tests.footage import make_footage

    cache = os.environ.get("LAYER_FOOTAGE_CACHE")
    return make_footage(Path(cache) if cache else tmp_path_factory.mktemp("footage"))


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS-keyring stand-in that keeps values in memory; ``max_chars`` mimics Windows' cap."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, max_chars: int | None = None) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}
        self.max_chars = max_chars

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.max_chars is not None and len(password) > self.max_chars:
            raise keyring.errors.PasswordSetError("The stub is too long.")
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session", autouse=True)
def session_keyring() -> Iterator[keyring.backend.KeyringBackend]:
    """Secrets written by jobs (the provenance signing key) go to memory; tests needing another backend
    set their own and restore this one."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """A real local Ray cluster: 2 CPUs, 2 fake GPUs (GPU placement on a CPU machine), a 100 MB object
    store, no dashboard. Started once per session, shut down at the end."""
    require_component(
        "Ray", importlib.util.find_spec("ray") is not None, "pip install layer-desktop[cluster]"
    )
    # the token in this process's environment, as the app's cluster:local does (else Ray writes one to
    # ~/.ray/auth_token)
    saved = {key: os.environ.get(key) for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_urlsafe(32))
    import ray

    from layer_desktop.engine.cluster.runner import token_from_environment

    token_from_environment()  # a test module may have imported Ray before
    ray.init(
        address="local",  # always a new cluster: never one a `ray start` left running on this machine
        num_cpus=2, num_gpus=2, object_store_memory=100 * 1024 * 1024, include_dashboard=False,
        log_to_driver=False,
    )  # fmt: skip
    try:
        yield ray
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
