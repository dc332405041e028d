"""Frozen entry point of `layer-engine` (the engine service)."""

import sys

from layer_desktop.engine.server.cli import main

sys.exit(main())
