"""The one exception tree of Layer Desktop.

Every error a user can meet is a ``LayerError``: its message says what happened (naming the file or
thing concerned) and its ``hint`` says what to do. Built-in types are mixed in so callers that catch
``ValueError`` or ``OSError`` keep working.

    LayerError
    ├── InputError (ValueError)              the user's input cannot be used
    │   ├── MediaError                       a video or audio file
    │   │   ├── MediaNotFoundError (FileNotFoundError)
    │   │   ├── EmptyFileError               0 bytes
    │   │   ├── UnsupportedFileError         not a media file we can read (text renamed .mp4, …)
    │   │   ├── CorruptMediaError            truncated or damaged; decoding stopped part way
    │   │   ├── NoVideoStreamError           the step needs pictures and the file has none
    │   │   ├── NoAudioStreamError           the step needs sound and the file has none
    │   │   └── FrameOutOfRangeError (IndexError)
    │   ├── OutputPlaceError                 the output's place: folder missing/read-only, a folder, the input
    │   │   └── OutputInUseError             another job holds the output (its pid named)
    │   ├── ImageError                       a still picture (faces, thumbnails)
    │   │   ├── NoFaceError                  no face found where one is needed
    │   │   └── MultipleFacesError           several faces and no choice made
    │   └── PersonaError                     a persona or persona bundle
    │       ├── ConsentRequiredError         no consent record
    │       │   └── ConsentWithdrawnError    a persona deleted (or its consent changed) while a job used it
    │       ├── PersonaNotFoundError (KeyError)
    │       └── BundleError                  a .layerpersona file is tampered, truncated or not one
    ├── ConfigError                          settings or environment
    │   ├── SettingsError                    unreadable / newer settings file
    │   └── SecretStoreUnavailable           no OS keyring backend
    ├── EngineError (RuntimeError)           the engine failed doing work it accepted
    │   ├── EncodeError                      the encoder could not be opened or failed
    │   ├── RenderStateError                 a render's work folder or manifest cannot be used
    │   ├── DiskFullError                    not enough disk for the chunks or the output
    │   ├── EngineUnavailableError           the engine service cannot be reached (not started, crashed)
    │   ├── EngineAuthError                  the engine refused the token (401)
    │   ├── EngineRequestError               the engine refused a request (forbidden path, bad upload, …)
    │   └── JobFailedError                   a job on the engine ended in failure (its reason attached)
    ├── VoiceError                           voice profile, voice conversion or text to speech
    │   ├── NoVoiceSamplesError (ValueError) the persona has no usable voice sample (reasons listed)
    │   ├── VoiceCancelled                   a conversion was cancelled; nothing was written
    │   └── VoiceBackendError (RuntimeError) a voice backend failed (ElevenLabs, system speech)
    │       ├── VoiceAuthError               no ElevenLabs API key in the keyring, or it was refused
    │       ├── VoiceQuotaError              the ElevenLabs account's quota or credits are used up
    │       ├── VoiceVerificationError       the cloned voice must be verified before use
    │       └── VoiceBusyError               still rate-limited / busy after retrying with backoff
    ├── ModelError                           model download / verify / load
    │   ├── ModelNotFoundError               unknown id, or not present on disk
    │   ├── ModelDownloadError               the download failed (network, server)
    │   └── ModelHashMismatch                sha256 differs; the file is quarantined, never loaded
    ├── ProvenanceError                      signing or reading an output's C2PA manifest or watermark
    └── RemoteError (OSError)                another machine or a storage service
        └── PublishError                     publishing to object storage (R2, GCS, S3-compatible)
            ├── DestinationError (KeyError)  no destination by that name, or its set-up is incomplete
            ├── KeyTemplateError (ValueError) the object key template cannot be rendered
            ├── CredentialsError             keys missing from the keyring or refused by the service
            ├── BucketNotFoundError          the bucket does not exist
            ├── ObjectExistsError            the key already holds a different file (create-only)
            ├── UploadInterruptedError       the network dropped; running it again resumes
            ├── PublishCancelled             the user cancelled; nothing half-uploaded is left
            └── IntegrityError               what arrived differs from the file
        (RemoteError also has the SSH host errors, beside PublishError:)
        SshError                             a GPU host reached over SSH
            ├── HostNotFoundError (KeyError) no host profile by that name
            ├── HostKeyUnknownError          first connection: the host key was not accepted
            ├── HostKeyChangedError          the host key differs from the trusted one (hard stop)
            ├── SshAuthError                 the server refused our key (wrong key, locked account)
            ├── SshForwardingError           the server forbids TCP forwarding (no tunnel)
            ├── RemoteCommandError           a command on the host failed (its output attached)
            ├── RemoteDiskFullError          the host's disk (work dir) is full
            └── LinkLostError                the connection stopped answering

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


class MediaNotFoundError(MediaError, FileNotFoundError):
    default_hint = "Check the path: the file may have been moved, renamed or deleted."

    def __str__(self) -> str:
        return self.message


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


class NoFaceError(ImageError):
    default_hint = "Use a photo where one face is clearly visible, front-on, and at least 64 pixels wide."


class MultipleFacesError(ImageError):
    default_hint = "Choose which face to use (CLI: --face-index N; studio: click the face)."


class PersonaError(InputError):
    default_hint = "Check the persona in the Personas panel or with `layer persona show`."


class ConsentRequiredError(PersonaError):
    default_hint = (
        "Record who gave consent, when, and their statement (CLI: --consent-by, --consent-statement)."
    )


class PersonaNotFoundError(PersonaError, KeyError):
    default_hint = "List the personas with `layer persona list` and use one of their ids or names."

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class BundleError(PersonaError):
    default_hint = "The .layerpersona file is damaged or was changed: export it again from its source."


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


class EngineUnavailableError(EngineError):
    default_hint = (
        "Check the engine indicator in the status bar: the app restarts a local engine by itself; for a "
        "remote one, check the host in Engines. `layer-engine serve` starts one by hand."
    )


class EngineAuthError(EngineError):
    default_hint = (
        "The engine's token changed (it was restarted by someone else?): reconnect to it, or set "
        "LAYER_ENGINE_TOKEN to the token in its state folder."
    )


class EngineRequestError(EngineError):
    default_hint = "The engine refused the request; its reason is above. Fix the input and try again."

    def __init__(self, message: str, *, hint: str | None = None, path: str | None = None,
                 status: int = 400) -> None:  # fmt: skip
        super().__init__(message, hint=hint, path=path)
        self.status = status


class JobFailedError(EngineError):
    default_hint = "Open the job's log in the queue for details, fix the cause, then retry the job."


class ModelError(LayerError):
    default_hint = "Fetch the model again with `layer models fetch`, or import a file you trust."


class ModelNotFoundError(ModelError):
    default_hint = "See `layer models list` for the known models and which are present."


class ModelDownloadError(ModelError, OSError):
    default_hint = (
        "Check the network and run `layer models fetch` again: the download resumes where it stopped."
    )


class ModelHashMismatch(ModelError):
    default_hint = (
        "The file is not the published model (damaged download or a different file). It was moved to "
        "quarantine and will not be loaded: fetch it again, or import the right file."
    )


# ------------------------------------------------------------------------------------------ voice


class VoiceError(LayerError):
    default_hint = "Check the persona's voice samples with `layer voice profile PERSONA`."


class NoVoiceSamplesError(VoiceError, ValueError):
    default_hint = (
        "Add at least one clean recording of the persona's voice (10–60 s of one person speaking, "
        "not clipped, little background noise) in the Personas panel or with `layer persona create --voice`."
    )


class VoiceCancelled(VoiceError):
    default_hint = "Start the conversion again when you are ready."


class VoiceBackendError(VoiceError, RuntimeError):
    default_hint = "Try again later, or choose the offline `world` voice backend."


class VoiceAuthError(VoiceBackendError):
    default_hint = (
        "Set your ElevenLabs API key in Settings › Voice (CLI: `layer voice set-key`); "
        "it is kept in the OS keyring only."
    )


class VoiceQuotaError(VoiceBackendError):
    default_hint = (
        "Your ElevenLabs quota or credits are used up: wait for the next billing period, upgrade the "
        "plan, or use the offline `world` backend."
    )


class VoiceVerificationError(VoiceBackendError):
    default_hint = (
        "Verify the cloned voice in your ElevenLabs account (Voices › the persona's voice), then try again."
    )


class VoiceBusyError(VoiceBackendError):
    default_hint = (
        "ElevenLabs is busy or your plan's concurrent-request limit is reached: try again in a few "
        "minutes, or lower the voice concurrency."
    )


class RemoteError(LayerError, OSError):
    default_hint = "Check the connection and the remote host's settings, then retry."


# ------------------------------------------------------------------------------------------ publish


class PublishError(RemoteError):
    default_hint = "Check the destination in Settings › Destinations (`layer destinations test NAME`)."


class DestinationError(PublishError, KeyError):
    default_hint = (
        "List the destinations with `layer destinations list`, or add one in Settings › Destinations."
    )

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class KeyTemplateError(PublishError, ValueError):
    default_hint = (
        "Use only the fields {org}, {project}, {persona}, {date}, {id}, {name}, {stem}, {ext} in the key "
        "template, e.g. {org}/videos/{project}-{id}.mp4."
    )


class CredentialsError(PublishError):
    default_hint = (
        "Check the key in Settings › Destinations (CLI: `layer destinations add NAME ...` again): it may be "
        "mistyped, revoked, or lack write access to the bucket."
    )


class BucketNotFoundError(PublishError):
    default_hint = "Create the bucket in the provider's console, or fix its name in Settings › Destinations."


class ObjectExistsError(PublishError):
    default_hint = (
        "Another file is already published under this key: change the key template (e.g. add {id}), "
        "or publish with overwrite allowed."
    )


class UploadInterruptedError(PublishError):
    default_hint = "Check the network and publish again: the upload resumes from the parts already sent."


class PublishCancelled(PublishError):
    default_hint = "Publish again when you are ready; the cancelled upload was removed from the bucket."


class IntegrityError(PublishError):
    default_hint = (
        "The stored object differs from your file (size or sha256): publish again with overwrite allowed."
    )


# ------------------------------------------------------------------------------------------ output place
# (appended: the checks made before any work, see engine/media/preflight.py)


class OutputPlaceError(InputError):
    """The output cannot be written where asked: folder missing or read-only, a folder named, the input."""

    default_hint = "Choose another output file (-o) in a folder you can write to."


class OutputInUseError(OutputPlaceError):
    """Another running job or command is writing the same output."""

    default_hint = "Wait for the other job to finish (or stop it), or choose another output file."


class DiskFullError(EngineError):
    """Not enough free space for the chunks or the output (found before the work, or during it)."""

    default_hint = "Free disk space, or choose an output (-o) on another disk."


class ConsentWithdrawnError(ConsentRequiredError):
    """A persona a job uses was deleted (or its consent record changed) while the job ran."""

    default_hint = (
        "The job stopped and its partial output was removed. Create the persona again with a consent "
        "record, then run the job again."
    )


class ProvenanceError(LayerError):
    """Signing or reading an output's provenance (C2PA manifest, watermark) failed."""

    default_hint = "Run `layer doctor` to check the provenance signer."


# ------------------------------------------------------------------------------------------ ssh hosts


class SshError(RemoteError):
    default_hint = "Check the host with `layer hosts doctor NAME`, then retry."


class HostNotFoundError(SshError, KeyError):
    default_hint = "List the hosts with `layer hosts list`, or add one with `layer hosts add NAME ...`."

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class HostKeyUnknownError(SshError):
    default_hint = (
        "Compare the fingerprint with the one your provider shows (or `ssh-keygen -lf` on the host's "
        "key), then connect again and accept it (`--accept-fingerprint SHA256:...`)."
    )


class HostKeyChangedError(SshError):
    default_hint = (
        "Someone may be intercepting the connection, or the server was reinstalled. If your provider "
        "confirms the new key, remove the old one with `layer hosts forget-key NAME` and connect again."
    )


class SshAuthError(SshError):
    default_hint = (
        "Check the host's user name and key file (`layer hosts add NAME ... --key FILE`), that the public "
        "key is in the host's authorized_keys, and that the account is not locked."
    )


class SshForwardingError(SshError):
    default_hint = (
        "Allow TCP forwarding on the host (`AllowTcpForwarding yes` in /etc/ssh/sshd_config, then reload "
        "sshd), or choose a provider image that allows it."
    )


class RemoteCommandError(SshError):
    default_hint = "See the host's log with `layer hosts logs NAME`."


class RemoteDiskFullError(SshError):
    default_hint = "Free space in the host's work dir (old renders, pip caches) or rent a larger disk."


class LinkLostError(SshError):
    default_hint = "The connection is re-established automatically; check the network if it keeps failing."
