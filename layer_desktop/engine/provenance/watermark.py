"""An invisible watermark in the frames' luma: a 15-bit payload (the job id's hash) that survives
re-encoding, scaling and cropping.

The mark is one small tile repeated over the frame. The tile is an 8 x 8 grid of cells smoothly
interpolated (low-mid spatial frequencies, which H.264 keeps and a downscale does not alias), holding
the sum of orthogonal ±1 patterns (keyed Hadamard rows): one for synchronisation and one per payload
bit, signed by the bit. The tile's size follows the frame (a quarter of its short side), so the mark
scales with it. Detection needs neither the original nor the frame size:

1. the luma's band-pass residual, normalised by local contrast (takes the picture out);
2. its autocorrelation peaks at multiples of the tile period, which gives the scale;
3. resampled to the canonical tile size and folded (summed modulo the period), every tile adds up;
4. circular correlation with the sync pattern finds the crop offset; its peak-to-noise ratio decides;
5. the aligned cells, correlated with each bit pattern, give the payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.linalg import hadamard

Floats = NDArray[np.float32]
KEY = 0x4C41594552  # fixed: every install marks with the same key, so anyone with the app can check
CELLS = 16  # cells per tile side
TILES = 4  # tiles along the short side
WORK = 360  # strength and detection work with the short side resampled to this many pixels
CANON = 64  # canonical tile side in pixels (detection resamples to it)
SYMBOLS = (128, 64)  # M-ary symbols: one row of each group, signed (7 + 1 and 6 + 1 bits)
BITS = 15
STRENGTH = 2.0  # luma levels (RMS) in flat areas
GAIN = 0.2  # more per level of local detail (masked there)
MAX_STRENGTH = 5.0
SYNC_WEIGHT = 0.8  # share of the mark's amplitude in the sync pattern
THRESHOLD = 6.0  # sync peak-to-noise ratio that counts as detected (unmarked frames stay below ~5.2)


@lru_cache(maxsize=1)
def _patterns() -> tuple[Floats, Floats]:
    """(sync pattern [256], symbol rows [192, 256]) over the 16 x 16 cells. The symbol rows are keyed
    Hadamard rows (orthogonal: no cross-talk once aligned); the sync pattern is random (a sharp peak
    under circular shifts, which Hadamard rows lack)."""
    rng = np.random.default_rng(KEY)
    n = CELLS * CELLS
    rows = rng.permutation(np.arange(1, n))[: SYMBOLS[0] + SYMBOLS[1]]  # row 0 is all ones (no DC)
    signs = rng.choice([-1.0, 1.0], size=n)
    cells = rng.permutation(n)
    table = (hadamard(n).astype(np.float64)[rows] * signs)[:, cells]
    sync = rng.choice([-1.0, 1.0], size=n)
    sync -= sync.mean()
    sync *= np.sqrt(n / (sync @ sync))
    return sync.astype(np.float32), table.astype(np.float32)


def _symbols(payload: int) -> list[tuple[int, float]]:
    """(row in the table, sign) of each symbol: 7 bits index + sign, then 6 bits index + sign."""
    out, offset, rest = [], 0, payload
    for count in SYMBOLS:
        bits = count.bit_length() - 1
        sign = 1.0 if rest & 1 else -1.0
        rest >>= 1
        out.append((offset + (rest & (count - 1)), sign))
        rest >>= bits
        offset += count
    return out


def payload_of(rows_and_signs: list[tuple[int, float]]) -> int:
    """The payload of decoded symbols (inverse of ``_symbols``)."""
    payload, shift, offset = 0, 0, 0
    for count, (row, sign) in zip(SYMBOLS, rows_and_signs, strict=True):
        payload |= (1 if sign > 0 else 0) << shift
        payload |= (row - offset) << (shift + 1)
        shift += count.bit_length()
        offset += count
    return payload


def _smooth_tile(cells: Floats, side: int) -> Floats:
    """The periodic, smooth ``side`` x ``side`` image of an 8 x 8 grid of cell values (unit RMS)."""
    grid = cells.reshape(CELLS, CELLS)
    big = np.tile(grid, (3, 3))
    up = cv2.resize(big, (3 * side, 3 * side), interpolation=cv2.INTER_CUBIC)[
        side : 2 * side, side : 2 * side
    ]
    up = up - up.mean()
    out: Floats = (up / (np.sqrt((up**2).mean()) + 1e-9)).astype(np.float32)
    return out


def payload_cells(payload: int) -> Floats:
    """The cell values of the mark carrying ``payload`` (its low ``BITS`` bits)."""
    sync, table = _patterns()
    weight = np.sqrt((1 - SYNC_WEIGHT**2) / len(SYMBOLS))
    cells = SYNC_WEIGHT * sync
    for row, sign in _symbols(payload & ((1 << BITS) - 1)):
        cells = cells + weight * sign * table[row]
    return cells.astype(np.float32)


def tile_side(width: int, height: int) -> int:
    return max(24, round(min(width, height) / TILES))


@lru_cache(maxsize=4)
def mark_plane(payload: int, width: int, height: int) -> Floats:
    """The mark over a whole ``width`` x ``height`` frame (float luma offsets, unit RMS)."""
    tile = _smooth_tile(payload_cells(payload), tile_side(width, height))
    reps = (height // tile.shape[0] + 1, width // tile.shape[1] + 1)
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def _luma(rgb: NDArray[np.uint8], size: tuple[int, int] | None = None) -> Floats:
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if size is not None:
        y = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    return np.asarray(y, np.float32)


def _band(y: Floats, scale: float = 1.0) -> Floats:
    """The luma's band-pass detail where the mark lives (fine noise and broad shading taken out);
    ``scale``: the image's size relative to the working size."""
    fine, broad = cv2.GaussianBlur(y, (0, 0), 1.5 * scale), cv2.GaussianBlur(y, (0, 0), 7.0 * scale)
    return np.asarray(fine - broad, np.float32)


def _contrast(band: Floats, scale: float = 1.0) -> Floats:
    return np.asarray(np.sqrt(cv2.GaussianBlur(band * band, (0, 0), 12.0 * scale)), np.float32)


def strength_map(rgb: NDArray[np.uint8]) -> Floats:
    """Luma levels of mark per pixel: more where the picture is busy (it hides the mark there and the
    detector weighs each place by its busyness), never less than a floor in flat areas."""
    h, w = rgb.shape[:2]
    f = WORK / 2 / min(h, w)  # at half the working size: the map is smooth, and 8x cheaper there
    small = (max(1, round(w * f)), max(1, round(h * f)))
    contrast = _contrast(_band(_luma(rgb, small), 0.5), 0.5)
    levels = np.clip(STRENGTH + GAIN * contrast, STRENGTH, MAX_STRENGTH)
    return np.asarray(cv2.resize(levels, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def embed(rgb: NDArray[np.uint8], payload: int) -> None:
    """Add the mark carrying ``payload`` to the luma of an RGB frame, in place. The same offset on R, G
    and B moves luma only (the BT.601/709 luma weights sum to 1), so colours stay."""
    h, w = rgb.shape[:2]
    offset = np.rint(mark_plane(payload, w, h) * strength_map(rgb))
    # saturating uint8 adds (SIMD in OpenCV): the positive and the negative part of the offset
    up = np.clip(offset, 0, 255).astype(np.uint8)
    down = np.clip(-offset, 0, 255).astype(np.uint8)
    out = cv2.subtract(cv2.add(rgb, cv2.merge([up, up, up])), cv2.merge([down, down, down]))
    rgb[:] = out


@dataclass(frozen=True)
class Detection:
    """One frame's result: whether the mark is there, its payload as read from this frame alone (a few
    bits may be wrong in a degraded frame: ``vote`` over frames), the soft bit values, the sync score
    and the tile period found (frame pixels)."""

    found: bool
    payload: int | None
    soft: tuple[float, ...]
    score: float
    period: float


def vote(detections: list[Detection]) -> int | None:
    """The payload read from the frames where the mark was found, bit by bit (soft values summed)."""
    found = [d.soft for d in detections if d.found]
    if not found:
        return None
    return soft_to_payload(np.sum(np.asarray(found, np.float32), axis=0))


_GUARD = CANON // CELLS  # one cell around the peak


def _residual(rgb: NDArray[np.uint8]) -> tuple[Floats, float]:
    """The band-pass luma residual at the working size divided by the local contrast (picture and noise
    damped), and the factor from the frame's pixels to the working ones."""
    h, w = rgb.shape[:2]
    f = WORK / min(h, w)
    band = _band(_luma(rgb, (round(w * f), round(h * f))))
    r = np.clip(band / (_contrast(band) + 1.5), -2.5, 2.5)
    return (r - r.mean()).astype(np.float32), f


# the tile is a third of the short side, so at the working size its period is WORK / 4 divided by the
# share of the short side a crop kept: down to 70 % is searched
PERIODS = np.arange(WORK / TILES - 2, WORK / TILES / 0.7, 0.5)


def _fold(r: Floats, period: float) -> Floats:
    """``r`` resampled so the period is ``CANON`` pixels and summed modulo ``CANON`` (partial tiles too)."""
    f = CANON / period
    rs = cv2.resize(r, (round(r.shape[1] * f), round(r.shape[0] * f)), interpolation=cv2.INTER_LINEAR)
    ty, tx = -(-rs.shape[0] // CANON), -(-rs.shape[1] // CANON)
    padded = np.zeros((ty * CANON, tx * CANON), np.float32)
    padded[: rs.shape[0], : rs.shape[1]] = rs
    folded: Floats = padded.reshape(ty, CANON, tx, CANON).sum(axis=(0, 2))
    return folded


@lru_cache(maxsize=1)
def _freq_band() -> Floats:
    """Weights of the canonical tile's spatial frequencies that the mark occupies (up to the cell rate)."""
    fy = np.fft.fftfreq(CANON)[:, None]
    fx = np.fft.rfftfreq(CANON)[None, :]
    radius = np.sqrt(fx**2 + fy**2) * CANON / CELLS  # in cycles per cell
    return ((radius > 0) & (radius <= 0.75)).astype(np.float32)


@lru_cache(maxsize=1)
def _templates() -> tuple[NDArray[np.complex64], Floats]:
    """The sync tile's spectrum (conjugated) and the bit tiles as rows, at the canonical size."""
    sync, rows = _patterns()
    spectrum = np.conj(np.fft.rfft2(_smooth_tile(sync, CANON))).astype(np.complex64)
    return spectrum, np.stack([_smooth_tile(row, CANON).ravel() for row in rows])


def _whiten(folded: Floats) -> NDArray[np.complex128]:
    """The folded tile's spectrum with unit magnitude in the mark's band (host colour taken out)."""
    spectrum = np.fft.rfft2(folded)
    return spectrum / (np.abs(spectrum) + 1e-6 * float(np.abs(spectrum).max())) * _freq_band()


def _sync(white: NDArray[np.complex128]) -> tuple[float, int, int]:
    """(peak-to-noise ratio, dy, dx) of the phase-only correlation with the sync tile."""
    spectrum, _ = _templates()
    corr = np.fft.irfft2(white * spectrum, s=(CANON, CANON))
    k = int(np.argmax(corr))
    dy, dx = divmod(k, CANON)
    # noise level away from the peak (its own smooth shoulder would count as noise otherwise)
    far = np.roll(corr, (CANON // 2 - dy, CANON // 2 - dx), axis=(0, 1))
    far[CANON // 2 - _GUARD : CANON // 2 + _GUARD + 1, CANON // 2 - _GUARD : CANON // 2 + _GUARD + 1] = np.nan
    return float((corr.flat[k] - np.nanmean(far)) / (np.nanstd(far) + 1e-9)), dy, dx


def _soft(folded: Floats, dy: int, dx: int) -> Floats:
    """The correlation of the aligned tile with every symbol row (normalised)."""
    _, rows = _templates()
    aligned = np.roll(folded, (-dy, -dx), axis=(0, 1))
    soft = rows @ aligned.ravel()
    out: Floats = (soft / (np.abs(soft).mean() + 1e-9)).astype(np.float32)
    return out


def soft_to_payload(soft: Floats) -> int:
    """The payload from the correlations with every symbol row: per group, the strongest row and its sign."""
    decoded, offset = [], 0
    for count in SYMBOLS:
        group = soft[offset : offset + count]
        i = int(np.argmax(np.abs(group)))
        decoded.append((offset + i, float(group[i])))
        offset += count
    return payload_of(decoded)


def detect(rgb: NDArray[np.uint8]) -> Detection:
    """Look for the mark in an RGB frame (any size, scale or crop of a marked one)."""
    if min(rgb.shape[:2]) < 32:
        return Detection(False, None, (), 0.0, 0.0)
    r, f = _residual(rgb)
    best = (-np.inf, 0, 0, 0.0)
    for period in PERIODS:
        score, dy, dx = _sync(_whiten(_fold(r, float(period))))
        if score > best[0]:
            best = (score, dy, dx, float(period))
    score, dy, dx, period = best
    soft = _soft(_fold(r, period), dy, dx)
    found = score >= THRESHOLD
    payload = soft_to_payload(soft) if found else None
    return Detection(found, payload, tuple(float(x) for x in soft), score, period / f)
