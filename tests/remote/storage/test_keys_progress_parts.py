"""Pure pieces: key templates and sanitising, link expiry, part sizing, the progress meter, the records
database and keyring chunking of long secrets."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from layer_desktop.errors import CredentialsError, KeyTemplateError, PublishError
from layer_desktop.paths import app_paths
from layer_desktop.remote.storage import KeyFields, PublishDb, choose_part_size, parse_expiry, render_key
from layer_desktop.remote.storage.credentials import get_long_secret, put_long_secret
from layer_desktop.remote.storage.multipart import MAX_PARTS, MiB, plan_parts
from layer_desktop.remote.storage.progress import ProgressMeter
from layer_desktop.secrets import SessionSecrets

SHA = "ab" * 32


def test_key_template_fields_are_sanitised_and_cannot_climb_out() -> None:
    fields = KeyFields(
        org="ACME Inc.", project="../../etc/passwd", persona="Zoë / Bob", date=dt.date(2025, 3, 9)
    )
    key = render_key("{org}/videos/{project}-{id}/{persona}_{date}/{name}", file=Path("Fïnal cut!.mp4"),
                     sha256=SHA, fields=fields)  # fmt: skip
    assert key == "ACME-Inc/videos/etc-passwd-abababababab/Zoe-Bob_2025-03-09/Final-cut-.mp4"
    assert render_key("//{stem}.{ext}", file=Path("a.b.mov"), sha256=SHA) == "a.b.mov"
    with pytest.raises(KeyTemplateError, match="unknown field"):
        render_key("{user}/{name}", file=Path("x.mp4"), sha256=SHA)
    with pytest.raises(KeyTemplateError, match="empty or unsafe"):
        render_key("{org}/../{project}", file=Path("x.mp4"), sha256=SHA)
    with pytest.raises(KeyTemplateError, match="malformed"):
        render_key("{name", file=Path("x.mp4"), sha256=SHA)


def test_link_expiry_is_at_most_seven_days() -> None:
    assert parse_expiry("24h") == dt.timedelta(hours=24)
    assert parse_expiry("7d") == dt.timedelta(days=7) and parse_expiry("30m") == dt.timedelta(minutes=30)
    for bad in ("8d", "0s", "1 week", ""):
        with pytest.raises(PublishError):
            parse_expiry(bad)


@pytest.mark.parametrize("size", [1, 5 * MiB, 80 * 1024**3, 5 * 1024**4])
def test_parts_are_equal_whole_mib_and_never_more_than_10000(size: int) -> None:
    part = choose_part_size(size)
    parts = plan_parts(size, part)
    assert part % MiB == 0 and part >= 8 * MiB and len(parts) <= MAX_PARTS
    assert all(length == part for _, _, length in parts[:-1]) and sum(p[2] for p in parts) == size
    assert [n for n, _, _ in parts] == list(range(1, len(parts) + 1))


def test_progress_is_monotone_counts_retries_once_and_ends_at_total() -> None:
    clock = iter(float(t) for t in range(100))
    calls: list[tuple[int, int, float, float | None]] = []
    meter = ProgressMeter(300, lambda *a: calls.append(a), min_interval=0.0, clock=lambda: next(clock))
    meter.part(1, 50)
    meter.part(2, 100)
    meter.part(1, 20)  # part 1 is being sent again (a retry): no step back
    meter.part(1, 100)
    meter.add_done(50)
    meter.finish()
    done = [c[0] for c in calls]
    assert done == sorted(done) and done[-1] == 300 and calls[-1][3] == 0.0
    assert all(c[2] >= 0 for c in calls) and calls[1][3] is not None and calls[1][3] > 0


def test_records_live_in_the_app_database_with_their_own_schema_row(tmp_path: Path) -> None:
    db = PublishDb()
    assert db.records() == [] and db.path == app_paths().database_file
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_versions WHERE component='publish'").fetchone() == (
            1,
        )


def test_long_secret_is_chunked_and_a_damaged_set_is_detected() -> None:
    secrets = SessionSecrets()
    value = "x" * 2500 + "end"
    put_long_secret(secrets, "publish/d/service_account", value)
    assert get_long_secret(secrets, "publish/d/service_account") == value
    assert secrets.get("publish/d/service_account#3") == "x" * 500 + "end"
    secrets.set("publish/d/service_account#2", "y" * 1000)
    with pytest.raises(CredentialsError, match="damaged") as caught:
        get_long_secret(secrets, "publish/d/service_account")
    assert "xxx" not in str(caught.value)
    put_long_secret(secrets, "publish/d/service_account", "short")  # replacing drops the old chunks
    assert secrets.get("publish/d/service_account#1") is None
