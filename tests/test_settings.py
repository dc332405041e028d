"""Settings: defaults, round trip, migration from v1, refusal of newer files, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layer_desktop.errors import SettingsError
from layer_desktop.paths import app_paths
from layer_desktop.settings import SCHEMA_VERSION, RenderDefaults, Settings, load_settings, save_settings


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "settings.json")
    assert s == Settings() and s.schema_version == SCHEMA_VERSION and s.visible_ai_mark


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(device="cpu", render=RenderDefaults(crf=20, chunk_frames=90), recent_files=("a.mp4",))
    save_settings(s, path)
    assert load_settings(path) == s
    assert not list(tmp_path.glob(".*tmp"))


def test_v1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps({"schema_version": 1, "device": "cuda", "render_crf": 22, "render_codec": "hevc"})
    )
    s = load_settings(path)
    assert s.schema_version == SCHEMA_VERSION
    assert s.device == "cuda" and s.render.crf == 22 and s.render.codec == "hevc"


def test_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(SettingsError, match="newer Layer Desktop"):
        load_settings(path)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", json.dumps({"schema_version": 2, "crf": "x"})])
def test_broken_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(path)


def test_layer_home_puts_every_folder_below_it(layer_home: Path) -> None:
    paths = app_paths().ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert folder.is_dir() and layer_home in folder.parents
    assert paths.settings_file.parent == paths.config_dir


def test_v2_file_is_migrated_to_v3_with_no_destinations(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 2, "device": "cpu", "render": {"crf": 21}}))
    s = load_settings(path)
    assert s.schema_version == 3 == SCHEMA_VERSION
    assert s.device == "cpu" and s.render.crf == 21
    assert s.destinations == () and s.last_destination is None


def test_destinations_round_trip_by_kind(tmp_path: Path) -> None:
    from layer_desktop.settings import GcsDestination, R2Destination, S3Destination

    path = tmp_path / "settings.json"
    s = Settings(
        destinations=(
            R2Destination(
                name="r2", bucket="videos", account_id="0" * 32, public_base_url="https://cdn.x.io"
            ),
            GcsDestination(name="gcs", bucket="clips", auth="hmac"),
            S3Destination(name="minio", bucket="b1", endpoint_url="http://127.0.0.1:9000"),
        ),
        last_destination="gcs",
    )
    save_settings(s, path)
    back = load_settings(path)
    assert back == s
    kinds = [type(d).__name__ for d in back.destinations]
    assert kinds == ["R2Destination", "GcsDestination", "S3Destination"]
