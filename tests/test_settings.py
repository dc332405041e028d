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
