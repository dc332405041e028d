"""A generated "real footage" clip with ground truth, built from the kit's two photos.

10 s at 25 fps, 1280×720 plus a 640×360 copy, encoded with B-frames and one 250-frame GOP:

* shot 0 (frames 0–59): wide shot of the main subject (the astronaut) behind a lectern on a stage, the
  camera pushing in so the face grows from ~30 to ~50 px wide (at 1280×720);
* hard cut → shot 1 (60–139): medium close-up lit warm from the image's left, the right cheek in shadow;
  a hand-held microphone rises over the mouth for ~1 s (frames 93–121, covering the mouth 96–118);
* hard cut → shot 2 (140–206): two bystanders (Grace Hopper flipped, and recoloured) in an audience;
* dissolve (frames 200–214) → shot 3 (207–249): the main subject again, medium shot, neutral light.

Light camera shake (smooth random walk) with matching motion blur and sensor noise on every frame. Every
number comes from a seeded generator, so the same seed gives the same frames.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from tests.conftest import SHARED_MEDIA

FPS = 25
N_FRAMES = 250
SIZE = (1280, 720)
SMALL_SIZE = (640, 360)
CUTS = (60, 140)
DISSOLVE = (200, 214)  # first and last frame that mix the two shots
SIDE_LIT = range(60, 140)
MIC_FRAMES = range(93, 122)
SEED = 14
BBox = tuple[float, float, float, float]
# face boxes (Face Mesh extent) and mouth centre in the kit's photos, measured once with FaceAnalyzer
ASTRONAUT_FACE: BBox = (172.0, 66.0, 278.0, 172.0)
ASTRONAUT_MOUTH = (222.0, 147.0)
HOPPER_FACE: BBox = (166.0, 127.0, 367.0, 328.0)
ROLES = ("main", "bystander_a", "bystander_b")


@dataclass(frozen=True)
class FaceTruth:
    """A face the generator drew: ``role`` is ``main``, ``bystander_a`` or ``bystander_b``; ``alpha``
    is its opacity (below 1 only inside the dissolve)."""

    role: str
    box: BBox
    alpha: float = 1.0

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class FrameTruth:
    """What frame ``index`` shows, in 1280×720 pixels: its shot, its faces, whether the microphone is in."""

    index: int
    shot: int
    faces: tuple[FaceTruth, ...]
    occluder: bool = False


@dataclass(frozen=True)
class Footage:
    """The clip's files and its ground truth (boxes and masks at 1280×720; ``scale`` maps them)."""

    path: Path
    small_path: Path
    frames: tuple[FrameTruth, ...]
    masks_path: Path
    main_photo: Path
    bystander_photos: dict[str, Path]
    cuts: tuple[int, ...] = CUTS
    dissolves: tuple[tuple[int, int], ...] = (DISSOLVE,)
    side_lit: range = SIDE_LIT
    fps: int = FPS
    size: tuple[int, int] = SIZE
    small_size: tuple[int, int] = SMALL_SIZE
    _masks: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def face(self, index: int, role: str, scale: float = 1.0) -> BBox | None:
        """The box of ``role`` in frame ``index`` (times ``scale``; 0.5 for the small copy), or None."""
        for f in self.frames[index].faces:
            if f.role == role:
                return (f.box[0] * scale, f.box[1] * scale, f.box[2] * scale, f.box[3] * scale)
        return None

    def shot_ranges(self) -> list[range]:
        """Frame range of every shot, in order (a dissolve's frames split at its midpoint)."""
        shots = [f.shot for f in self.frames]
        starts = [0] + [i for i in range(1, len(shots)) if shots[i] != shots[i - 1]]
        return [range(s, e) for s, e in zip(starts, [*starts[1:], len(shots)], strict=True)]

    def occluder_mask(self, index: int, size: tuple[int, int] = SIZE) -> np.ndarray | None:
        """The microphone's pixels in frame ``index`` (bool, ``size`` = (w, h)), or None when it is out."""
        if not self._masks:
            with np.load(self.masks_path) as data:
                self._masks.update({int(k): data[k] for k in data.files})
        mask = self._masks.get(index)
        if mask is None:
            return None
        if size != SIZE:
            mask = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) >= 128
        return mask


@dataclass
class _Scene:
    """A still canvas (float RGB 0–1), face boxes on it, and a camera path: frame → (cx, cy, zoom)."""

    canvas: np.ndarray
    faces: dict[str, BBox]
    camera: Callable[[float], tuple[float, float, float]]
    shake: np.ndarray  # (n, 2) per-frame offsets in output pixels


def _photo(name: str) -> np.ndarray:
    bgr = cv2.imread(str(SHARED_MEDIA / "faces" / name), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def _scaled(img: np.ndarray, s: float) -> np.ndarray:
    h, w = img.shape[:2]
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return np.clip(cv2.resize(img, (round(w * s), round(h * s)), interpolation=interp), 0, 1)


def _backdrop(rng: np.random.Generator, w: int, h: int, top: tuple, bottom: tuple, lights: int) -> np.ndarray:
    """A dim gradient wall with soft coloured light pools and blotchy low-frequency texture."""
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    img = np.broadcast_to(img, (h, w, 3)).copy()
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(lights):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h * 0.6), rng.uniform(0.08, 0.25) * w
        colour = rng.uniform(0.1, 0.45, 3).astype(np.float32)
        img += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None] * colour
    blotch = cv2.GaussianBlur(rng.normal(0, 1, (h // 8, w // 8)).astype(np.float32), (0, 0), 3)
    img *= 1 + 0.25 * cv2.resize(blotch, (w, h))[..., None]
    return np.clip(img, 0, 1)


def _person_alpha(h: int, w: int) -> np.ndarray:
    """Soft matte for a portrait photo: opaque over head and body, fading at the photo's top and sides."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - 0.5 * w) / (0.58 * w)) ** 2 + ((yy - 0.8 * h) / (0.95 * h)) ** 2)
    alpha = np.clip((1 - r) / 0.3, 0, 1)
    edge = np.minimum(np.minimum(xx, w - 1 - xx) / (0.08 * w), yy / (0.08 * h))
    return (alpha * np.clip(edge, 0, 1))[..., None]


def _paste(canvas: np.ndarray, photo: np.ndarray, x: int, y: int) -> None:
    """Composite ``photo`` (its matte from ``_person_alpha``) at (x, y), clipped to the canvas."""
    h, w = photo.shape[:2]
    a = _person_alpha(h, w)
    h, w = min(h, canvas.shape[0] - y), min(w, canvas.shape[1] - x)
    region = canvas[y : y + h, x : x + w]
    region[:] = photo[:h, :w] * a[:h, :w] + region * (1 - a[:h, :w])


def _moved(box: BBox, s: float, x: float, y: float) -> BBox:
    return (box[0] * s + x, box[1] * s + y, box[2] * s + x, box[3] * s + y)


def _shake(rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """Hand-held camera: a sum of a few slow sinusoids per axis, about ``amplitude`` px peak."""
    t = np.arange(N_FRAMES, dtype=np.float64) / FPS
    out = np.zeros((N_FRAMES, 2))
    for axis in range(2):
        for _ in range(3):
            f, phase = rng.uniform(0.6, 3.0), rng.uniform(0, 2 * np.pi)
            out[:, axis] += amplitude / 3 * np.sin(2 * np.pi * f * t + phase)
    return out


def _ease(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def _wide_scene(rng: np.random.Generator) -> _Scene:
    """Stage, astronaut at 0.33× behind a lectern; the camera pushes in from 0.9× to 1.43× (30→50 px)."""
    canvas = _backdrop(rng, 1500, 900, (0.05, 0.04, 0.12), (0.12, 0.08, 0.14), lights=5)
    canvas[700:] = canvas[700:] * 0.5 + np.float32([0.12, 0.08, 0.06])  # stage floor
    s, x, y = 0.33, 680, 420
    photo = _scaled(_photo("astronaut.png"), s)
    _paste(canvas, photo, x, y)
    lectern = np.float32([0.32, 0.2, 0.12]) * np.linspace(1.2, 0.7, 200, dtype=np.float32)[:, None, None]
    canvas[y + 105 : y + 305, x + 10 : x + 160] = lectern[:200, :1].repeat(150, axis=1)
    face = _moved(ASTRONAUT_FACE, s, x, y)
    fc = ((face[0] + face[2]) / 2, (face[1] + face[3]) / 2)

    def camera(i: float) -> tuple[float, float, float]:
        k = _ease(i / (CUTS[0] - 1))
        return 750 + (fc[0] - 750) * k * 0.6, 450 + (fc[1] - 450) * k * 0.5, 0.9 + 0.53 * k

    return _Scene(canvas, {"main": face}, camera, _shake(rng, 2.5))


def _side_light(img: np.ndarray, face: BBox) -> np.ndarray:
    """Warm key light from the image's left, the far cheek in shadow (a soft ramp across the face)."""
    cx, fw = (face[0] + face[2]) / 2, face[2] - face[0]
    x = np.arange(img.shape[1], dtype=np.float32)
    t = 1 / (1 + np.exp((x - cx) / (0.14 * fw)))  # 1 on the lit side
    gain = np.stack([0.36 + 0.78 * t, 0.3 + 0.62 * t, 0.22 + 0.38 * t], axis=-1)[None]
    return np.clip(img * gain, 0, 1)


def _closeup_scene(rng: np.random.Generator) -> _Scene:
    s = 2.6
    canvas = _scaled(_photo("astronaut.png"), s)
    face = _moved(ASTRONAUT_FACE, s, 0, 0)
    canvas = _side_light(canvas, face)

    def camera(i: float) -> tuple[float, float, float]:
        k = (i - CUTS[0]) / (CUTS[1] - CUTS[0])
        return 655 + 10 * k, 360 + 25 * k, 1.0

    return _Scene(canvas, {"main": face}, camera, _shake(rng, 3.0))


def bystander_photo(role: str) -> np.ndarray:
    """The photo a bystander was made from (float RGB 0–1): ``bystander_a`` is Grace Hopper mirrored,
    ``bystander_b`` is Grace Hopper recoloured (warmer skin, green-tinted uniform)."""
    img = _photo("grace_hopper.jpg")
    if role == "bystander_a":
        return img[:, ::-1].copy()
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + 12) % 360
    hsv[..., 2] = np.clip(hsv[..., 2] * 1.1, 0, 1)
    return np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * np.float32([1.05, 0.95, 0.85]), 0, 1)


def _bystander_box(role: str) -> BBox:
    x0, y0, x1, y1 = HOPPER_FACE
    return (512 - x1, y0, 512 - x0, y1) if role == "bystander_a" else HOPPER_FACE


def _audience_scene(rng: np.random.Generator) -> _Scene:
    canvas = _backdrop(rng, 1500, 860, (0.16, 0.07, 0.05), (0.07, 0.04, 0.03), lights=3)
    faces = {}
    for role, s, x, y in (("bystander_a", 0.7, 180, 300), ("bystander_b", 0.62, 820, 350)):
        _paste(canvas, _scaled(bystander_photo(role), s), x, y)
        faces[role] = _moved(_bystander_box(role), s, x, y)

    def camera(i: float) -> tuple[float, float, float]:
        k = (i - CUTS[1]) / (DISSOLVE[1] + 1 - CUTS[1])
        return 700 + 60 * k, 470, 1.0

    return _Scene(canvas, faces, camera, _shake(rng, 2.0))


def _medium_scene(rng: np.random.Generator) -> _Scene:
    canvas = _backdrop(rng, 1400, 800, (0.04, 0.07, 0.15), (0.06, 0.08, 0.12), lights=4)
    s, x, y = 1.05, 560, 262
    _paste(canvas, _scaled(_photo("astronaut.png"), s), x, y)

    def camera(i: float) -> tuple[float, float, float]:
        k = (i - DISSOLVE[0]) / (N_FRAMES - DISSOLVE[0])
        return 760 - 30 * k, 420, 1.0 + 0.05 * k

    return _Scene(canvas, {"main": _moved(ASTRONAUT_FACE, s, x, y)}, camera, _shake(rng, 2.0))


def _affine(scene: _Scene, i: int) -> np.ndarray:
    cx, cy, zoom = scene.camera(float(i))
    dx, dy = scene.shake[i]
    return np.array(
        [[zoom, 0, SIZE[0] / 2 - zoom * cx + dx], [0, zoom, SIZE[1] / 2 - zoom * cy + dy]], np.float64
    )


def _map_box(m: np.ndarray, box: BBox) -> BBox:
    return (
        float(m[0, 0] * box[0] + m[0, 2]),
        float(m[1, 1] * box[1] + m[1, 2]),
        float(m[0, 0] * box[2] + m[0, 2]),
        float(m[1, 1] * box[3] + m[1, 2]),
    )


def _shoot(scene: _Scene, i: int) -> tuple[np.ndarray, list[FaceTruth], np.ndarray]:
    """One frame of ``scene`` (float RGB), its faces, and the camera's velocity (px/frame)."""
    m = _affine(scene, i)
    frame = cv2.warpAffine(scene.canvas, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    faces = [FaceTruth(role, _map_box(m, box)) for role, box in scene.faces.items()]
    # how the picture moves at the frame's centre since the last frame (shake, pan; a zoom adds little)
    prev = _affine(scene, max(i - 1, 0))
    centre = (np.array([SIZE[0] / 2, SIZE[1] / 2]) - m[:, 2]) / m[0, 0]
    velocity = (m[:, :2] @ centre + m[:, 2]) - (prev[:, :2] @ centre + prev[:, 2])
    return frame, faces, velocity


def _microphone(frame: np.ndarray, i: int, mouth: tuple[float, float], face_w: float) -> np.ndarray | None:
    """Draws a hand-held ball microphone rising over the mouth; returns its mask (None when out)."""
    if i not in MIC_FRAMES:
        return None
    k = i - MIC_FRAMES.start
    rise = min(k / 3, 1.0) * min((len(MIC_FRAMES) - 1 - k) / 3, 1.0)  # in 3 frames, out in 3
    r = 0.17 * face_w
    cx = mouth[0] + 0.05 * face_w + 6 * np.sin(k / 3)
    cy = mouth[1] + 0.1 * face_w + (1 - rise) * (SIZE[1] - mouth[1] + 2 * r)
    mask = np.zeros(SIZE[::-1], np.uint8)
    handle = np.array([[cx - 0.35 * r, cy], [cx + 0.35 * r, cy], [cx + 0.9 * r, SIZE[1] + 10],
                       [cx + 0.1 * r, SIZE[1] + 10]], np.int32)  # fmt: skip
    cv2.fillConvexPoly(mask, handle, 1, lineType=cv2.LINE_8)
    cv2.circle(mask, (round(cx), round(cy)), round(r), 2, -1, lineType=cv2.LINE_8)
    yy, xx = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    grille = 0.22 + 0.08 * ((np.sin(xx * 1.1) > 0) ^ (np.sin(yy * 1.1) > 0))
    shine = 0.45 * np.exp(-((xx - cx + 0.4 * r) ** 2 + (yy - cy + 0.4 * r) ** 2) / (0.1 * r * r))
    ball = (grille + shine)[..., None] * np.float32([1.0, 1.0, 1.05])
    if not mask.any():
        return None
    frame[mask == 2] = ball[mask == 2]
    frame[mask == 1] = np.float32([0.06, 0.06, 0.07])
    return mask > 0


def _blur(frame: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """Motion blur along the camera's motion: a line kernel 1.5× the frame-to-frame shift."""
    length = min(float(np.hypot(*velocity)) * 1.5, 6.0)
    if length < 1.0:
        return frame
    n = int(np.ceil(length)) | 1
    kernel = np.zeros((n, n), np.float32)
    c, ux, uy = n // 2, velocity[0] / np.hypot(*velocity), velocity[1] / np.hypot(*velocity)
    for t in np.linspace(-length / 2, length / 2, 2 * n):
        kernel[round(c + uy * t), round(c + ux * t)] += 1
    return cv2.filter2D(frame, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def render(seed: int = SEED) -> Iterator[tuple[np.ndarray, FrameTruth, np.ndarray | None]]:
    """Every frame (RGB uint8, 1280×720), its truth and the microphone's mask, in order."""
    rng = np.random.default_rng(seed)
    scenes = [_wide_scene(rng), _closeup_scene(rng), _audience_scene(rng), _medium_scene(rng)]
    noise_rng = np.random.default_rng(seed + 1)
    mouth = _moved((*ASTRONAUT_MOUTH, *ASTRONAUT_MOUTH), 2.6, 0, 0)[:2]
    for i in range(N_FRAMES):
        shot = (
            0 if i < CUTS[0] else 1 if i < CUTS[1] else 2 if i < (DISSOLVE[0] + DISSOLVE[1] + 1) // 2 else 3
        )
        mask = None
        if DISSOLVE[0] <= i <= DISSOLVE[1]:
            a = (i - DISSOLVE[0] + 1) / (DISSOLVE[1] - DISSOLVE[0] + 2)
            (f2, faces2, v2), (f3, faces3, v3) = _shoot(scenes[2], i), _shoot(scenes[3], i)
            frame, velocity = f2 * (1 - a) + f3 * a, v2 * (1 - a) + v3 * a
            faces = [FaceTruth(f.role, f.box, 1 - a) for f in faces2] + [
                FaceTruth(f.role, f.box, a) for f in faces3
            ]
        else:
            scene = scenes[shot]
            frame, faces, velocity = _shoot(scene, i)
            if shot == 1:
                m = _affine(scene, i)
                mask = _microphone(frame, i, _map_box(m, (*mouth, *mouth))[:2], faces[0].width)
        frame = _blur(frame, velocity) + noise_rng.normal(0, 1.5 / 255, frame.shape).astype(np.float32)
        rgb = np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8)
        yield rgb, FrameTruth(i, shot, tuple(faces), mask is not None), mask


def _encoder(out: av.container.OutputContainer, size: tuple[int, int]) -> av.VideoStream:
    # long GOP with B-frames and no keyframe at the cuts: the decoder must get every frame right on its own
    stream = out.add_stream(
        "libx264",
        rate=FPS,
        options={
            "crf": "18",
            "preset": "veryfast",
            "threads": "1",
            "x264-params": "keyint=250:min-keyint=250:scenecut=0:bframes=3:b-adapt=1",
        },
    )
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    return stream


def _stamp(seed: int) -> str:
    return hashlib.sha256(Path(__file__).read_bytes() + str(seed).encode()).hexdigest()


def _load(out_dir: Path) -> Footage:
    truths = tuple(
        FrameTruth(
            t["index"],
            t["shot"],
            tuple(FaceTruth(f["role"], tuple(f["box"]), f["alpha"]) for f in t["faces"]),
            t["occluder"],
        )
        for t in json.loads((out_dir / "truth.json").read_text())
    )
    photos = {role: out_dir / f"{role}.png" for role in ROLES[1:]}
    return Footage(
        out_dir / "footage_720.mp4", out_dir / "footage_360.mp4", truths, out_dir / "microphone_masks.npz",
        SHARED_MEDIA / "faces" / "astronaut.png", photos,
    )  # fmt: skip


def make_footage(out_dir: Path, seed: int = SEED) -> Footage:
    """Writes ``footage_720.mp4``, ``footage_360.mp4``, the microphone masks, the truth (JSON) and the
    bystanders' photos into ``out_dir`` and returns the ``Footage``; reuses what an earlier call with the
    same generator and seed left there."""
    stamp = out_dir / "stamp"
    if stamp.is_file() and stamp.read_text() == _stamp(seed):
        return _load(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truths, masks = [], {}
    with (
        av.open(str(out_dir / "footage_720.mp4"), "w") as big_out,
        av.open(str(out_dir / "footage_360.mp4"), "w") as small_out,
    ):
        big, little = _encoder(big_out, SIZE), _encoder(small_out, SMALL_SIZE)
        for rgb, truth, mask in render(seed):
            truths.append(truth)
            if mask is not None:
                masks[str(truth.index)] = mask
            big_out.mux(big.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            half = cv2.resize(rgb, SMALL_SIZE, interpolation=cv2.INTER_AREA)
            small_out.mux(little.encode(av.VideoFrame.from_ndarray(half, format="rgb24")))
        big_out.mux(big.encode(None))
        small_out.mux(little.encode(None))
    np.savez_compressed(out_dir / "microphone_masks.npz", **masks)
    for role in ROLES[1:]:
        rgb8 = np.uint8(bystander_photo(role) * 255 + 0.5)
        cv2.imwrite(str(out_dir / f"{role}.png"), cv2.cvtColor(rgb8, cv2.COLOR_RGB2BGR))
    (out_dir / "truth.json").write_text(json.dumps([asdict(t) for t in truths]))
    stamp.write_text(_stamp(seed))
    return _load(out_dir)
