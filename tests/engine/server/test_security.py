"""The engine's HTTP surface under hostile requests: a real server on 127.0.0.1, raw ``httpx`` (not the
client) so every header is ours. No token, no entry; no path outside the allowed roots; no upload kept
unless its bytes hash right; no body past its limit; nothing malformed reaches a 5xx. Every response
these tests see is checked for the token (it must never come back)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from layer_desktop.engine.personas import PersonaStore
from layer_desktop.engine.server import limits
from layer_desktop.engine.server.home import EngineHome
from layer_desktop.engine.server.inprocess import InProcessEngine
from layer_desktop.engine.server.limits import MAX_BODY_BYTES, MAX_BUNDLE_BYTES, MAX_CHUNK_BYTES

ERROR_KEYS = {"error", "hint", "type"}
DUMMY_ID = "0" * 64  # fits every path parameter's shape (sha256, upload id, job id)


@dataclass
class Rig:
    engine: InProcessEngine
    home: EngineHome
    root: Path  # the one allowed root
    outside: Path  # a folder beside it, not allowed
    http: httpx.Client  # with the token

    @property
    def url(self) -> str:
        return self.engine.endpoint.url

    @property
    def token(self) -> str:
        return self.engine.token

    def media_known(self, sha: str) -> bool:
        r = self.http.get(f"/v1/media/{sha}")
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200

    def kept_files(self) -> list[Path]:
        return sorted(
            p for d in (self.home.uploads_dir, self.home.media_dir) for p in d.rglob("*") if p.is_file()
        )

    def start_upload(self, data: bytes, sha: str | None = None, name: str = "clip.mp4") -> str:
        sha = sha or hashlib.sha256(data).hexdigest()
        r = self.http.post("/v1/media/uploads", json={"sha256": sha, "size": len(data), "filename": name})
        assert r.status_code == 200, r.text
        assert r.json()["offset"] == 0
        return sha


def assert_error(r: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """``r`` has ``status`` and the engine's error body: exactly ``{error, hint, type}``, all text."""
    wanted = (status,) if isinstance(status, int) else status
    assert r.status_code in wanted, f"{r.status_code} {r.text[:300]}"
    body = r.json()
    assert set(body) == ERROR_KEYS and all(isinstance(v, str) and v for v in body.values()), body
    return dict(body)


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line + headers, no blank line) and ``body`` as-is, byte for byte (no URL
    normalisation, any Content-Length); returns the status and the response body."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\nConnection: close\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    root, outside = tmp_path / "allowed", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    home = EngineHome(tmp_path / "engine")
    personas = PersonaStore(tmp_path / "app" / "layer.sqlite3", tmp_path / "app" / "media")
    engine = InProcessEngine(home, allowed_roots=[root], personas=personas).start()
    token = engine.token

    def no_token_in(response: httpx.Response) -> None:
        response.read()
        assert token not in response.text
        assert all(token not in v for v in response.headers.values())

    http = httpx.Client(
        base_url=engine.endpoint.url,
        headers={"Authorization": f"Bearer {token}"},
        event_hooks={"response": [no_token_in]},
        timeout=30,
    )
    try:
        yield Rig(engine, home, root, outside, http)
        # whatever a test threw at it, the engine still answers
        assert http.get("/v1/health").status_code == 200
    finally:
        http.close()
        engine.stop()


# ---------------------------------------------------------------- the token


def operations(rig: Rig) -> list[tuple[str, str]]:
    """(method, path) of every operation in the app's OpenAPI schema, path parameters filled in."""
    paths: dict[str, dict[str, Any]] = rig.engine.app.openapi()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", DUMMY_ID, path))
        for path, item in paths.items()
        for method in item
        if method in ("get", "post", "put", "delete", "patch")
    ]


def bad_credentials(token: str) -> list[str | None]:
    wrong = "x" * len(token)
    return [
        None,
        "",
        "Bearer",
        f"Bearer {wrong}",
        f"Bearer {token[:-1]}",
        f"Bearer {token}x",
        f"Bearer  {token}",
        f"bearer {token}",
        f"Basic {token}",
        token,
    ]


def test_every_operation_and_unknown_path_refuses_a_missing_or_wrong_token(rig: Rig) -> None:
    ops = operations(rig)
    assert len(ops) >= 15 and ("POST", "/v1/media/link") in ops
    unknown = [("GET", "/"), ("GET", "/v1/nope"), ("GET", "/v1/openapi.json"), ("GET", "/docs"),
               ("DELETE", "/v1/health"), ("POST", "/v1/jobs/x/delete")]  # fmt: skip
    inside = rig.root / "clip.bin"
    inside.write_bytes(b"inside the root")
    bodies = {"/v1/media/link": {"path": str(inside)},
              "/v1/media/uploads": {"sha256": DUMMY_ID, "size": 5, "filename": "a.mp4"}}  # fmt: skip
    with httpx.Client(base_url=rig.url, timeout=30) as anon:
        for auth in bad_credentials(rig.token):
            headers = {} if auth is None else {"Authorization": auth}
            for method, path in ops + unknown:
                r = anon.request(method, path, headers=headers, json=bodies.get(path, {}))
                body = assert_error(r, 401)
                assert body["type"] == "EngineAuthError", (method, path)
                assert r.headers["www-authenticate"] == "Bearer"
                assert rig.token not in r.text
    # none of those requests did anything
    assert not rig.media_known(sha_of(inside))
    assert rig.kept_files() == []
    assert rig.http.get("/v1/jobs").json() == []


def test_the_right_token_opens_every_operation(rig: Rig) -> None:
    for method, path in operations(rig):
        r = rig.http.request(method, path, content=b"{}", headers={"Content-Type": "application/json"})
        assert r.status_code != 401 and r.status_code < 500, (method, path, r.text)


def test_responses_never_carry_the_token(rig: Rig) -> None:
    # the Rig's client checks every response; these are the ones most likely to echo something back
    for path in ("/v1/health", "/v1/capabilities", "/v1/personas", "/v1/openapi.json", "/v1/jobs"):
        assert rig.http.get(path).status_code == 200
    assert_error(rig.http.post("/v1/media/link", json={"path": rig.token}), 400)
    assert_error(rig.http.post("/v1/media/link", json={"path": f"/{rig.token}"}), 403)
    assert_error(rig.http.get(f"/v1/jobs/{rig.token}"), 404)
    assert_error(rig.http.get(f"/v1/media/{rig.token}"), 404)
    token_file = rig.home.token_file
    assert_error(rig.http.post("/v1/media/link", json={"path": str(token_file)}), 403)


# ---------------------------------------------------------------- linking files in place


def test_link_refuses_paths_outside_the_allowed_roots_without_reading_them(rig: Rig) -> None:
    secret = rig.root.parent / "secret.txt"
    secret.write_bytes(b"the engine must not read this")
    nested = rig.outside / "nested.txt"
    nested.write_bytes(b"nor this")
    (rig.root / "link_to_secret").symlink_to(secret)
    (rig.root / "link_to_outside").symlink_to(rig.outside, target_is_directory=True)
    sibling = Path(f"{rig.root}2")  # shares the root's prefix as a string, not as a folder
    sibling.mkdir()
    (sibling / "near.txt").write_bytes(b"nor this either")
    refused = {
        "/etc/passwd": Path("/etc/passwd"),
        f"{rig.root}/../secret.txt": secret,
        f"{rig.root}/../../{secret.parent.name}/secret.txt": secret,
        str(rig.root / "link_to_secret"): secret,
        str(rig.root / "link_to_outside" / "nested.txt"): nested,
        str(sibling / "near.txt"): sibling / "near.txt",
        str(rig.home.database): rig.home.database,
    }
    for raw, target in refused.items():
        body = assert_error(rig.http.post("/v1/media/link", json={"path": raw}), 403)
        assert "outside" in body["error"] and raw not in body["error"]
        if os.access(target, os.R_OK):
            assert not rig.media_known(sha_of(target)), raw
    # a missing file outside looks the same as a present one: no probing of the engine's disk
    assert_error(rig.http.post("/v1/media/link", json={"path": "/no/such/file.mp4"}), 403)
    assert_error(rig.http.post("/v1/media/link", json={"path": f"{rig.root}/../nope.txt"}), 403)


@pytest.mark.parametrize("raw", ["secret.txt", "../secret.txt", "./clip.mp4", "~/clip.mp4", "C:clip.mp4"])
def test_link_refuses_relative_paths(rig: Rig, raw: str) -> None:
    assert_error(rig.http.post("/v1/media/link", json={"path": raw}), 400)


def test_link_inside_the_root_reads_the_file_in_place(rig: Rig) -> None:
    clip = rig.root / "sub" / "clip.mp4"
    clip.parent.mkdir()
    clip.write_bytes(os.urandom(100_000))
    (rig.root / "alias.mp4").symlink_to(clip)  # a link that stays inside is fine
    want = hashlib.sha256(clip.read_bytes()).hexdigest()
    for raw in (str(clip), str(rig.root / "alias.mp4"), f"{rig.root}/sub/../sub/clip.mp4"):
        r = rig.http.post("/v1/media/link", json={"path": raw})
        assert r.status_code == 200, r.text
        assert r.json() == {"media_id": want, "size": 100_000, "filename": "clip.mp4", "linked": True}
    assert rig.http.get(f"/v1/media/{want}").json()["media_id"] == want
    assert rig.kept_files() == []  # read in place, not copied
    assert_error(rig.http.post("/v1/media/link", json={"path": str(rig.root / "missing.mp4")}), 404)
    assert_error(rig.http.post("/v1/media/link", json={"path": str(rig.root / "sub")}), 404)
    assert_error(rig.http.post("/v1/media/link", json={"path": f"{rig.root}/a\x00b"}), 404)


# ---------------------------------------------------------------- uploads


def test_upload_with_a_wrong_hash_is_refused_and_nothing_is_kept(rig: Rig) -> None:
    data = os.urandom(50_000)
    claimed = hashlib.sha256(b"something else").hexdigest()
    rig.start_upload(data, sha=claimed)
    assert rig.http.put(f"/v1/media/uploads/{claimed}", params={"offset": 0}, content=data).json()[
        "offset"
    ] == len(data)
    body = assert_error(rig.http.post(f"/v1/media/uploads/{claimed}/finish"), 422)
    assert "nothing was kept" in body["error"]
    assert rig.kept_files() == []
    assert not rig.media_known(claimed)
    assert not rig.media_known(hashlib.sha256(data).hexdigest())
    assert_error(rig.http.get(f"/v1/media/uploads/{claimed}"), 404)  # the upload itself is gone


def test_upload_resumes_at_its_offset_and_refuses_wrong_offsets_and_extra_bytes(rig: Rig) -> None:
    data = os.urandom(300_000)
    sha = rig.start_upload(data)
    at = f"/v1/media/uploads/{sha}"
    assert rig.http.put(at, params={"offset": 0}, content=data[:100_000]).json()["offset"] == 100_000
    for wrong in (0, 50_000, 100_001, 300_000):
        body = assert_error(rig.http.put(at, params={"offset": wrong}, content=data[wrong:][:10]), 409)
        assert "100000" in body["error"]  # the refusal names where the upload really is
    assert_error(rig.http.post(f"{at}/finish"), 409)  # not all there yet
    # a dropped client asks where it was and continues from there
    offset = rig.http.get(at).json()["offset"]
    assert offset == 100_000
    assert rig.http.put(at, params={"offset": offset}, content=data[offset:200_000]).status_code == 200
    body = assert_error(rig.http.put(at, params={"offset": 200_000}, content=data[200_000:] + b"!"), 413)
    assert "declared size" in body["error"]
    assert rig.http.get(at).json()["offset"] == 200_000  # the refused chunk left nothing behind
    assert rig.http.put(at, params={"offset": 200_000}, content=data[200_000:]).json()["offset"] == 300_000
    r = rig.http.post(f"{at}/finish")
    assert r.status_code == 200, r.text
    assert r.json() == {"media_id": sha, "size": 300_000, "filename": "clip.mp4", "linked": False}
    [kept] = rig.kept_files()
    assert kept.read_bytes() == data
    again = rig.http.post("/v1/media/uploads", json={"sha256": sha, "size": len(data), "filename": "x.mp4"})
    assert again.json()["complete"] is True


@pytest.mark.parametrize("name", ["a/b.mp4", "../b.mp4", "/etc/passwd", "a\\b.mp4", "..", ".", "a\x00.mp4"])
def test_upload_start_refuses_names_with_folders(rig: Rig, name: str) -> None:
    r = rig.http.post("/v1/media/uploads", json={"sha256": DUMMY_ID, "size": 5, "filename": name})
    assert_error(r, 422)
    assert rig.kept_files() == []


def test_upload_ids_with_path_traversal_are_not_found(rig: Rig) -> None:
    data = b"x" * 10
    sha = rig.start_upload(data)
    before = sorted(p for p in rig.home.root.rglob("*"))
    for bad in ("..%2F..%2Fengine.sqlite3", "%2E%2E%2Ftoken", "..%2F" + sha, "%2E%2E", sha + "%2F.."):
        for method, suffix in (("GET", ""), ("PUT", "?offset=0"), ("POST", "/finish")):
            r = rig.http.request(method, httpx.URL(f"{rig.url}/v1/media/uploads/{bad}{suffix}"), content=data)
            assert_error(r, 404)
    # dot segments sent byte for byte (httpx would resolve them before sending)
    auth = f"Authorization: Bearer {rig.token}"
    for target in (f"/v1/media/uploads/../../{sha}", f"/v1/media/uploads/{sha}/../../../token"):
        status, _ = raw_request(rig.engine.port, f"GET {target} HTTP/1.1\r\nHost: x\r\n{auth}")
        assert status == 404
        status, _ = raw_request(
            rig.engine.port,
            f"PUT {target}?offset=0 HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: 10",
            data,
        )
        assert status == 404
    assert sorted(p for p in rig.home.root.rglob("*")) == before
    assert rig.http.get(f"/v1/media/uploads/{sha}").json()["offset"] == 0


# ---------------------------------------------------------------- sizes


def test_json_bodies_over_a_mebibyte_are_refused(rig: Rig) -> None:
    padded = b'{"path": "/x"' + b" " * MAX_BODY_BYTES + b"}"
    for path in ("/v1/media/link", "/v1/jobs", "/v1/media/uploads", f"/v1/jobs/{DUMMY_ID}/rerender"):
        r = rig.http.post(path, content=padded, headers={"Content-Type": "application/json"})
        assert_error(r, 413)
    # the same body without a Content-Length (chunked) is counted as it arrives
    chunks = iter([b'{"path": "/x"', *([b" " * 65536] * 20), b"}"])
    r = rig.http.post("/v1/media/link", content=chunks, headers={"Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413)


def test_declared_sizes_over_the_real_limits_are_refused_before_any_byte_is_read(rig: Rig) -> None:
    sha = rig.start_upload(b"y" * 100)
    auth = f"Authorization: Bearer {rig.token}"
    cases = [
        (f"PUT /v1/media/uploads/{sha}?offset=0", MAX_CHUNK_BYTES + 1),
        ("POST /v1/personas/bundle", MAX_BUNDLE_BYTES + 1),
        ("POST /v1/media/link", MAX_BODY_BYTES + 1),
        ("POST /v1/media/uploads", MAX_BODY_BYTES + 1),
        (f"GET /v1/media/uploads/{sha}", MAX_BODY_BYTES + 1),
    ]
    for line, length in cases:
        head = f"{line} HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: {length}"
        status, body = raw_request(rig.engine.port, head)  # the body never comes
        assert status == 413, (line, body)
        assert set(json.loads(body)) == ERROR_KEYS
    head = f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: {10**30}"
    assert raw_request(rig.engine.port, head)[0] == 400  # the HTTP layer refuses that one itself
    assert rig.http.get(f"/v1/media/uploads/{sha}").json()["offset"] == 0


def test_chunked_bodies_over_the_limit_are_refused_and_not_kept(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(limits, "MAX_BUNDLE_BYTES", 64 * 1024)
    sha = rig.start_upload(b"z" * 1_000_000)
    r = rig.http.put(f"/v1/media/uploads/{sha}", params={"offset": 0}, content=iter([b"z" * 16384] * 8))
    assert "content-length" not in r.request.headers
    assert_error(r, 413)
    assert rig.http.get(f"/v1/media/uploads/{sha}").json()["offset"] == 0
    assert all(p.stat().st_size == 0 for p in rig.home.uploads_dir.glob("*.part"))
    r = rig.http.post("/v1/personas/bundle", content=iter([b"b" * 16384] * 8))
    assert_error(r, 413)
    leftovers = [p for p in rig.home.root.iterdir() if p.name.startswith("tmp")]
    assert leftovers == []  # the bundle's temporary folder went with it
    assert rig.http.get("/v1/personas").json() == []


# ---------------------------------------------------------------- malformed requests

JSON = {"Content-Type": "application/json"}
HUGE = "9" * 5000  # past Python's int-from-text digit limit
MALFORMED: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("POST", "/v1/media/link", b'{"path": ', JSON),
    ("POST", "/v1/media/link", b"not json at all", JSON),
    ("POST", "/v1/media/link", b"", JSON),
    ("POST", "/v1/media/link", b'{"path": "/x"}', {"Content-Type": "text/plain"}),
    ("POST", "/v1/media/link", b'{"path": 5}', JSON),
    ("POST", "/v1/media/link", b'{"path": ["/x"]}', JSON),
    ("POST", "/v1/media/link", b'["/x"]', JSON),
    ("POST", "/v1/media/link", b"null", JSON),
    ("POST", "/v1/media/link", b'{"path": "/x", "root": "/"}', JSON),
    ("POST", "/v1/media/link", b'{"path": "/tmp/\xff\xfe"}', JSON),
    ("POST", "/v1/media/link", b'{"path": "/tmp/\\ud800"}', JSON),
    ("POST", "/v1/media/link", json.dumps({"path": "/etc/pass\x00wd"}).encode(), JSON),
    ("POST", "/v1/media/link", b"\xff\xfe\x00{", JSON),
    ("POST", "/v1/media/link", b"[" * 200_000, JSON),
    ("POST", "/v1/media/link", b'{"path": "' + b"a" * 5000 + b'"}', JSON),
    ("POST", "/v1/media/uploads", b'{"sha256": "' + b"a" * 64 + b'", "size": ' + HUGE.encode() + b', "filename": "x"}', JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "a" * 64, "size": 10**30, "filename": "x"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "a" * 64, "size": 0, "filename": "x"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "a" * 64, "size": "five", "filename": "x"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "a" * 64, "size": [5], "filename": "x"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "A" * 64, "size": 5, "filename": "x"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "a" * 64, "size": 5, "filename": "x", "path": "/"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", json.dumps({"sha256": "a" * 64, "size": 1.5, "filename": "x"}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/media/uploads", b'{"sha256": "' + b"a" * 64 + b'", "size": NaN, "filename": "x"}', JSON),
    ("PUT", f"/v1/media/uploads/{DUMMY_ID}?offset={HUGE}", b"x", {}),
    ("PUT", f"/v1/media/uploads/{DUMMY_ID}?offset=-1", b"x", {}),
    ("PUT", f"/v1/media/uploads/{DUMMY_ID}?offset=1e3", b"x", {}),
    ("PUT", f"/v1/media/uploads/{DUMMY_ID}", b"x", {}),
    ("POST", "/v1/jobs", json.dumps({"spec": {"source": "/etc/passwd", "output": "o.mp4", "persona": "x"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/jobs", json.dumps({"spec": {"source": "media:" + DUMMY_ID, "output": "o.mp4", "persona": "x"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/jobs", json.dumps({"spec": {"source": "media:x", "output": "o", "persona": "x", "face": "nose"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/jobs", json.dumps({"spec": {}, "extra": 1}).encode(), JSON),
    ("POST", "/v1/jobs", b'{"spec": {"source": "media:x", "output": "o", "persona": "x", "output_settings": {"crf": ' + HUGE.encode() + b"}}}", JSON),  # noqa: E501
    ("POST", "/v1/talk-jobs", json.dumps({"spec": {"photo": "/etc/passwd", "script": "hi", "output": "o.mp4"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/talk-jobs", json.dumps({"spec": {"photo": "media:" + DUMMY_ID, "script": "hi", "output": "o.mp4"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/talk-jobs", json.dumps({"spec": {"photo": "media:x", "script_file": "/etc/passwd", "output": "o.mp4"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/talk-jobs", json.dumps({"spec": {"photo": "media:x", "persona": "p", "script": "hi", "output": "o"}}).encode(), JSON),  # noqa: E501
    ("POST", "/v1/talk-jobs", json.dumps({"spec": {}, "extra": 1}).encode(), JSON),
    ("POST", f"/v1/jobs/{DUMMY_ID}/rerender", json.dumps({"first": 5, "last": 2}).encode(), JSON),
    ("POST", f"/v1/jobs/{DUMMY_ID}/rerender", json.dumps({"first": -1, "last": 2}).encode(), JSON),
    ("GET", f"/v1/jobs/{DUMMY_ID}/events?after=-5", b"", {}),
    ("GET", f"/v1/jobs/{DUMMY_ID}/events", b"", {"Last-Event-ID": HUGE}),
    ("GET", f"/v1/jobs/{DUMMY_ID}/result", b"", {"Range": "bytes=99999999999999999999-"}),
    ("POST", "/v1/personas/bundle", b"PK\x03\x04 not really a zip", {}),
    ("POST", "/v1/personas/bundle", b"", {}),
    ("POST", "/v1/preview", json.dumps({"media": DUMMY_ID, "frame": 10**30}).encode(), JSON),
    ("POST", "/v1/preview", json.dumps({"media": DUMMY_ID, "frame": 0, "max_side": 10**9}).encode(), JSON),
    ("GET", "/v1/media/" + "%FF" * 64, b"", {}),
    ("GET", "/v1/jobs/%00", b"", {}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "content", "headers"), MALFORMED)
def test_malformed_requests_get_a_4xx_with_the_error_shape(
    rig: Rig, method: str, path: str, content: bytes, headers: dict[str, str]
) -> None:
    r = rig.http.request(method, path, content=content, headers=headers)
    assert_error(r, tuple(range(400, 500)))
    assert rig.http.get("/v1/health").status_code == 200


def test_raw_bytes_that_are_not_utf8_in_the_request_line_and_headers(rig: Rig) -> None:
    port, auth = rig.engine.port, f"Authorization: Bearer {rig.token}"
    status, _ = raw_request(port, f"GET /v1/media/\xff\xfe HTTP/1.1\r\nHost: x\r\n{auth}")
    assert 400 <= status < 500
    status, _ = raw_request(port, f"GET /v1/jobs/\xe9 HTTP/1.1\r\nHost: x\r\n{auth}\r\nLast-Event-ID: \xff")
    assert 400 <= status < 500
    status, _ = raw_request(port, "GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe")
    assert status == 401
    assert rig.http.get("/v1/health").status_code == 200


def test_a_bad_bundle_error_does_not_reveal_the_engines_folders(rig: Rig) -> None:
    r = rig.http.post("/v1/personas/bundle", content=b"PK\x03\x04 not really a zip")
    assert_error(r, (400,))
    assert str(rig.engine.service.home.root) not in r.text and "persona bundle" in r.json()["error"]
