"""The one exception tree of Layer Desktop.

Every error a user can meet is a ``LayerError``: its message says what happened (naming the file or
thing concerned) and its ``hint`` says what to do. Built-in types are mixed in so callers that catch
``ValueError`` or ``OSError`` keep working.

    LayerError
    ├── InputError (ValueError)              the user's input cannot be used
    │   ├── MediaError                       a video or audio file
    │   │   ├── EmptyFileError               0 bytes
    │   │   ├── UnsupportedFileError         not a media file we can read (text renamed .mp4, …)
    │   │   ├── CorruptMediaError            truncated or damaged; decoding stopped part way
    │   │   ├── NoVideoStreamError           the step needs pictures and the file has none
    │   │   ├── NoAudioStreamError           the step needs sound and the file has none
    │   │   └── FrameOutOfRangeError (IndexError)
    │   └── ImageError                       a still picture (faces, thumbnails)
    ├── ConfigError                          settings or environment
    │   ├── SettingsError                    unreadable / newer settings file
    │   └── SecretStoreUnavailable           no OS keyring backend
    ├── EngineError (RuntimeError)           the engine failed doing work it accepted
    │   ├── EncodeError                      the encoder could not be opened or failed
    │   └── RenderStateError                 a render's work folder or manifest cannot be used
    ├── ModelError                           model download / verify / load
    └── RemoteError (OSError)                another machine or a storage service

``LayerWarning`` is our warning category; tests turn it into an error.
"""

from __future__ import annotations

from pathlib import Path


class LayerWarning(UserWarning):
    """A warning raised by Layer Desktop code."""


class LayerError(Exception):
    """Base of all errors meant for the user: ``str(e)`` says what happened, ``e.hint`` what to do."""

    default_hint = "See the log for details."

    def __init__(self, message: str, *, hint: str | None = None, path: str | Path | None = None) -> None:
        self.message = message
        self.hint = hint or self.default_hint
        self.path = str(path) if path is not None else None
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def user_text(self) -> str:
        """Message and hint, as shown in the one error dialog and by the CLI."""
        return f"{self.message}\nWhat to do: {self.hint}"


# ------------------------------------------------------------------------------------------ input


class InputError(LayerError, ValueError):
    """The user's input cannot be used as it is."""

    default_hint = "Check the input and try again."


class MediaError(InputError):
    """A video or audio file cannot be used."""

    default_hint = "Open the file in a media player to check it, or export it again as MP4 (H.264/AAC)."


class EmptyFileError(MediaError):
    default_hint = "The file is empty (0 bytes): copy it again from its source."


class UnsupportedFileError(MediaError):
    default_hint = "Choose a video (MP4, MOV, MKV, WebM) or audio file (WAV, MP3, AAC, FLAC)."


class CorruptMediaError(MediaError):
    default_hint = (
        "The file is damaged or was cut short (an interrupted recording or copy). "
        "Copy it again from its source, or re-export it from your editor."
    )


class NoVideoStreamError(MediaError):
    default_hint = "This step needs a video track: choose a file that has pictures."


class NoAudioStreamError(MediaError):
    default_hint = "This step needs an audio track: choose a file with sound, or add an audio file."


class FrameOutOfRangeError(MediaError, IndexError):
    default_hint = "Ask for a frame inside the video (0 to frame count - 1)."


class ImageError(InputError):
    default_hint = "Use a JPEG or PNG photo of at least 64×64 pixels."


# ------------------------------------------------------------------------------------------ config


class ConfigError(LayerError):
    default_hint = "Check the settings file or environment."


class SettingsError(ConfigError):
    default_hint = "Fix or delete the settings file; Layer Desktop writes a fresh one with defaults."


class SecretStoreUnavailable(ConfigError):
    default_hint = (
        "Install and unlock an OS keyring (GNOME Keyring / KWallet on Linux, Keychain on macOS, "
        "Credential Manager on Windows), or choose the session-only option so the secret is kept in "
        "memory until you quit. Layer Desktop never writes secrets to a plain file."
    )


# ------------------------------------------------------------------------------------------ engine


class EngineError(LayerError, RuntimeError):
    default_hint = "Try again; if it keeps failing, send the log file to support."


class EncodeError(EngineError):
    default_hint = "Choose another codec or preset in the output settings, or free disk space."


class RenderStateError(EngineError):
    default_hint = "Delete the render's work folder to start the render from the beginning."


class ModelError(LayerError):
    default_hint = "Fetch the model again with `layer models fetch`, or import a file you trust."


class RemoteError(LayerError, OSError):
    default_hint = "Check the connection and the remote host's settings, then retry."
