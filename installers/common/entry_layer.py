"""Frozen entry point of `layer` (the command line)."""

import sys

from layer_desktop.cli import main

sys.exit(main())
