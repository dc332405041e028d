"""The built-in demo content (shared with `layer demo`): a sample persona and a clip from resources/demo."""

from __future__ import annotations

from layer_desktop.engine.pipeline.demo import DemoContent, demo_content

__all__ = ["DemoContent", "demo_content"]
