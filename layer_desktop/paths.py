"""Where Layer Desktop keeps its files (platformdirs), with one override for tests and portable use.

``LAYER_HOME`` (environment) puts every folder below one directory; otherwise the OS conventions apply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "LayerDesktop"
APP_AUTHOR = "Layer"
HOME_ENV = "LAYER_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The app's folders. Nothing is created until ``ensure()`` is called."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "layer.sqlite3"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def renders_dir(self) -> Path:
        return self.cache_dir / "renders"

    def ensure(self) -> AppPaths:
        for d in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def app_paths(home: str | os.PathLike[str] | None = None) -> AppPaths:
    """The app's folders: below ``home`` (or ``$LAYER_HOME``) when given, else per the OS."""
    root = home if home is not None else os.environ.get(HOME_ENV)
    if root:
        base = Path(root).expanduser().resolve()
        return AppPaths(base / "config", base / "data", base / "cache", base / "logs")
    dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
    return AppPaths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


def resources_dir() -> Path:
    """The ``resources/`` folder shipped with the app (demo media, shipped models, icons)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"resources folder not found next to {here}")
