"""Tests of layer_desktop.remote."""
