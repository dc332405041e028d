"""dmgbuild settings for the macOS disk image: the signed .app and a link to /Applications.

dmgbuild -s installers/macos/dmgbuild_settings.py -D app="dist/Layer Desktop.app" "Layer Desktop" out.dmg
"""

import os.path

app = defines.get("app", "dist/Layer Desktop.app")  # noqa: F821 (dmgbuild provides `defines`)
appname = os.path.basename(app)

format = "UDZO"
compression_level = 9
size = None
files = [app]
symlinks = {"Applications": "/Applications"}
icon_locations = {appname: (140, 120), "Applications": (500, 120)}
window_rect = ((200, 200), (640, 320))
default_view = "icon-view"
show_icon_preview = False
icon_size = 96
