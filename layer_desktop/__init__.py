"""Layer Desktop: a desktop studio for personas, face swap, voice, lip-sync, review and publish."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("layer-desktop")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
