"""A job holds its personas' consent: checked when the job starts and at every chunk.

Deleting a persona a running job uses is allowed (consent may be withdrawn at any time): the job
notices at its next chunk (or, during analysis, when anything fails while the persona is gone), stops
with ``ConsentWithdrawnError`` and removes its partial output — chunks, records, converted voice and
any output file — so nothing made with the withdrawn likeness stays behind.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.personas.records import Consent
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.errors import ConsentWithdrawnError, LayerError, PersonaNotFoundError

log = logging.getLogger(__name__)


def persona_refs(spec: TransformSpec) -> set[str]:
    return {spec.persona} | {s.persona for s in spec.segments if s.persona}


class ConsentWatch:
    """The consent records of ``spec``'s personas as the job started (raises ``PersonaNotFoundError``
    for an unknown persona)."""

    def __init__(self, store: PersonaStore, spec: TransformSpec, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        held = [store.get(ref) for ref in sorted(persona_refs(spec))]
        self.held: dict[str, tuple[str, Consent]] = {p.id: (p.name, p.consent) for p in held}

    def withdrawn(self) -> list[str]:
        """Names of the personas deleted, or whose consent record changed, since the job started."""
        gone = []
        for persona_id, (name, consent) in self.held.items():
            try:
                now = self.store.get(persona_id).consent
            except PersonaNotFoundError:
                now = None
            if now != consent:
                gone.append(name)
        return gone

    def check(self) -> None:
        """Raise ``ConsentWithdrawnError`` when a persona's consent is gone (called at every chunk)."""
        if names := self.withdrawn():
            raise ConsentWithdrawnError(
                f"Persona {', '.join(names)} was deleted or its consent changed while job {self.job_id} "
                "was using it: the job stopped."
            )

    @contextlib.contextmanager
    def stops_job(self, folder: Path, output: Path) -> Iterator[None]:
        """Around the job's work: a failure while consent is withdrawn (a persona photo vanishing mid-
        analysis, the per-chunk check) becomes ``ConsentWithdrawnError``, and the partial output goes."""
        try:
            yield
        except LayerError as exc:
            if not (names := self.withdrawn()):
                raise
            remove_partial_output(folder, output)
            raise ConsentWithdrawnError(
                f"Persona {', '.join(names)} was deleted or its consent changed while job {self.job_id} "
                "was using it: the job stopped and its partial output was removed."
            ) from exc


def remove_partial_output(folder: Path, output: Path) -> None:
    """Delete what the job made: rendered chunks, review records, converted voice, the output file."""
    for sub in ("render", "records"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    for path in (folder / "voice.wav", output, output.with_name(output.name + ".part")):
        path.unlink(missing_ok=True)
    log.info("job folder %s: partial output removed (consent withdrawn)", folder)
