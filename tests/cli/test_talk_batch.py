"""`layer talk batch` end to end against a real moto S3 server: five products, three published under the
key template with working links in the report, two clear per-product errors (a picture without a face,
a 600-character script), the "partial" exit status; a second run renders and uploads nothing."""

from __future__ import annotations

import csv
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.cli import main
from layer_desktop.cli.talk_batch import EXIT_PARTIAL
from layer_desktop.remote.storage import HmacKeys, PublishDb, save_destination
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import S3Destination
from tests.conftest import SHARED_MEDIA, MemoryKeyring
from tests.engine.talking.test_talk_inputs import product_shot
from tests.remote.storage.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, moto_url, s3_env

__all__ = ["moto_url", "s3_env"]  # the publish tests' real moto server, shared

pytestmark = pytest.mark.slow
ASTRONAUT = SHARED_MEDIA / "faces" / "astronaut.png"
GRACE = SHARED_MEDIA / "faces" / "grace_hopper.jpg"
LONG = ("Our bamboo bottle keeps water cold. " * 17)[:599] + "!"  # 600 characters


def _catalogue(folder: Path) -> Path:
    rows = [
        {"Product ID": "P1", "Name": "Bamboo bottle", "Description": "", "Image": str(ASTRONAUT),
         "Script": "Meet the bamboo bottle.", "Voice": ""},
        {"Product ID": "P2", "Name": "Blue mug", "Description": "It keeps coffee warm.", "Image": str(GRACE),
         "Script": "", "Voice": "en-us"},
        {"Product ID": "P3", "Name": "Map poster", "Description": "", "Image": str(ASTRONAUT),
         "Script": "A big map of the park.", "Voice": "en+f3"},
        {"Product ID": "P4", "Name": "Lamp", "Description": "A desk lamp.", "Image": "product.png",
         "Script": "", "Voice": ""},
        {"Product ID": "P5", "Name": "Tent", "Description": "", "Image": str(GRACE), "Script": LONG,
         "Voice": ""},
    ]  # fmt: skip
    return write_catalogue(folder, rows)


def write_catalogue(folder: Path, rows: list[dict[str, str]]) -> Path:
    """``rows`` as ``folder/products.csv``, with ``product.png`` (a photo without a face) beside it."""
    product_shot(folder)  # product.png, relative to the catalogue
    path = folder / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_report(folder: Path) -> dict[str, dict[str, Any]]:
    """The batch's JSON report, by product id."""
    data = json.loads((folder / "report.json").read_text())
    return {row["product"]: row for row in data["products"]}


def test_a_catalogue_publishes_three_videos_reports_two_errors_and_resumes_without_work(
    s3_env: dict[str, Any], memory_keyring: MemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = S3Destination(
        name="shop", bucket=s3_env["bucket"], endpoint_url=s3_env["url"], key_template="{name}"
    )
    save_destination(dest, HmacKeys(ACCESS_KEY_ID, SECRET_ACCESS_KEY), KeyringSecrets())
    catalogue = _catalogue(tmp_path)
    out = tmp_path / "videos"
    argv = ["talk", "batch", str(catalogue), "-o", str(out), "--org", "acme", "--size", "160",
            "--publish", "shop"]  # fmt: skip
    assert main(argv) == EXIT_PARTIAL
    rows = read_report(out)
    made = {p: r for p, r in rows.items() if r["status"] == "made"}
    assert set(made) == {"P1", "P2", "P3"}
    listed = s3_env["raw"].list_objects_v2(Bucket=s3_env["bucket"]).get("Contents", [])
    assert sorted(o["Key"] for o in listed) == sorted(r["key"] for r in made.values())
    for pid, row in made.items():
        assert re.fullmatch(rf"acme/videos/ai-generated/{pid}-[0-9a-f]{{12}}\.mp4", row["key"])
        assert row["published"] == "uploaded"
        with urllib.request.urlopen(row["url"]) as resp:  # the link in the report works
            assert resp.read() == (out / row["key"]).read_bytes()
    assert "No face was found in product.png" in rows["P4"]["error"] and "persona" in rows["P4"]["hint"]
    assert "600 characters" in rows["P5"]["error"] and "500" in rows["P5"]["error"]
    with (out / "report.csv").open(encoding="utf-8") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["made", "made", "made", "failed", "failed"]
    assert len(PublishDb().records()) == 3
    first_run = {o["Key"]: o["ETag"] for o in listed}
    capsys.readouterr()

    assert main(argv) == EXIT_PARTIAL  # again: nothing rendered, nothing uploaded
    again = read_report(out)
    assert [again[p]["status"] for p in ("P1", "P2", "P3")] == ["finished"] * 3
    assert [again[p]["published"] for p in ("P1", "P2", "P3")] == ["already"] * 3
    assert [again[p]["url"] for p in ("P1", "P2", "P3")] == [rows[p]["url"] for p in ("P1", "P2", "P3")]
    assert len(PublishDb().records()) == 3  # publish() was not called again
    listed = s3_env["raw"].list_objects_v2(Bucket=s3_env["bucket"])["Contents"]
    assert {o["Key"]: o["ETag"] for o in listed} == first_run
    text = capsys.readouterr().out
    assert "rendered 0, uploaded 0" in " ".join(text.split())
