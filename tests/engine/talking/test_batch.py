"""The catalogue batch without publishing: columns by alias from CSV or JSON, scripts written by an
editable template and capped at 500 characters, safe keys, the content-hash cache, resuming, and one
product's failure not stopping the others."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from layer_desktop.engine.talking.batch import BatchOptions, run_batch, write_report
from layer_desktop.engine.talking.batch_render import Rendered, RenderJob
from layer_desktop.engine.talking.catalogue import (
    Product,
    content_hash,
    output_key,
    read_catalogue,
    script_for,
)
from layer_desktop.engine.talking.render import render_talk
from layer_desktop.errors import InputError
from tests.conftest import SHARED_MEDIA

GRACE = str(SHARED_MEDIA / "faces" / "grace_hopper.jpg")


def _product(pid: str = "P1", script: str = "", description: str = "It keeps coffee warm.") -> Product:
    return Product(pid, "Blue mug", description, GRACE, None, script, "")


def test_json_and_csv_catalogues_read_columns_by_any_spelling(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"products": [
        {"product_id": "A1", "Title": "Mug", "description": "Warm.", "photo": "faces/x.png", "VOICE": "de"},
        {"SKU": "A2", "name": "Tent", "persona": "Grace", "script": "Hello."},
    ]}))  # fmt: skip
    a1, a2 = read_catalogue(tmp_path / "p.json")
    assert (a1.product_id, a1.name, a1.voice, a1.persona) == ("A1", "Mug", "de", None)
    assert a1.image == str(tmp_path / "faces" / "x.png")  # relative to the catalogue
    assert (a2.persona, a2.image, a2.script) == ("Grace", None, "Hello.")
    (tmp_path / "p.csv").write_text("Product ID,Name,Image\nB1,Lamp,/x.png\n")
    assert read_catalogue(tmp_path / "p.csv")[0].product_id == "B1"
    (tmp_path / "dup.csv").write_text("id,name\nC1,a\nC1,b\n")
    with pytest.raises(InputError, match="twice"):
        read_catalogue(tmp_path / "dup.csv")
    (tmp_path / "noid.csv").write_text("name\nLamp\n")
    with pytest.raises(InputError, match="no product id"):
        read_catalogue(tmp_path / "noid.csv")


def test_empty_scripts_are_written_by_the_template_and_capped_at_500() -> None:
    assert script_for(_product()) == "Meet Blue mug. It keeps coffee warm."
    assert script_for(_product(), "{name}: {description} Order {product} today.") == (
        "Blue mug: It keeps coffee warm. Order P1 today."
    )
    assert script_for(_product(script="Say  this\n exactly.")) == "Say this exactly."
    with pytest.raises(InputError, match="501 characters"):
        script_for(_product(script="x" * 501))
    with pytest.raises(InputError, match="written from its name and description"):
        script_for(_product(description="y" * 600))


def test_keys_follow_the_template_with_safe_segments_and_the_content_hash() -> None:
    p = Product("../../etc/passwd", "Mug", "", GRACE, None, "Hi.", "")
    key = output_key(
        "{org}/videos/ai-generated/{product}-{id}.mp4", org="A Corp/x", product=p, content="ab" * 32
    )
    assert key == "A-Corp-x/videos/ai-generated/etc-passwd-abababababab.mp4"
    with pytest.raises(InputError, match="unknown field"):
        output_key("{org}/{price}.mp4", org="o", product=p, content="0" * 64)
    base = content_hash(_product(), "Hi.", "en", {"size": "160"})
    assert base == content_hash(_product("P9"), "Hi.", "en", {"size": "160"})  # same photo+script+voice
    assert base != content_hash(_product(), "Hi!", "en", {"size": "160"})
    assert base != content_hash(_product(), "Hi.", "en+f3", {"size": "160"})
    assert base != content_hash(_product(), "Hi.", "en", {"size": "192"})


@pytest.mark.slow
def test_same_content_is_rendered_once_failures_do_not_stop_the_batch_and_reruns_resume(
    tmp_path: Path,
) -> None:
    products = [
        _product("P1", "Buy the mug."),
        Product("P2", "Lamp", "", None, None, "Hi.", ""),  # neither image nor persona
        _product("P3", "Buy the mug."),  # the same video as P1
    ]
    options = BatchOptions(out_dir=tmp_path / "out", org="acme", settings={"size": "160"})
    first = run_batch(products, options)
    assert [r.status for r in first.rows] == ["made", "failed", "cached"]
    assert "image or a persona" in first.rows[1].error
    p1, p3 = (tmp_path / "out" / r.key for r in (first.rows[0], first.rows[2]))
    assert p1.read_bytes() == p3.read_bytes() and p1 != p3
    again = run_batch(products, options)
    assert [r.status for r in again.rows] == ["finished", "failed", "finished"] and again.rendered == 0
    changed = run_batch([_product("P1", "Buy the blue mug.")], options)
    assert changed.rows[0].status == "made" and changed.rows[0].key != first.rows[0].key
    report = write_report(again, tmp_path / "report.json")
    assert [r["status"] for r in json.loads(report.read_text())["products"]][1] == "failed"


@pytest.mark.slow
def test_an_executor_finishing_out_of_order_keeps_catalogue_rows_and_a_twin_waits_for_its_video(
    tmp_path: Path,
) -> None:
    """An executor that takes every job before it renders (as a cluster does) and hands them back last
    first: the rows keep the catalogue's order, each product is heard of as it is done, and a product
    with the content of one under way gets that one's video instead of a render of its own."""
    taken: list[str] = []

    def last_first(jobs: Iterable[RenderJob]) -> Iterator[Rendered]:
        for job in reversed(list(jobs)):
            taken.append(job.product)
            render_talk(job.spec)
            yield Rendered(job.index)

    products = [
        _product("P1", "Buy the mug."),
        Product("P2", "Lamp", "", None, None, "Hi.", ""),  # neither image nor persona: fails, decided alone
        _product("P3", "Buy the mug."),  # P1's content, decided while P1 is under way
        _product("P4", "Buy two mugs."),
    ]
    heard: list[tuple[str, int]] = []
    result = run_batch(
        products, BatchOptions(out_dir=tmp_path / "out", settings={"size": "96"}), executor=last_first,
        on_row=lambda row, number, _total: heard.append((row.product, number)),
    )  # fmt: skip
    assert [r.status for r in result.rows] == ["made", "failed", "cached", "made"]
    assert taken == ["P4", "P1"]
    assert heard == [("P2", 1), ("P4", 2), ("P1", 3), ("P3", 4)]
    p1, p3 = (Path(r.video) for r in (result.rows[0], result.rows[2]))
    assert p1.read_bytes() == p3.read_bytes()
