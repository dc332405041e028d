"""`layer destinations ...` and `layer publish ...` end to end against moto, and the credentials never
show up: not in logs (DEBUG, every logger), the settings file, the database, the CLI's output, error
messages, or argv (the CLI takes no secret options)."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from layer_desktop.cli import main
from layer_desktop.paths import app_paths
from layer_desktop.remote.storage import PublishDb
from tests.remote.storage.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MemoryKeyring, random_file


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_cli_add_test_publish_list_remove_without_leaking_secrets(
    s3_env: dict[str, Any],
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    layer_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore logs requests and headers at DEBUG
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{ACCESS_KEY_ID}\n{SECRET_ACCESS_KEY}\n"))
    add = ["destinations", "add", "local", "--kind", "s3", "--bucket", s3_env["bucket"], "--endpoint-url",
           s3_env["url"], "--secrets-stdin", "--key-template", "{project}/{name}"]  # fmt: skip
    assert not any(SECRET_ACCESS_KEY in a for a in add)  # the secret travels by stdin, never argv
    assert main(add) == 0
    assert ("layer-desktop", "publish/local/secret_access_key") in memory_keyring.values
    assert main(["destinations", "test", "local"]) == 0
    assert main(["destinations", "list"]) == 0
    src = random_file(tmp_path / "final.mp4", 50_000)
    assert main(["publish", str(src), "--to", "local", "--project", "launch", "--expires", "2h"]) == 0
    assert main(["publish", "--list"]) == 0
    text = capsys.readouterr()
    output = text.out + text.err
    (record,) = PublishDb().records()
    assert record.key == "launch/final.mp4" and record.url in output.replace("\n", "")
    assert "launch/final.mp4" in _flat(output) and "Destination 'local' works." in _flat(output)

    # errors say what to do, and show no secret either
    assert main(["publish", str(src), "--to", "nowhere"]) == 2
    err = capsys.readouterr().err
    output += err
    assert "no publish destination called 'nowhere'" in _flat(err) and "What to do:" in err

    assert main(["destinations", "remove", "local"]) == 0
    assert not any(name.startswith("publish/local/") for _s, name in memory_keyring.values)
    output += capsys.readouterr().out

    files = [p for p in layer_home.rglob("*") if p.is_file()]
    assert app_paths().settings_file in files and app_paths().database_file in files
    for secret in (SECRET_ACCESS_KEY,):
        assert secret not in output
        assert not [r for r in caplog.records if secret in r.getMessage()]
        for path in files:
            assert secret.encode() not in path.read_bytes(), path
    # the key id is not secret (it is in every presigned URL by design) but stays out of files and logs
    assert not [p for p in files if ACCESS_KEY_ID.encode() in p.read_bytes() and p.suffix == ".json"]
