"""Shared material for the transform-job tests: a persona store with Grace Hopper, jobs run once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from layer_desktop.engine.personas import ConsentInput, FaceInput, PersonaStore, create_persona
from layer_desktop.engine.pipeline import Job, TransformSpec, load_job, run_transform
from tests.clips import make_face_gap_clip
from tests.conftest import SHARED_MEDIA

SHARED = SHARED_MEDIA
FAST = {"preset": "veryfast", "chunk_frames": 25}


@dataclass(frozen=True)
class Studio:
    home: Path
    store: PersonaStore

    def spec(self, source: Path, output: Path, **kw: object) -> TransformSpec:
        data: dict[str, object] = {
            "source": str(source), "output": str(output), "persona": "Grace", "output_settings": FAST,
        }  # fmt: skip
        # these tests compare frames across jobs: the invisible mark's payload differs per job (its own
        # tests are in tests/engine/provenance)
        disclosure = kw.pop("disclosure", {})
        assert isinstance(disclosure, dict)
        data.update(kw, disclosure={"watermark": False, **disclosure})
        return TransformSpec.model_validate(data)

    def run(self, spec: TransformSpec) -> Job:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LAYER_HOME", str(self.home))
            run_transform(spec, store=self.store)
            return load_job(spec.output)


def make_store(home: Path) -> PersonaStore:
    store = PersonaStore(home / "data" / "layer.sqlite3", home / "data" / "media")
    create_persona(
        store, "Grace", [FaceInput(SHARED / "faces" / "grace_hopper.jpg")], ConsentInput("Public domain")
    )
    return store


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    home = tmp_path_factory.mktemp("studio")
    yield Studio(home, make_store(home))


@pytest.fixture(scope="session")
def talk_job(studio: Studio) -> Job:
    src = SHARED / "clips" / "talk_astronaut_4s.mp4"
    return studio.run(studio.spec(src, studio.home / "talk_out.mp4"))


@pytest.fixture(scope="session")
def face_gap_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 frames of the talking astronaut, 20 of the coffee cup (no face), 25 of the astronaut again."""
    return make_face_gap_clip(tmp_path_factory.mktemp("clips") / "face_gap.mp4")
