"""``TalkSpec``: a photo or persona and what it says → a talking-head video, as one typed, JSON-able spec.

The same spec runs in-process, in the local engine or on a remote one. Exactly one face source (``photo``
or ``persona``) and exactly one speech source (``script``, ``script_file`` or ``audio``) are given.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import ConfigDict, Field, field_validator, model_validator

from layer_desktop.engine.media.domain import OUTPUT_PATH_MAX
from layer_desktop.engine.pipeline.spec import Disclosure, JobSpec, Output

AnimatorName = Literal["animate", "liveportrait"]  # liveportrait: six ONNX models (`layer models`)
ANIMATORS: tuple[str, ...] = get_args(AnimatorName)
SpeechName = Literal["system", "elevenlabs"]
MAX_SCRIPT = 5000  # characters of one video's script (the batch caps product scripts lower, like the seed)
MAX_SIDE = 1920  # the long side of the output (1080p)
MIN_SIDE = 64
FPS = 25
_SIZE = re.compile(r"^(\d{2,4})(?:x(\d{2,4}))?$")
_VOICE = re.compile(r"^[A-Za-z0-9_+\-/.]{1,40}$")


def parse_size(value: str) -> tuple[int, int]:
    """``"512"`` (a square) or ``"1280x720"`` → (width, height); raises ``ValueError`` when out of range."""
    m = _SIZE.match(value.strip().lower())
    if m is None:
        raise ValueError(f"size {value!r} is not N or WxH (e.g. 512 or 1280x720)")
    w = int(m.group(1))
    h = int(m.group(2) or m.group(1))
    if min(w, h) < MIN_SIDE or max(w, h) > MAX_SIDE or min(w, h) > 1080:
        raise ValueError(f"size {value!r} is outside {MIN_SIDE} px .. 1080p ({MAX_SIDE}x1080)")
    return w, h


class TalkSpec(JobSpec):
    """One talking-head video.

    ``voice`` is the eSpeak NG voice of system speech (``en``, ``en-us``, ``en+f3``, ``de``…); with a
    persona that has voice samples the speech is then moved to the persona's voice (WORLD), or spoken
    by the persona's cloned voice with ``speech="elevenlabs"``. ``size`` is ``N`` (square, like the
    seed) or ``WxH``; None takes a square from the photo, up to 1080. ``motion`` scales the head motion
    (0: still head, blinks and mouth only).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    output: str = Field(max_length=OUTPUT_PATH_MAX)
    photo: str | None = None
    persona: str | None = None
    script: str | None = Field(default=None, max_length=MAX_SCRIPT)
    script_file: str | None = None
    audio: str | None = None
    transcript: str | None = Field(default=None, max_length=MAX_SCRIPT)  # what ``audio`` says (alignment)
    voice: str = "en"
    speech: SpeechName = "system"
    animator: AnimatorName = "animate"
    size: str | None = None
    fps: Literal[25] = 25
    motion: float = Field(default=1.0, ge=0.0, le=2.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    loudness_lufs: float = Field(default=-16.0, ge=-40.0, le=-5.0)
    disclosure: Disclosure = Disclosure()
    output_settings: Output = Output(preset="veryfast")

    @field_validator("size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_size(value)
        return value

    @field_validator("voice")
    @classmethod
    def _voice(cls, value: str) -> str:
        if not _VOICE.match(value):
            raise ValueError(f"voice {value!r} is not a voice name (e.g. en, en-us, en+f3)")
        return value

    @model_validator(mode="after")
    def _one_of_each(self) -> TalkSpec:
        faces = [x for x in (self.photo, self.persona) if x]
        if len(faces) != 1:
            raise ValueError("give exactly one of photo or persona")
        spoken = [x for x in (self.script, self.script_file, self.audio) if x is not None]
        if len(spoken) != 1:
            raise ValueError("give exactly one of script, script_file or audio")
        if self.transcript is not None and self.audio is None:
            raise ValueError("a transcript goes with an audio recording only")
        if self.script is not None and not self.script.strip():
            raise ValueError("the script is empty")
        return self

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return parse_size(self.size) if self.size else None
