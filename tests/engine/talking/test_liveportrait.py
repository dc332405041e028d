"""The liveportrait backend with six generated ONNX models of the export's input/output names, shapes and
dtypes, on the kit's photo, through real ONNX Runtime sessions of the engine's pool."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from layer_desktop.engine.faces import FaceAnalyzer, load_image
from layer_desktop.engine.faces.types import Face
from layer_desktop.engine.lipsync.driver import mouth_track
from layer_desktop.engine.lipsync.mel import RATE
from layer_desktop.engine.models import ModelStore, load_manifest
from layer_desktop.engine.models.pool import InferencePool
from layer_desktop.engine.talking.liveportrait import LIP_OPEN_RATIO, MODEL_IDS, LivePortraitAnimator
from layer_desktop.engine.talking.liveportrait_geometry import Motion, as_face, face_ratios, rotation
from layer_desktop.engine.voice.speech import Timing
from layer_desktop.errors import ImageError, ModelError, ModelNotFoundError
from tests.conftest import SHARED_MEDIA

F = TensorProto.FLOAT
KP = [1, 21, 3]
PAD = (260, 140)  # the photo sits at this offset in a larger canvas, so the crop does not reach the edges
# the retargeters' delta direction: y of the lower keypoints up (negative), a positive sum overall
DELTA = np.linspace(0.01, 0.05, 63).astype(np.float32)


def _init(name: str, value: Any, dtype: Any = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype), name)


def _save(path: Path, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
          outputs: list[onnx.ValueInfoProto], inits: list[onnx.TensorProto]) -> None:  # fmt: skip
    model = helper.make_model(helper.make_graph(nodes, path.stem, inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 13)])  # fmt: skip
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _image_in() -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("input", F, [1, 3, 256, 256])


def feature_extractor(path: Path) -> None:
    """(1,3,256,256) → (1,32,16,64,64): the 4x4-pooled grey image, repeated."""
    nodes = [
        helper.make_node("AveragePool", ["input"], ["pooled"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("ReduceMean", ["pooled"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("Unsqueeze", ["grey", "axis1"], ["grey5"]),
        helper.make_node("Expand", ["grey5", "shape"], ["feature_volume"]),
    ]
    inits = [_init("axis1", [1], np.int64), _init("shape", [1, 32, 16, 64, 64], np.int64)]
    out = helper.make_tensor_value_info("feature_volume", F, [1, 32, 16, 64, 64])
    _save(path, nodes, [_image_in()], [out], inits)


def motion_extractor(path: Path) -> None:
    """(1,3,256,256) → pitch, yaw, roll, scale (1,1), translation (1,3), expression, motion points
    (1,21,3), each an affine function of the image's mean."""
    rng = np.random.default_rng(3)
    consts = {
        "pitch": ([1, 1], 4.0, np.zeros((1, 1))),
        "yaw": ([1, 1], -6.0, np.zeros((1, 1))),
        "roll": ([1, 1], 2.0, np.zeros((1, 1))),
        "scale": ([1, 1], 0.1, np.ones((1, 1))),
        "translation": ([1, 3], 0.01, np.array([[0.01, -0.02, 0.0]])),
        "expression": (KP, 0.01, rng.normal(0, 0.01, KP)),
        "motion_points": (KP, 0.0, rng.uniform(-0.6, 0.6, KP)),
    }
    nodes = [helper.make_node("ReduceMean", ["input"], ["mean"], keepdims=1)]
    inits, outputs = [], []
    for name, (shape, gain, base) in consts.items():
        nodes += [
            helper.make_node("Reshape", ["mean", f"{name}_shape1"], [f"{name}_m"]),
            helper.make_node("Mul", [f"{name}_m", f"{name}_gain"], [f"{name}_g"]),
            helper.make_node("Add", [f"{name}_g", f"{name}_base"], [name]),
        ]
        inits += [
            _init(f"{name}_shape1", [1] * len(shape), np.int64),
            _init(f"{name}_gain", [gain]),
            _init(f"{name}_base", base),
        ]
        outputs.append(helper.make_tensor_value_info(name, F, shape))
    _save(path, nodes, [_image_in()], outputs, inits)


def retargeter(path: Path, width: int) -> None:
    """(1, width) → (1,63) = (target ratio − mean of the photo's ratios) × DELTA."""
    weights = np.zeros((width, 63), np.float32)
    weights[width - 1] = DELTA
    weights[63 : width - 1] = -DELTA / (width - 64)
    nodes = [helper.make_node("MatMul", ["input", "weights"], ["delta"])]
    _save(path, nodes, [helper.make_tensor_value_info("input", F, [1, width])],
          [helper.make_tensor_value_info("delta", F, [1, 63])], [_init("weights", weights)])  # fmt: skip


def stitcher(path: Path) -> None:
    """source, target (1,21,3) → source + 0.1 (target − source)."""
    nodes = [
        helper.make_node("Sub", ["target", "source"], ["diff"]),
        helper.make_node("Mul", ["diff", "tenth"], ["pull"]),
        helper.make_node("Add", ["source", "pull"], ["stitched"]),
    ]
    inputs = [helper.make_tensor_value_info(n, F, KP) for n in ("source", "target")]
    _save(path, nodes, inputs, [helper.make_tensor_value_info("stitched", F, KP)], [_init("tenth", [0.1])])


def generator(path: Path) -> None:
    """feature_volume, source, target → (1,3,512,512):
    grey 0.5 + Σ(source − target) / 2 + 0.1 mean(volume), tinted."""
    nodes = [
        helper.make_node("Sub", ["source", "target"], ["moved"]),
        helper.make_node("ReduceSum", ["moved"], ["total"], keepdims=0),
        helper.make_node("ReduceMean", ["feature_volume"], ["look"], keepdims=0),
        helper.make_node("Mul", ["total", "half"], ["t2"]),
        helper.make_node("Mul", ["look", "tenth"], ["l1"]),
        helper.make_node("Add", ["t2", "l1"], ["level0"]),
        helper.make_node("Add", ["level0", "base"], ["level"]),
        helper.make_node("Expand", ["level", "shape"], ["flat"]),
        helper.make_node("Add", ["flat", "tint"], ["image"]),
    ]
    inits = [
        _init("half", 0.5), _init("tenth", 0.1), _init("base", 0.5),
        _init("shape", [1, 3, 512, 512], np.int64),
        _init("tint", np.array([0.1, 0.0, -0.1]).reshape(1, 3, 1, 1)),
    ]  # fmt: skip
    inputs = [
        helper.make_tensor_value_info("feature_volume", F, [1, 32, 16, 64, 64]),
        helper.make_tensor_value_info("source", F, KP),
        helper.make_tensor_value_info("target", F, KP),
    ]
    _save(path, nodes, inputs, [helper.make_tensor_value_info("image", F, [1, 3, 512, 512])], inits)


BUILDERS = {
    "feature_extractor": feature_extractor,
    "motion_extractor": motion_extractor,
    "eye_retargeter": lambda p: retargeter(p, 66),
    "lip_retargeter": lambda p: retargeter(p, 65),
    "stitcher": stitcher,
    "generator": generator,
}


def install(models_dir: Path, roles: Sequence[str]) -> ModelStore:
    models_dir.mkdir(parents=True, exist_ok=True)
    for role in roles:
        BUILDERS[role](models_dir / f"{MODEL_IDS[role]}.onnx")
    return ModelStore(load_manifest(), models_dir=models_dir)


class Recorded:
    """A real ONNX Runtime session that keeps a copy of every feed it runs."""

    calls: ClassVar[dict[str, list[dict[str, np.ndarray]]]] = defaultdict(list)

    def __init__(self, path: Path, providers: Sequence[str]) -> None:
        self.inner = ort.InferenceSession(str(path), providers=list(providers))
        self.name = path.stem

    def get_providers(self) -> list[str]:
        return list(self.inner.get_providers())

    def run(self, names: Any, feed: dict[str, np.ndarray]) -> Any:
        Recorded.calls[self.name].append({k: np.array(v, copy=True) for k, v in feed.items()})
        return self.inner.run(names, feed)


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, Face]:
    rgb = load_image(SHARED_MEDIA / "faces" / "astronaut.png")
    face = FaceAnalyzer.default().detect_one(rgb)
    assert face is not None and face.landmarks is not None
    h, w = rgb.shape[:2]
    canvas = np.full((h + 2 * PAD[1], w + 2 * PAD[0], 3), 90, np.uint8)
    canvas[PAD[1] : PAD[1] + h, PAD[0] : PAD[0] + w] = rgb
    ox, oy = PAD
    moved = replace(
        face,
        bbox=(face.bbox[0] + ox, face.bbox[1] + oy, face.bbox[2] + ox, face.bbox[3] + oy),
        keypoints=face.keypoints + np.array([ox, oy], np.float32),
        landmarks=face.landmarks + np.array([ox, oy, 0], np.float32),
    )
    return canvas, moved


def test_missing_models_are_named_with_the_fetch_command(tmp_path: Path) -> None:
    store = install(
        tmp_path / "models", ["feature_extractor", "motion_extractor", "stitcher", "lip_retargeter"]
    )
    with pytest.raises(ModelNotFoundError) as info:
        LivePortraitAnimator(store)
    text = f"{info.value} {info.value.hint}"
    assert "`layer models fetch live_portrait_generator`" in info.value.hint
    assert "`layer models fetch live_portrait_eye_retargeter`" in info.value.hint
    assert "live_portrait_stitcher" not in text and "live_portrait_feature_extractor" not in text


def test_the_manifest_lists_the_six_models_with_their_licence_and_signatures() -> None:
    manifest = load_manifest()
    for model_id in MODEL_IDS.values():
        spec = manifest.get(model_id)
        assert spec.backend == "onnx" and spec.licence.commercial_use and "MIT" in spec.licence.name
        assert spec.urls[0].endswith(f"/models-3.0.0/{model_id}.onnx")
    assert manifest.get("live_portrait_lip_retargeter").inputs[0].shape == (1, 65)
    assert manifest.get("live_portrait_eye_retargeter").inputs[0].shape == (1, 66)
    assert [t.name for t in manifest.get("live_portrait_generator").inputs] == [
        "feature_volume",
        "source",
        "target",
    ]
    assert manifest.get("live_portrait_generator").outputs[0].shape == (1, 3, 512, 512)
    assert len(manifest.get("live_portrait_motion_extractor").outputs) == 7


def test_mouth_and_blink_curves_drive_the_retargeters_and_the_face_is_pasted_back(
    tmp_path: Path, photo: tuple[np.ndarray, Face]
) -> None:
    rgb, face = photo
    store = install(tmp_path / "models", list(MODEL_IDS))
    Recorded.calls.clear()
    animator = LivePortraitAnimator(
        store, pool=InferencePool(store.resolve, session_factory=Recorded), device="cpu"
    )
    mouth = [0.0, 1.0, 0.5, 0.0]
    eyes = [1.0, 1.0, 1.0, 0.0]  # the last frame blinks
    frames = list(animator.animate(rgb, face, mouth, eyes))

    assert len(frames) == 4 and all(f.shape == rgb.shape and f.dtype == np.uint8 for f in frames)
    calls = Recorded.calls
    assert (
        len(calls["live_portrait_feature_extractor"]) == 1
        and len(calls["live_portrait_motion_extractor"]) == 1
    )
    lip = np.stack([c["input"][0] for c in calls["live_portrait_lip_retargeter"]])
    eye = np.stack([c["input"][0] for c in calls["live_portrait_eye_retargeter"]])
    assert lip.shape == (4, 65) and eye.shape == (4, 66)
    left, right, lip_ratio = face_ratios(face)
    assert (
        0.0 <= lip_ratio < 0.3 and 0.1 < left < 0.6 and 0.1 < right < 0.6
    )  # the astronaut's mouth is closed
    np.testing.assert_allclose(lip[:, 63], lip_ratio, rtol=1e-5)  # the photo's own ratio
    np.testing.assert_allclose(lip[:, 64], np.array(mouth) * LIP_OPEN_RATIO, atol=1e-6)
    assert lip[1, 64] > lip[2, 64] > lip[0, 64] == lip[3, 64]  # open > half > closed
    np.testing.assert_array_equal(lip[:, :63], np.repeat(lip[:1, :63], 4, axis=0))  # the photo's keypoints
    np.testing.assert_allclose(eye[:, 63:65], np.repeat([[left, right]], 4, axis=0), rtol=1e-5)
    np.testing.assert_allclose(eye[:3, 65], (left + right) / 2, rtol=1e-5)  # open: the photo's own eyes
    assert eye[3, 65] == 0.0  # the blink asks for shut eyes
    stitched = calls["live_portrait_stitcher"]
    moved = [float(np.abs(c["source"] - c["target"]).max()) for c in stitched]
    assert moved[1] > 5 * moved[0] and moved[1] > 0.005  # the open mouth moves the keypoints far more

    # pixels outside the pasted crop are the photo's, exactly; inside, the face follows the mouth
    prep = animator.prepare(rgb, face)
    outside = np.ones(rgb.shape[:2], bool)
    outside[prep.paste.rect.slices()] = prep.paste.mask <= 0.0
    lm = np.asarray(face.landmarks)
    assert outside.mean() > 0.4 and not outside[lm[:, 1].astype(int), lm[:, 0].astype(int)].any()
    for f in frames:
        np.testing.assert_array_equal(f[outside], rgb[outside])
    inner = np.zeros(rgb.shape[:2], bool)
    inner[prep.paste.rect.slices()] = prep.paste.mask > 0.99
    closed, opened, blink = (frames[i][inner].astype(int) for i in (0, 1, 3))
    assert opened.mean() > closed.mean() + 10  # the generated model brightens with the lip delta
    assert np.abs(blink - closed).mean() > 3  # and the blink changed the face too
    assert np.abs(closed - rgb[inner].astype(int)).mean() > 10  # the face region is the generator's


def test_bad_faces_and_curves_are_clear_errors(tmp_path: Path, photo: tuple[np.ndarray, Face]) -> None:
    rgb, face = photo
    store = install(tmp_path / "models", list(MODEL_IDS))
    animator = LivePortraitAnimator(store, device="cpu")
    with pytest.raises(ImageError, match="empty"):
        next(animator.animate(rgb, face, [], [1.0]))
    with pytest.raises(ImageError, match="468 Face Mesh"):
        as_face(np.zeros((7, 2)))
    with pytest.raises(ImageError, match="8-bit RGB"):
        next(animator.animate(rgb.astype(np.float32), face, [0.5], [1.0]))
    box = (face.bbox[0], face.bbox[1], face.bbox[2], face.bbox[3])
    frames = list(animator.animate(rgb, box, [0.0, 1.0], [1.0]))  # a box is enough; eyes stretched to 2
    assert len(frames) == 2 and frames[0].shape == rgb.shape


def test_the_lip_retargeter_follows_the_viseme_curve(tmp_path: Path, photo: tuple[np.ndarray, Face]) -> None:
    """'m aa m aa' at 25 fps: the target lip ratio is shut on the bilabials, wide on the open vowels."""
    rgb, face = photo
    store = install(tmp_path / "models", list(MODEL_IDS))
    Recorded.calls.clear()
    animator = LivePortraitAnimator(
        store, pool=InferencePool(store.resolve, session_factory=Recorded), device="cpu"
    )
    phones = [
        Timing("m", 0.0, 0.32),
        Timing("aa", 0.32, 0.64),
        Timing("m", 0.64, 0.96),
        Timing("aa", 0.96, 1.28),
    ]
    frames = 32
    track = mouth_track(np.zeros(RATE * 2, np.float32), 25.0, frames, phonemes=phones)
    blink = np.zeros(frames)
    blink[20:23] = 1.0  # one blink
    out = list(animator.animate_track(rgb, face, track, blink))
    assert len(out) == frames
    target = np.array([c["input"][0, 64] for c in Recorded.calls["live_portrait_lip_retargeter"]])
    eye_target = np.array([c["input"][0, 65] for c in Recorded.calls["live_portrait_eye_retargeter"]])
    bilabial = [2, 3, 4, 18, 19]  # inside the 'm's, clear of their edges and the closure lead
    vowel = [10, 11, 12, 27, 28]
    assert target[bilabial].max() < 0.05 and target[vowel].min() > 0.8
    assert eye_target[20:23].max() == 0.0 and eye_target[:20].min() > 0.1


def test_keypoints_are_posed_as_liveportrait_poses_them() -> None:
    """R = extrinsic x-y-z Euler (pitch, yaw, roll degrees), kp = scale (points R^T + expression) + t."""
    from scipy.spatial.transform import Rotation

    angles = (12.0, -25.0, 7.5)
    np.testing.assert_allclose(
        rotation(*angles), Rotation.from_euler("xyz", angles, degrees=True).as_matrix(), atol=1e-6
    )
    rng = np.random.default_rng(0)
    points, expression = rng.normal(size=(1, 21, 3)), rng.normal(0, 0.01, (1, 21, 3))
    motion = Motion(*angles, np.array([[1.3]]), np.array([[0.1, -0.2, 0.05]]), expression, points)  # type: ignore[arg-type]
    rot = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
    np.testing.assert_allclose(
        motion.keypoints(), 1.3 * (points @ rot.T + expression) + [0.1, -0.2, 0.05], atol=1e-5
    )
    turned = Rotation.from_euler("xyz", (14.0, -25.0, 7.5), degrees=True).as_matrix()
    np.testing.assert_allclose(
        motion.keypoints((2.0, 0.0, 0.0)),
        1.3 * (points @ turned.T + expression) + [0.1, -0.2, 0.05],
        atol=1e-5,
    )


def test_a_model_of_another_signature_is_a_clear_error(
    tmp_path: Path, photo: tuple[np.ndarray, Face]
) -> None:
    rgb, face = photo
    store = install(tmp_path / "models", list(MODEL_IDS))
    retargeter(
        store.models_dir / "live_portrait_stitcher.onnx", 65
    )  # a lip retargeter under the stitcher's name
    animator = LivePortraitAnimator(store, device="cpu")
    with pytest.raises(ModelError, match="stitcher model failed") as info:
        next(animator.animate(rgb, face, [0.5], [1.0]))
    assert "`layer models fetch live_portrait_stitcher`" in info.value.hint


def test_layer_talk_with_the_liveportrait_animator(tmp_path: Path, layer_home: Path) -> None:
    """`layer talk --animator liveportrait`: the six models make each frame's face from the talking
    head's viseme and blink curves; without them the command names what to fetch and writes nothing."""
    import itertools

    import av

    from layer_desktop.cli import main
    from layer_desktop.paths import app_paths
    from tests.clips import decode

    out = tmp_path / "lp.mp4"
    args = ["talk", "--photo", str(SHARED_MEDIA / "faces" / "grace_hopper.jpg"), "--script", "Bob ate a pie.",
            "--size", "192", "--animator", "liveportrait", "-o", str(out)]  # fmt: skip
    assert main(args) == 2 and not out.exists()  # no models yet: a clear error (the bad-argument table)
    install(app_paths().models_dir, list(MODEL_IDS))
    assert main(args) == 0
    frames = decode(out)
    with av.open(str(out)) as c:
        tags = dict(c.metadata)
        seconds = float(c.duration or 0) / 1e6
    assert "liveportrait" in tags["layer_backends"] and "LivePortrait" in tags["layer_animator"]
    assert abs(len(frames) - round(seconds * 25)) <= 1
    changes = [float(np.abs(a.astype(int) - b.astype(int)).mean()) for a, b in itertools.pairwise(frames)]
    assert max(changes) > 0.5  # the generated face moves with the curves
