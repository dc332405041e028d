"""``POST /v1/preview`` behind the HTTP layer: one frame rendered, scaled, encoded, and cached.

Encoded images are cached by (media sha256, frame, sha256 of the request's other settings plus the
persona's fingerprint), so scrubbing back over a frame costs a dictionary lookup, and editing the persona
(new photos) is never answered with an old picture.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from layer_desktop.engine.faces.types import ImageRGB
from layer_desktop.engine.models import ModelStore
from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.pipeline.preview import FramePreviewer, persona_fingerprint
from layer_desktop.engine.server.schemas import PreviewRequest
from layer_desktop.errors import EngineError

log = logging.getLogger(__name__)

MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}
JPEG_QUALITY = 90
PNG_COMPRESSION = 1  # fastest: a preview is thrown away soon, its bytes only cross a local link
CacheKey = tuple[str, int, str]


def scaled(rgb: ImageRGB, max_side: int) -> ImageRGB:
    """``rgb`` shrunk (area averaging) so its longest side is at most ``max_side``; 0 or a larger
    ``max_side`` leaves it as it is. Never enlarges."""
    h, w = rgb.shape[:2]
    if max_side <= 0 or max(h, w) <= max_side:
        return rgb
    k = max_side / max(h, w)
    size = (max(1, min(max_side, round(w * k))), max(1, min(max_side, round(h * k))))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), np.uint8)


def encode(rgb: ImageRGB, fmt: str) -> bytes:
    """``rgb`` as JPEG (quality ``JPEG_QUALITY``) or PNG bytes. Raises ``EngineError`` when OpenCV fails."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if fmt == "png":
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    else:
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise EngineError(f"The preview frame ({rgb.shape[1]}x{rgb.shape[0]}) could not be encoded as {fmt}.")
    return bytes(buf)


class PreviewService:
    """Rendered, encoded preview frames with an LRU cache of the encoded bytes; safe to call from several
    threads (one render at a time: the previewer's decoders and models are single-threaded)."""

    def __init__(
        self,
        store: PersonaStore,
        models: ModelStore | None = None,
        *,
        max_entries: int = 64,
        previewer: FramePreviewer | None = None,
    ) -> None:
        """``previewer`` replaces the one built from ``store`` and ``models`` (tests, custom limits)."""
        self.previewer = previewer or FramePreviewer(store, models)
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[CacheKey, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, path: Path, request: PreviewRequest) -> tuple[bytes, str]:
        """(image bytes, media type) of frame ``request.frame`` of the video at ``path`` (whose sha256 is
        ``request.media``). Raises what ``FramePreviewer.preview`` raises, and ``EngineError`` when
        encoding fails."""
        with self._lock:
            key = self.cache_key(request)
            held = self._cache.get(key)
            if held is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return held
            self.misses += 1
            result = self.previewer.preview(
                path, request.frame, persona=request.persona, face=request.face,
                detector=request.detector, swap=request.swap, visible_mark=request.visible_mark,
            )  # fmt: skip
            image = scaled(result.image, request.max_side)
            answer = (encode(image, request.format), MEDIA_TYPES[request.format])
            log.debug("preview frame %d: %s", request.frame, {k: round(v, 1) for k, v in result.ms.items()})
            self._cache[key] = answer
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
            return answer

    def cache_key(self, request: PreviewRequest) -> CacheKey:
        """(media, frame, digest of every other setting and of the persona as it is now). Raises
        ``PersonaNotFoundError`` for an unknown persona."""
        settings = request.model_dump_json(exclude={"media", "frame"})
        if request.persona is not None:
            settings += "|" + persona_fingerprint(self.previewer.store.get(request.persona))
        return request.media, request.frame, hashlib.sha256(settings.encode()).hexdigest()

    def clear(self) -> None:
        """Forget the cached images (e.g. after the models changed on disk)."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Close the videos the previewer holds open, and drop the cache."""
        with self._lock:
            self._cache.clear()
            self.previewer.close()
