"""Choosing the target face by track id, by click, or by identity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from conftest import pooled_linear_graph

from layer_desktop.engine.faces import (
    ArcFaceEmbedder,
    FaceAnalyzer,
    FaceTracker,
    select_by_embedding,
    select_by_point,
    select_by_track,
)


def test_select_by_track_and_by_click(analyzer: FaceAnalyzer, two_faces_frames: list[np.ndarray]) -> None:
    tracker = FaceTracker(analyzer)
    faces = tracker.update(two_faces_frames[0])
    left = min(faces, key=lambda f: f.center[0])
    assert left.track_id is not None
    assert select_by_track(faces, left.track_id) is left
    assert select_by_track(faces, 99) is None
    assert select_by_point(faces, *left.center) is left  # a click on the astronaut
    right = max(faces, key=lambda f: f.center[0])
    assert select_by_point(faces, right.bbox[2] + 5, right.center[1]) is right  # just beside: margin
    assert select_by_point(faces, 320, 350) is None  # the background


def test_select_by_identity_finds_the_same_person_later(
    analyzer: FaceAnalyzer,
    two_faces_frames: list[np.ndarray],
    make_onnx: Callable[[str, onnx.GraphProto], Path],
) -> None:
    rng = np.random.default_rng(11)
    graph = pooled_linear_graph("input.1", "683", 112, 512, rng.normal(size=(588, 512)), np.zeros(512), 8)
    embedder = ArcFaceEmbedder(make_onnx("w600k_r50", graph))
    first = analyzer.detect(two_faces_frames[0])
    hopper_ref = embedder.embed(two_faces_frames[0], max(first, key=lambda f: f.center[0]))
    later = two_faces_frames[90]
    match = select_by_embedding(later, analyzer.detect(later), embedder, hopper_ref, min_similarity=0.5)
    assert match is not None
    face, similarity = match
    assert face.center[0] > 320 and similarity > 0.9
    assert select_by_embedding(later, analyzer.detect(later), embedder, -hopper_ref) is None
