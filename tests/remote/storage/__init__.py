"""Tests of layer_desktop.remote.storage (publishing)."""
