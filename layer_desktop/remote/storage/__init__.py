"""Publishing to object storage: Cloudflare R2, Google Cloud Storage and S3-compatible services.

Entry points: ``publish`` (upload one file, get a ``PublishRecord`` with its link), ``probe_destination``
("test connection"), the destination helpers, and ``PublishDb`` (the records). No Qt here.
"""

from __future__ import annotations

from layer_desktop.remote.storage.credentials import HmacKeys, ServiceAccount, compact_service_account
from layer_desktop.remote.storage.destinations import (
    get_destination,
    last_destination,
    list_destinations,
    remove_destination,
    save_destination,
)
from layer_desktop.remote.storage.keys import KeyFields, parse_expiry, render_key
from layer_desktop.remote.storage.multipart import MultipartOptions, choose_part_size
from layer_desktop.remote.storage.probe import ProbeReport, ProbeStep, probe_destination
from layer_desktop.remote.storage.progress import ProgressCallback, ProgressMeter
from layer_desktop.remote.storage.publish import PublishOptions, open_store, publish
from layer_desktop.remote.storage.records import PublishDb, PublishRecord

__all__ = [
    "HmacKeys",
    "KeyFields",
    "MultipartOptions",
    "ProbeReport",
    "ProbeStep",
    "ProgressCallback",
    "ProgressMeter",
    "PublishDb",
    "PublishOptions",
    "PublishRecord",
    "ServiceAccount",
    "choose_part_size",
    "compact_service_account",
    "get_destination",
    "last_destination",
    "list_destinations",
    "open_store",
    "parse_expiry",
    "probe_destination",
    "publish",
    "remove_destination",
    "render_key",
    "save_destination",
]
