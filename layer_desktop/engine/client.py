"""The one client of the engine API (httpx), wherever the engine runs: a local child process, a remote
GPU box through an SSH tunnel, or a server thread in this process (tests, the CLI's ``--engine``).

    client = EngineClient(Endpoint("http://127.0.0.1:8765", token))
    job = client.submit_transform(spec)           # links or uploads the source, syncs the persona
    for event in client.events(job.job_id): ...   # re-attaches after a dropped connection
    client.download(job.job_id, "out.mp4")        # resumes with Range

Connection errors are retried with backoff, reading the endpoint again each time (a restarted local
engine has a new port and token). Engine errors come back as the same ``LayerError`` classes the engine
raised, with their messages and hints.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from layer_desktop import errors
from layer_desktop.engine.hashing import sha256_file
from layer_desktop.engine.personas import PersonaStore, export_persona
from layer_desktop.engine.pipeline.spec import TransformSpec
from layer_desktop.engine.server import limits
from layer_desktop.engine.server.schemas import (
    Capabilities,
    JobEvent,
    JobInfo,
    MediaInfo,
    PersonaSummary,
    PreviewRequest,
    RerenderRequest,
    UploadStatus,
    media_ref,
)
from layer_desktop.engine.talking.spec import TalkSpec
from layer_desktop.errors import (
    EngineAuthError,
    EngineRequestError,
    EngineUnavailableError,
    JobFailedError,
    LayerError,
)

log = logging.getLogger(__name__)

UPLOAD_CHUNK = limits.MAX_CHUNK_BYTES  # bytes per upload PUT (streamed)
_PIECE = 1024**2  # read, sent and reported in pieces of this size
_RETRYABLE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    httpx.ReadTimeout,
    httpx.WriteError,
)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)  # safe to retry even for a non-idempotent request


@dataclass(frozen=True)
class Endpoint:
    url: str  # http://127.0.0.1:PORT
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"Endpoint({self.url!r}, token=…)"


EndpointSource = Endpoint | Callable[[], Endpoint]
EventHandler = Callable[[JobEvent], None]


class EngineClient:
    def __init__(
        self,
        endpoint: EndpointSource,
        *,
        timeout: float = 30.0,
        retries: int = 6,
        backoff: float = 0.25,
        upload_chunk: int = UPLOAD_CHUNK,
    ) -> None:
        self._endpoint = endpoint
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.upload_chunk = upload_chunk  # bytes per PUT; the engine commits every 1 MiB of each
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint() if callable(self._endpoint) else self._endpoint

    # ------------------------------------------------------------------ plumbing

    def _send(self, method: str, path: str, *, idempotent: bool = True, **kw: Any) -> httpx.Response:
        delay, last_exc = self.backoff, None
        extra_headers = kw.pop("headers", {})
        for attempt in range(self.retries + 1):
            try:
                ep = self.endpoint
                headers = {"Authorization": f"Bearer {ep.token}", **extra_headers}
                response = self._http.request(method, ep.url + path, headers=headers, **kw)
            except _RETRYABLE as exc:
                if not idempotent and not isinstance(exc, _NOT_SENT):
                    raise EngineUnavailableError(
                        f"The engine dropped the connection during {method} {path}.",
                        hint="Check the job list before retrying.",
                    ) from exc
                last_exc = exc
            except LayerError:
                last_exc = None  # the endpoint source itself failed (engine not started)
                if attempt == self.retries:
                    raise
            else:
                raise_for_error(response)
                return response
            log.debug("engine unreachable (%s); retry %d in %.2fs", last_exc, attempt + 1, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise EngineUnavailableError(f"The engine at {self.endpoint.url} cannot be reached ({last_exc}).")

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        return self._send(method, path, **kw).json()

    # ------------------------------------------------------------------ system

    def health(self) -> dict[str, Any]:
        data: dict[str, Any] = self._json("GET", "/v1/health")
        return data

    def capabilities(self) -> Capabilities:
        return Capabilities.model_validate(self._json("GET", "/v1/capabilities"))

    # ------------------------------------------------------------------ media

    def link(self, path: str | Path) -> MediaInfo:
        return MediaInfo.model_validate(
            self._json("POST", "/v1/media/link", json={"path": str(Path(path).resolve())})
        )

    def upload(self, path: str | Path, progress: Callable[[int, int], None] | None = None) -> MediaInfo:
        """Send a file (resuming any earlier partial upload of the same content); verified by sha256.

        Each PUT streams up to ``upload_chunk`` bytes with no round trip per piece; the engine commits
        them every 1 MiB. A dropped request (or a 409: another request of the same file) asks the
        status and continues from the offset the engine holds. ``progress(offset, size)`` after each
        piece handed to the connection, and with the engine's offset when resuming (a step back is
        what gets sent again)."""
        path = Path(path)
        size, sha = path.stat().st_size, sha256_file(path)
        body = {"sha256": sha, "size": size, "filename": path.name[-255:]}
        at = f"/v1/media/uploads/{sha}"
        status = UploadStatus.model_validate(self._json("POST", "/v1/media/uploads", json=body))
        failures, delay = 0, self.backoff
        with path.open("rb") as fh:
            while not status.complete and status.offset < size:
                start = status.offset
                try:
                    status = self._put_stream(at, fh, start, min(self.upload_chunk, size - start), progress)
                    continue
                except EngineRequestError as exc:
                    if exc.status != 409:
                        raise
                    lost: Exception = exc
                except _RETRYABLE as exc:
                    lost = exc
                status = UploadStatus.model_validate(self._json("GET", at))
                if progress is not None:
                    progress(status.offset, size)  # where the engine holds it: the resume starts here
                log.debug(
                    "upload %s… broke off after %d (%s); resuming at %d", sha[:12], start, lost, status.offset
                )
                if status.offset > start:
                    failures, delay = 0, self.backoff
                    continue
                failures += 1  # nothing gained: no link, or another request is sending the same file
                if failures > max(self.retries, 8):
                    raise EngineUnavailableError(
                        f"The upload of {path.name} keeps breaking off at byte {start} ({lost}).",
                        hint="Check the connection to the engine, then start the upload again.",
                    ) from lost
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        if status.complete:
            return MediaInfo(media_id=sha, size=size, filename=path.name, linked=False)
        return MediaInfo.model_validate(self._json("POST", f"{at}/finish"))

    def _put_stream(
        self, at: str, fh: BinaryIO, offset: int, length: int, progress: Callable[[int, int], None] | None
    ) -> UploadStatus:
        """One PUT of ``length`` bytes of ``fh`` from ``offset``, read and sent in 1 MiB pieces."""
        total = os.fstat(fh.fileno()).st_size

        def pieces() -> Iterator[bytes]:
            fh.seek(offset)
            sent = offset
            while sent < offset + length:
                piece = fh.read(min(_PIECE, offset + length - sent))
                if not piece:
                    raise EngineRequestError("The file got shorter while it was being sent.", status=400)
                yield piece
                sent += len(piece)
                if progress is not None:
                    progress(sent, total)

        try:
            ep = self.endpoint
        except EngineRequestError:
            raise
        except LayerError as exc:  # the endpoint source failed (a tunnel reconnecting): retried
            raise httpx.ConnectError(str(exc)) from exc
        headers = {
            "Authorization": f"Bearer {ep.token}",
            "Content-Type": "application/octet-stream",
            "Content-Length": str(length),
        }
        response = self._http.put(ep.url + at, params={"offset": offset}, content=pieces(), headers=headers)
        raise_for_error(response)
        return UploadStatus.model_validate(response.json())

    def ensure_media(self, path: str | Path) -> MediaInfo:
        """The engine's media id for ``path``: linked in place when the engine may read it, else uploaded."""
        try:
            return self.link(path)
        except EngineRequestError as exc:
            if exc.status not in (400, 403):
                raise
        return self.upload(path)

    # ------------------------------------------------------------------ personas

    def personas(self) -> list[PersonaSummary]:
        return [PersonaSummary.model_validate(p) for p in self._json("GET", "/v1/personas")]

    def sync_persona(self, store: PersonaStore, ref: str) -> PersonaSummary:
        """Make the engine hold the same persona as ``store`` (sent as a bundle when it is missing there
        or older there, e.g. after photos were added or it was renamed)."""
        persona = store.get(ref)
        for p in self.personas():
            if p.id == persona.id and p.updated_at >= persona.updated_at:
                return p
        with tempfile.TemporaryDirectory() as tmp:
            bundle = export_persona(store, persona.id, Path(tmp) / "persona.layerpersona")
            data = bundle.read_bytes()
        return PersonaSummary.model_validate(
            self._json(
                "POST",
                "/v1/personas/bundle",
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        )

    # ------------------------------------------------------------------ jobs

    def submit(self, spec: TransformSpec) -> JobInfo:
        """Submit a spec whose source already is ``media:<sha256>``."""
        body = {"spec": spec.model_dump(mode="json")}
        return JobInfo.model_validate(self._json("POST", "/v1/jobs", json=body, idempotent=False))

    def submit_transform(self, spec: TransformSpec, store: PersonaStore | None = None) -> JobInfo:
        """Submit a local spec: media linked or uploaded, personas synced, paths replaced by media ids."""
        store = store or PersonaStore()
        update: dict[str, Any] = {"source": media_ref(self.ensure_media(spec.source).media_id)}
        if spec.audio not in ("source", "none"):
            update["audio"] = media_ref(self.ensure_media(spec.audio).media_id)
        ids = {spec.persona: self.sync_persona(store, spec.persona).id}
        for seg in spec.segments:
            if seg.persona and seg.persona not in ids:
                ids[seg.persona] = self.sync_persona(store, seg.persona).id
        update["persona"] = ids[spec.persona]
        update["segments"] = tuple(
            s.model_copy(update={"persona": ids[s.persona]}) if s.persona else s for s in spec.segments
        )
        return self.submit(spec.model_copy(update=update))

    def submit_talk(self, spec: TalkSpec) -> JobInfo:
        """Submit a talking head whose photo/audio already are ``media:<sha256>`` (``talking.remote``)."""
        body = {"spec": spec.model_dump(mode="json")}
        return JobInfo.model_validate(self._json("POST", "/v1/talk-jobs", json=body, idempotent=False))

    def jobs(self) -> list[JobInfo]:
        return [JobInfo.model_validate(j) for j in self._json("GET", "/v1/jobs")]

    def job(self, job_id: str) -> JobInfo:
        return JobInfo.model_validate(self._json("GET", f"/v1/jobs/{job_id}"))

    def cancel(self, job_id: str) -> JobInfo:
        return JobInfo.model_validate(self._json("POST", f"/v1/jobs/{job_id}/cancel"))

    def rerender(self, job_id: str, first: int, last: int, changes: dict[str, str] | None = None) -> JobInfo:
        body = RerenderRequest(first=first, last=last, changes=changes or {}).model_dump()
        return JobInfo.model_validate(
            self._json("POST", f"/v1/jobs/{job_id}/rerender", json=body, idempotent=False)
        )

    def records(self, job_id: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._json("GET", f"/v1/jobs/{job_id}/records")
        return data

    def events(self, job_id: str, after: int = 0, *, follow: bool = True) -> Iterator[JobEvent]:
        """The job's events after ``after``, in order, each exactly once: a dropped stream (or a
        restarted engine) is re-attached from the last event received. Ends when the job ends."""
        delay, failures = self.backoff, 0
        while True:
            try:
                ep = self.endpoint
                headers = {"Authorization": f"Bearer {ep.token}", "Accept": "text/event-stream"}
                params: dict[str, str | int] = {"after": after, "follow": str(follow).lower()}
                timeout = httpx.Timeout(self.timeout, read=60.0)
                with self._http.stream(
                    "GET",
                    f"{ep.url}/v1/jobs/{job_id}/events",
                    params=params,
                    headers=headers,
                    timeout=timeout,
                ) as response:
                    if response.is_error:
                        response.read()
                        raise_for_error(response)
                    for event in parse_sse(response.iter_lines()):
                        failures, delay = 0, self.backoff
                        after = event.id
                        yield event
                return
            except (*_RETRYABLE, EngineUnavailableError) as exc:
                failures += 1
                if failures > self.retries:
                    raise EngineUnavailableError(f"Lost the event stream of job {job_id} ({exc}).") from exc
                log.info("event stream of %s dropped (%s); re-attaching after event %d", job_id, exc, after)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def wait(self, job_id: str, on_event: EventHandler | None = None, after: int = 0) -> JobInfo:
        """Follow the job to its end; raises ``JobFailedError`` (message and hint from the engine)."""
        for event in self.events(job_id, after):
            if on_event is not None:
                on_event(event)
        info = self.job(job_id)
        if info.state == "failed":
            raise JobFailedError(info.error or f"Job {job_id} failed.", hint=info.hint)
        return info

    def download(
        self, job_id: str, dest: str | Path, progress: Callable[[int, int], None] | None = None
    ) -> Path:
        """Fetch the job's video to ``dest`` (via ``dest.part``, resumed with Range after a drop)."""
        dest = Path(dest)
        part = dest.with_name(dest.name + ".part")
        for _ in range(self.retries + 1):
            have = part.stat().st_size if part.exists() else 0
            try:
                if self._fetch(job_id, part, have, progress):
                    os.replace(part, dest)
                    return dest
            except _RETRYABLE as exc:
                log.info("download of %s dropped at %d bytes (%s); resuming", job_id, have, exc)
                time.sleep(self.backoff)
        raise EngineUnavailableError(f"The download of job {job_id}'s result kept failing.")

    def _fetch(self, job_id: str, part: Path, have: int, progress: Callable[[int, int], None] | None) -> bool:
        ep = self.endpoint
        headers = {"Authorization": f"Bearer {ep.token}"}
        if have:
            headers["Range"] = f"bytes={have}-"
        with self._http.stream("GET", f"{ep.url}/v1/jobs/{job_id}/result", headers=headers) as response:
            if response.status_code == 416:  # already complete
                return True
            if response.is_error:
                response.read()
                raise_for_error(response)
            if response.status_code == 200:
                have = 0  # the server ignored the range: start over
            total = have + int(response.headers.get("content-length", "0"))
            with part.open("r+b" if have else "wb") as fh:
                fh.seek(have)
                fh.truncate()
                for chunk in response.iter_bytes(1024 * 1024):
                    fh.write(chunk)
                    have += len(chunk)
                    if progress is not None:
                        progress(have, total)
        return have == total

    # ------------------------------------------------------------------ preview

    def preview(self, request: PreviewRequest) -> bytes:
        return self._send("POST", "/v1/preview", json=request.model_dump(mode="json")).content


def parse_sse(lines: Iterator[str]) -> Iterator[JobEvent]:
    """Events from a ``text/event-stream`` (only ``data`` is read; ``id`` and ``event`` repeat it)."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield JobEvent.model_validate_json("\n".join(data))
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))


def raise_for_error(response: httpx.Response) -> None:
    """Turn an engine error response into the ``LayerError`` it was (or ``EngineRequestError``)."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
        message, hint, kind = str(body["error"]), str(body.get("hint") or ""), str(body.get("type", ""))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        message, hint, kind = f"The engine answered {response.status_code}: {response.text[:200]}", "", ""
    if response.status_code == 401:
        raise EngineAuthError(message)
    cls = getattr(errors, kind, None)
    if (
        inspect.isclass(cls)
        and issubclass(cls, LayerError)
        and cls is not EngineRequestError
        and cls.__init__ is LayerError.__init__
    ):
        raise cls(message, hint=hint or None)
    raise EngineRequestError(message, hint=hint or None, status=response.status_code)
