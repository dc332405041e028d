"""An invisible watermark in the frames' luma: a 15-bit payload (the job id's hash) that survives
re-encoding, scaling and cropping.

The mark is one small tile repeated over the frame. The tile is a 24 x 24 grid of cells smoothly
interpolated, holding keyed random ±1 patterns: one for synchronisation and two M-ary payload symbols.
The tile's size follows the frame (a quarter of its short side), so the mark scales with it, and the
mark moves with the picture (``follow``), so a re-encoder's motion-compensated prediction carries it.
Its strength follows the picture: about one level on flat areas (which an H.264 encoder keeps, and
where the picture does not drown the mark), more where detail masks it, none on the flat side of an
edge, at most ``BUDGET`` RMS over the frame (PSNR 43 dB). Detection needs neither the original nor
the frame size:

1. the luma's fine detail over its local variance (flat areas count most);
2. for each candidate period, resampled to the canonical tile size and folded (summed modulo it);
3. phase correlation with the sync pattern finds the offset; its peak-to-noise ratio decides;
4. the aligned cells, correlated with each symbol row, give the payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float32]
KEY = 0x4C41594552  # fixed: every install marks with the same key, so anyone with the app can check
CELLS = 24  # cells per tile side (96 along the short side: 7.5 pixels at 720p)
TILES = 4  # tiles along the short side
WORK = 360  # strength and detection work with the short side resampled to this many pixels
CANON = 96  # canonical tile side in pixels (detection resamples to it)
SYMBOLS = (128, 64)  # M-ary symbols: one row of each group, signed (7 + 1 and 6 + 1 bits)
BITS = 15
FLOOR = 1.1  # luma levels (RMS) of mark in flat areas: mostly one level or none (mean change 0.9)
GAIN = 0.04  # a little more per level of local detail above TEXTURE (for busy frames without flat areas)
TEXTURE = 3.0
MAX_STRENGTH = 2.0
BUDGET = 1.8  # at most this RMS over the whole frame (PSNR 43 dB; 45-47 dB on the kit clips)
SYNC_WEIGHT = 0.85  # share of the mark's amplitude in the sync pattern
THRESHOLD = 6.0  # sync peak-to-noise ratio that counts as detected (unmarked frames stay under 5.5)


@lru_cache(maxsize=1)
def _patterns() -> tuple[Floats, Floats]:
    """(sync pattern [576], symbol rows [192, 576]) over the 24 x 24 cells: keyed random ±1 patterns
    without a mean (nearly orthogonal to each other; the sync one peaks sharply under circular shifts)."""
    rng = np.random.default_rng(KEY)
    n = CELLS * CELLS
    table = rng.choice([-1.0, 1.0], size=(1 + SYMBOLS[0] + SYMBOLS[1], n))
    table -= table.mean(axis=1, keepdims=True)
    table *= np.sqrt(n / (table**2).sum(axis=1, keepdims=True))
    return table[0].astype(np.float32), table[1:].astype(np.float32)


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
    """The periodic, smooth ``side`` x ``side`` image of a grid of cell values (unit RMS)."""
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
def _padded_plane(payload: int, width: int, height: int) -> Floats:
    """The mark over a ``width`` x ``height`` frame with a tile's margin before it and room after it for
    a zoomed-out or moved copy (its origin at (side, side))."""
    side = tile_side(width, height)
    tile = _smooth_tile(payload_cells(payload), side)
    reps = -(-round(max(width, height) * 1.05 + 3 * side) // side)
    return np.ascontiguousarray(np.tile(tile, (reps, reps)))


def mark_plane(payload: int, width: int, height: int, where: NDArray[np.float64] | None = None) -> Floats:
    """The mark over a whole ``width`` x ``height`` frame (float luma offsets, unit RMS); ``where``: the
    2 x 3 affine map of the picture's motion since the mark's start (``follow.MarkFollower``)."""
    side = tile_side(width, height)
    padded = _padded_plane(payload, width, height)
    if where is None or np.allclose(where, np.eye(2, 3)):
        return padded[side : side + height, side : side + width]
    back = cv2.invertAffineTransform(where)  # frame pixels -> pixels of the mark's start
    back[:, 2] = np.mod(back[:, 2], side) + side  # the mark repeats every tile
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return np.asarray(cv2.warpAffine(padded, back, (width, height), flags=flags), np.float32)


def _luma(rgb: NDArray[np.uint8], size: tuple[int, int] | None = None) -> Floats:
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if size is not None:
        y = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    return np.asarray(y, np.float32)


def _texture(y: Floats, scale: float) -> Floats:
    """The local RMS of the luma's fine detail (``scale``: pixels of ``y`` per working pixel)."""
    fine = y - cv2.GaussianBlur(y, (0, 0), 3.0 * scale)
    return np.asarray(np.sqrt(cv2.GaussianBlur(fine * fine, (0, 0), 3.0 * scale)), np.float32)


def strength_map(rgb: NDArray[np.uint8]) -> Floats:
    """Luma levels of mark per pixel: about one level in flat areas (where an H.264 encoder keeps it and
    nothing hides it, so no more), more with the local detail that masks it, none on the flat side of an
    edge (the detail measure is eroded), and at most ``BUDGET`` RMS over the frame."""
    h, w = rgb.shape[:2]
    f = WORK / 2 / min(h, w)  # at half the working size: the map is smooth, and cheaper there
    small = (max(1, round(w * f)), max(1, round(h * f)))
    detail = cv2.erode(_texture(_luma(rgb, small), 0.5), np.ones((5, 5), np.uint8))
    levels = np.clip(FLOOR + GAIN * np.maximum(detail - TEXTURE, 0), 0, MAX_STRENGTH)
    rms = float(np.sqrt(np.mean(levels**2)))
    if rms > BUDGET:
        levels *= BUDGET / rms
    return np.asarray(cv2.resize(levels, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def embed(rgb: NDArray[np.uint8], payload: int, where: NDArray[np.float64] | None = None) -> None:
    """Add the mark carrying ``payload`` to the luma of an RGB frame, in place, moved with the picture by
    ``where`` (``follow.MarkFollower``). The same offset on R, G and B moves luma only (the BT.601/709
    luma weights sum to 1), so colours stay."""
    h, w = rgb.shape[:2]
    offset = cv2.multiply(mark_plane(payload, w, h, where), strength_map(rgb))
    # all in OpenCV's SIMD kernels: the positive and the negative part of the offset, each rounded to
    # uint8 (as np.rint), spread to three channels and added / subtracted with saturation
    up = cv2.convertScaleAbs(cv2.threshold(offset, 0, 0, cv2.THRESH_TOZERO)[1])
    down = cv2.convertScaleAbs(cv2.threshold(offset, 0, 0, cv2.THRESH_TOZERO_INV)[1])
    if not rgb.flags.c_contiguous:
        rgb[:] = cv2.subtract(
            cv2.add(rgb, cv2.cvtColor(up, cv2.COLOR_GRAY2RGB)), cv2.cvtColor(down, cv2.COLOR_GRAY2RGB)
        )
        return
    cv2.add(rgb, cv2.cvtColor(up, cv2.COLOR_GRAY2RGB), dst=rgb)
    cv2.subtract(rgb, cv2.cvtColor(down, cv2.COLOR_GRAY2RGB), dst=rgb)


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
    """The luma's fine detail at the working size over its local variance (flat areas, which keep the
    mark best and where the picture does not drown it, count most), and the factor from the frame's
    pixels to the working ones."""
    h, w = rgb.shape[:2]
    f = WORK / min(h, w)
    y = _luma(rgb, (round(w * f), round(h * f)))
    fine = y - cv2.GaussianBlur(y, (0, 0), 3.0)
    var = cv2.GaussianBlur(fine * fine, (0, 0), 3.0)
    r = np.clip(fine / (var + 1.0), -2.0, 2.0)
    return (r - r.mean()).astype(np.float32), f


# the tile is a quarter of the short side, so at the working size its period is WORK / 4 divided by the
# share of the short side a crop kept, or times the zoom the mark followed: 0.98 to 1.43 is searched
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


@lru_cache(maxsize=1)
def _sync_shifts() -> Floats:
    """The sync tile moved by up to two canonical pixels each way, as rows (what a blurred or zoomed
    copy of the sync puts around its peak)."""
    tile = _smooth_tile(_patterns()[0], CANON)
    reach = range(-2, 3)
    return np.stack([np.roll(tile, (y, x), axis=(0, 1)).ravel() for y in reach for x in reach])


def _soft(folded: Floats, dy: int, dx: int) -> Floats:
    """The correlation of the aligned tile with every symbol row (normalised), once the sync and its
    near shifts are fitted and taken out (the strong sync leaks into rows that resemble it a pixel off)."""
    _, rows = _templates()
    aligned = np.roll(folded, (-dy, -dx), axis=(0, 1)).ravel()
    shifts = _sync_shifts()
    fit, *_ = np.linalg.lstsq(shifts.T, aligned, rcond=None)
    soft = rows @ (aligned - shifts.T @ fit)
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
