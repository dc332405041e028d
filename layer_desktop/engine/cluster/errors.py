"""The cluster's error (kept apart from ``layer_desktop.errors``, which the core loads without Ray)."""

from __future__ import annotations

from layer_desktop.errors import EngineError


class ClusterError(EngineError):
    """A Ray cluster could not be started, reached or used."""

    default_hint = (
        "See `layer cluster status NAME` (or `ray status` on its head node); "
        "`pip install layer-desktop[cluster]` puts Ray on a machine."
    )
