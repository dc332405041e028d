"""The transform job: a persona applied to a whole video (faces → plan → chunked render → review)."""

from __future__ import annotations

from layer_desktop.engine.pipeline.job import (
    Job,
    TransformReport,
    load_job,
    rerender_job,
    review,
    run_transform,
)
from layer_desktop.engine.pipeline.records import FLAGS, FrameRecord
from layer_desktop.engine.pipeline.spec import Disclosure, Output, Segment, TransformSpec, parse_face

__all__ = [
    "FLAGS",
    "Disclosure",
    "FrameRecord",
    "Job",
    "Output",
    "Segment",
    "TransformReport",
    "TransformSpec",
    "load_job",
    "parse_face",
    "rerender_job",
    "review",
    "run_transform",
]
