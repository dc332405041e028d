"""Provenance of outputs: a signed C2PA manifest (the last write to a file) and an invisible watermark
in the frames, both readable back with `layer provenance show|verify|check`."""

from __future__ import annotations
