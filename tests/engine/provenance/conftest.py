"""A demo job rendered once (the demo persona over the demo clip, default disclosure: the visible mark and the
invisible watermark), signed with this test home's identity."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from layer_desktop.engine.personas import Persona, PersonaStore
from layer_desktop.engine.pipeline import Job, TransformSpec, load_job, run_transform
from layer_desktop.engine.pipeline.demo import demo_content, ensure_demo_persona


@dataclass(frozen=True)
class DemoRun:
    home: Path
    store: PersonaStore
    persona: Persona
    job: Job

    @property
    def output(self) -> Path:
        return Path(self.job.spec.output)

    @property
    def ca(self) -> bytes:
        return (self.home / "data" / "provenance" / "ca.pem").read_bytes()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    home = tmp_path_factory.mktemp("prov_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(home))
        store = PersonaStore(home / "data" / "layer.sqlite3", home / "data" / "media")
        persona = ensure_demo_persona(store)
        spec = TransformSpec.model_validate(
            {
                "source": str(demo_content().clip), "output": str(home / "demo_out.mp4"),
                "persona": persona.name, "output_settings": {"preset": "veryfast", "chunk_frames": 25},
            }
        )  # fmt: skip
        run_transform(spec, store=store)
        return DemoRun(home, store, persona, load_job(spec.output))
