"""`layer doctor --json` checks every layer and says so in JSON a user can paste."""

from __future__ import annotations

import json

import pytest

from layer_desktop.cli import main


@pytest.mark.slow
def test_doctor_json_has_one_finding_per_layer(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    names = [f["name"] for f in report["findings"]]
    assert names[:3] == ["bundle", "display", "media"] and "provenance signer" in names and "keyring" in names
    assert all(f["status"] in ("ok", "warn", "fail", "skip", "crash") for f in report["findings"])
    assert not [f for f in report["findings"] if f["status"] == "crash"]
    by_name = {f["name"]: f for f in report["findings"]}
    assert by_name["engine"]["status"] == "ok" and by_name["provenance signer"]["status"] == "ok"
    assert code == (0 if all(f["status"] in ("ok", "warn", "skip") for f in report["findings"]) else 1)
