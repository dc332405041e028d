"""`layer demo --engine cluster:…`: the demo transform on a real local Ray cluster through the CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.cli import main
from tests.clips import decode


@pytest.mark.slow
def test_the_demo_runs_on_a_cluster_from_the_command_line(
    ray_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo.mp4"
    assert main(["demo", "-o", str(target), "--engine", "cluster:local"]) == 0
    printed = capsys.readouterr().out
    assert "100 of 100 frames swapped" in printed
    assert re.search(r"chunks: 0 encoded, [1-9]\d* reused", printed), printed  # the workers encoded them
    assert len(decode(target)) == 100
