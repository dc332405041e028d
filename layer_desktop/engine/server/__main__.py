"""``python -m layer_desktop.engine.server serve …`` (what the app's local engine manager runs)."""

from layer_desktop.engine.server.cli import main

raise SystemExit(main())
