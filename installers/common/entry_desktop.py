"""Frozen entry point of `layer-desktop` (the studio)."""

import sys

from layer_desktop.ui.app import main

sys.exit(main())
