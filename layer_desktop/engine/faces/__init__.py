"""Face analysis: loading photos, detection, landmarks, tracking, alignment, identity, quality.

The offline default (``FaceAnalyzer.default()``) runs MediaPipe BlazeFace and Face Mesh from the
``.tflite`` files shipped in ``resources/models``; SCRFD, 2d106det, ArcFace and SFace run on ONNX
Runtime from a model path or an injected session. No Qt here.
"""

from __future__ import annotations

from layer_desktop.engine.faces.align import ARCFACE_TEMPLATE, five_points, norm_crop, umeyama
from layer_desktop.engine.faces.analyzer import FaceAnalyzer
from layer_desktop.engine.faces.blazeface import BlazeFaceConfig, BlazeFaceDetector
from layer_desktop.engine.faces.embedders import (
    ArcFaceEmbedder,
    Embedder,
    SFaceEmbedder,
    cosine_similarity,
    l2_normalise,
)
from layer_desktop.engine.faces.image_io import decode_image, load_image
from layer_desktop.engine.faces.landmark106 import Landmark106
from layer_desktop.engine.faces.mesh import FaceMeshLandmarker
from layer_desktop.engine.faces.quality import FaceQuality, face_quality, head_pose
from layer_desktop.engine.faces.scrfd import ScrfdConfig, ScrfdDetector
from layer_desktop.engine.faces.selection import select_by_embedding, select_by_point, select_by_track
from layer_desktop.engine.faces.smoothing import OneEuroFilter, OneEuroParams
from layer_desktop.engine.faces.tracking import FaceTracker, TrackerConfig, TrackerStats
from layer_desktop.engine.faces.types import Detector, Face, Landmarker

__all__ = [
    "ARCFACE_TEMPLATE",
    "ArcFaceEmbedder",
    "BlazeFaceConfig",
    "BlazeFaceDetector",
    "Detector",
    "Embedder",
    "Face",
    "FaceAnalyzer",
    "FaceMeshLandmarker",
    "FaceQuality",
    "FaceTracker",
    "Landmark106",
    "Landmarker",
    "OneEuroFilter",
    "OneEuroParams",
    "SFaceEmbedder",
    "ScrfdConfig",
    "ScrfdDetector",
    "TrackerConfig",
    "TrackerStats",
    "cosine_similarity",
    "decode_image",
    "face_quality",
    "five_points",
    "head_pose",
    "l2_normalise",
    "load_image",
    "norm_crop",
    "select_by_embedding",
    "select_by_point",
    "select_by_track",
    "umeyama",
]
