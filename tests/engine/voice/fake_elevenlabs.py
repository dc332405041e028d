"""A recording stand-in for the ElevenLabs HTTP API, plugged into the real SDK as an httpx transport.

It answers like the service: JSON for voice cloning, raw 16-bit PCM in the requested ``pcm_<rate>``
format for speech-to-speech (the "converted" voice is the input at half level, 40 ms late and 30 ms
longer, as a real service's latency and padding would make it), and base64 audio with character timings
for text to speech. ``queue`` makes the next matching call answer with a given status and body.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import wave
from dataclasses import dataclass, field

import httpx
import numpy as np
from scipy.signal import resample_poly

DELAY_S = 0.04


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    fields: dict[str, list[tuple[str | None, bytes]]]  # multipart: name → [(filename, content)]
    json: object = None


def parse_multipart(content_type: str, body: bytes) -> dict[str, list[tuple[str | None, bytes]]]:
    boundary = content_type.split("boundary=")[1].strip('"').encode()
    out: dict[str, list[tuple[str | None, bytes]]] = {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, content = part.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = next(
            h for h in head.decode().split("\r\n") if h.lower().startswith("content-disposition")
        )
        params = dict(p.strip().split("=", 1) for p in disposition.split(";")[1:])
        name = params["name"].strip('"')
        filename = params["filename"].strip('"') if "filename" in params else None
        out.setdefault(name, []).append((filename, content))
    return out


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    return x, rate


@dataclass
class FakeElevenLabs:
    voice_id: str = "vc_0123456789abcdef"
    requests: list[Recorded] = field(default_factory=list)
    queued: dict[str, list[tuple[int, object]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def queue(self, kind: str, status: int, body: object) -> None:
        """The next ``kind`` call ("ivc", "sts", "tts") answers ``status`` with the JSON ``body``."""
        self.queued.setdefault(kind, []).append((status, body))

    def calls(self, kind: str) -> list[Recorded]:
        return [r for r in self.requests if _kind(r.path) == kind]

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        ctype = request.headers.get("content-type", "")
        record = Recorded(
            request.method,
            request.url.path,
            dict(request.url.params),
            dict(request.headers),
            parse_multipart(ctype, body) if ctype.startswith("multipart/") else {},
            json.loads(body) if ctype.startswith("application/json") else None,
        )
        kind = _kind(record.path)
        with self._lock:
            self.requests.append(record)
            scripted = self.queued.get(kind, []).pop(0) if self.queued.get(kind) else None
        if scripted is not None:
            return httpx.Response(scripted[0], json=scripted[1])
        if kind == "ivc":
            return httpx.Response(200, json={"voice_id": self.voice_id, "requires_verification": False})
        if kind == "sts":
            return self._speech_to_speech(record)
        if kind == "tts":
            return self._text_to_speech(record)
        return httpx.Response(404, json={"detail": {"status": "not_found", "message": "no such endpoint"}})

    def _speech_to_speech(self, r: Recorded) -> httpx.Response:
        x, rate = wav_samples(r.fields["audio"][0][1])
        out_rate = int(r.params["output_format"].split("_")[1])
        y = np.concatenate([np.zeros(round(DELAY_S * rate)), 0.5 * x, np.zeros(round(0.03 * rate))])
        y = resample_poly(y, out_rate, rate)
        pcm = (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()
        return httpx.Response(200, content=pcm, headers={"content-type": "audio/pcm"})

    def _text_to_speech(self, r: Recorded) -> httpx.Response:
        assert isinstance(r.json, dict)
        text: str = r.json["text"]
        out_rate = int(r.params["output_format"].split("_")[1])
        per_char = 0.06
        t = np.arange(round(len(text) * per_char * out_rate)) / out_rate
        audio = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
        starts = [round(i * per_char, 3) for i in range(len(text))]
        return httpx.Response(
            200,
            json={
                "audio_base64": base64.b64encode(audio).decode(),
                "alignment": {
                    "characters": list(text),
                    "character_start_times_seconds": starts,
                    "character_end_times_seconds": [round(s + per_char, 3) for s in starts],
                },
                "normalized_alignment": None,
            },
        )


def _kind(path: str) -> str:
    if path == "/v1/voices/add":
        return "ivc"
    if path.startswith("/v1/voice-changer/"):
        return "sts"
    if path.startswith("/v1/text-to-speech/"):
        return "tts"
    return "other"
