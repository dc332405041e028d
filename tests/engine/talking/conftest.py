"""A talking head rendered once from the kit's astronaut photo and a typed script, with the same spec's
prepared animator (its visemes and blink curve: everything is deterministic for the spec)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from layer_desktop.engine.talking.animate import Animator
from layer_desktop.engine.talking.render import TalkReport, prepare_talk, render_talk
from layer_desktop.engine.talking.spec import TalkSpec
from tests.conftest import SHARED_MEDIA

PHOTO = SHARED_MEDIA / "faces" / "astronaut.png"
# bilabials (b, m, p) and open vowels (a, o), about 3 s of system speech
SCRIPT = "Bob and Mama baked a big apple pie at the park, and Papa ate a lot."
SIZE = "448"  # Face Mesh reads a closed smile as closed from about 400 px up


@dataclass(frozen=True)
class Talked:
    home: Path
    spec: TalkSpec
    report: TalkReport
    animator: Animator

    @property
    def output(self) -> Path:
        return Path(self.spec.output)


@pytest.fixture(scope="session")
def talked(tmp_path_factory: pytest.TempPathFactory) -> Talked:
    home = tmp_path_factory.mktemp("talk_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYER_HOME", str(home))
        spec = TalkSpec(photo=str(PHOTO), script=SCRIPT, size=SIZE, output=str(home / "talk.mp4"))
        report = render_talk(spec, work_dir=home / "work")
        animator = prepare_talk(spec, home / "again")
        return Talked(home, spec, report, animator)
