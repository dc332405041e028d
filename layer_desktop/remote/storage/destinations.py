"""Publish destinations: their non-secret settings in the settings file, their keys in the keyring."""

from __future__ import annotations

import logging
from pathlib import Path

from layer_desktop.errors import DestinationError
from layer_desktop.paths import app_paths
from layer_desktop.remote.storage.credentials import (
    Credentials,
    SecretStore,
    delete_credentials,
    store_credentials,
)
from layer_desktop.settings import (
    DestinationSpec,
    GcsDestination,
    R2Destination,
    S3Destination,
    load_settings,
    save_settings,
)

log = logging.getLogger(__name__)

__all__ = [
    "DestinationSpec",
    "GcsDestination",
    "R2Destination",
    "S3Destination",
    "get_destination",
    "last_destination",
    "list_destinations",
    "remember_last",
    "remove_destination",
    "save_destination",
]


def _path(settings_file: Path | None) -> Path:
    return settings_file or app_paths().settings_file


def list_destinations(settings_file: Path | None = None) -> tuple[DestinationSpec, ...]:
    return load_settings(_path(settings_file)).destinations


def get_destination(name: str, settings_file: Path | None = None) -> DestinationSpec:
    """The destination called ``name``; raises ``DestinationError`` listing the known ones."""
    known = list_destinations(settings_file)
    for dest in known:
        if dest.name == name:
            return dest
    names = ", ".join(d.name for d in known) or "none yet"
    raise DestinationError(f"There is no publish destination called '{name}' (known: {names}).")


def save_destination(
    dest: DestinationSpec,
    creds: Credentials | None,
    secrets: SecretStore,
    *,
    settings_file: Path | None = None,
) -> None:
    """Add ``dest`` or replace the one with its name. Keys go to the keyring first, so a refusing keyring
    leaves the settings unchanged; ``creds=None`` keeps the keys already stored (an edit of other fields)."""
    if creds is not None:
        store_credentials(secrets, dest, creds)
    path = _path(settings_file)
    settings = load_settings(path)
    others = tuple(d for d in settings.destinations if d.name != dest.name)
    save_settings(settings.model_copy(update={"destinations": (*others, dest)}), path)
    log.info("publish destination '%s' (%s) saved", dest.name, dest.kind)


def remove_destination(
    name: str, secrets: SecretStore, *, settings_file: Path | None = None
) -> DestinationSpec:
    """Remove the destination and its keys; raises ``DestinationError`` when there is none by that name."""
    dest = get_destination(name, settings_file)
    delete_credentials(secrets, dest)
    path = _path(settings_file)
    settings = load_settings(path)
    update: dict[str, object] = {"destinations": tuple(d for d in settings.destinations if d.name != name)}
    if settings.last_destination == name:
        update["last_destination"] = None
    save_settings(settings.model_copy(update=update), path)
    log.info("publish destination '%s' removed", name)
    return dest


def remember_last(name: str, settings_file: Path | None = None) -> None:
    path = _path(settings_file)
    settings = load_settings(path)
    if settings.last_destination != name:
        save_settings(settings.model_copy(update={"last_destination": name}), path)


def last_destination(settings_file: Path | None = None) -> str | None:
    """The destination to preselect: the last one used if it still exists, else the first."""
    settings = load_settings(_path(settings_file))
    names = [d.name for d in settings.destinations]
    if settings.last_destination in names:
        return settings.last_destination
    return names[0] if names else None
