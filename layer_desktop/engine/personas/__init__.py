"""Personas: a face from several photos, a voice from samples, and a consent record, stored in SQLite
with content-addressed media, and carried between machines as ``.layerpersona`` bundles."""

from __future__ import annotations

from layer_desktop.engine.personas.bundle import ImportResult, export_persona, import_persona
from layer_desktop.engine.personas.create import ConsentInput, Thresholds, check_consent, create_persona
from layer_desktop.engine.personas.edit import detect_faces, extend_persona, rename_persona
from layer_desktop.engine.personas.face_analysis import DefaultFaceBackend, FaceBackend, FaceInput
from layer_desktop.engine.personas.media_store import MediaStore
from layer_desktop.engine.personas.records import Consent, FaceImage, Persona, VoiceSample
from layer_desktop.engine.personas.store import PersonaStore
from layer_desktop.engine.personas.voice import VoiceAnalysis, analyse_voice

__all__ = [
    "Consent",
    "ConsentInput",
    "DefaultFaceBackend",
    "FaceBackend",
    "FaceImage",
    "FaceInput",
    "ImportResult",
    "MediaStore",
    "Persona",
    "PersonaStore",
    "Thresholds",
    "VoiceAnalysis",
    "VoiceSample",
    "analyse_voice",
    "check_consent",
    "create_persona",
    "detect_faces",
    "export_persona",
    "extend_persona",
    "import_persona",
    "rename_persona",
]
