"""`layer talk batch --engine cluster:local` on the session's real Ray cluster (two fake GPUs) against a
real moto S3 server: four products, three published, one failing alone on its worker (a picture without a
face); the bucket's keys and the report's rows are the single-engine batch's; the videos play, are signed
by this machine's identity (never the workers'), and equal `layer talk` renders of the same products frame
for frame and sample for sample; a second run renders and uploads nothing.

Why only the first product of each worker is compared frame for frame: eSpeak NG's output depends on what
its process spoke before ("A warm mug." is 21959 samples when spoken first, 22820 after "Meet the
bottle."), so a product's speech, and with it its length and mouth, is the same only where both sides
speak it first in their process: each product a fresh worker starts with, and a fresh `layer talk`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from layer_desktop.cli import main
from layer_desktop.cli.talk_batch import EXIT_PARTIAL
from layer_desktop.engine.provenance.c2pa_sign import read_manifest
from layer_desktop.engine.provenance.identity import provenance_dir
from layer_desktop.paths import app_paths
from layer_desktop.remote.storage import HmacKeys, PublishDb, save_destination
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import S3Destination
from tests.cli.test_talk_batch import read_report, write_catalogue
from tests.clips import decode
from tests.conftest import SHARED_MEDIA, MemoryKeyring
from tests.remote.storage.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, moto_url, s3_env

__all__ = ["moto_url", "s3_env"]  # the publish tests' real moto server, shared

pytestmark = pytest.mark.slow
ASTRONAUT = SHARED_MEDIA / "faces" / "astronaut.png"
GRACE = SHARED_MEDIA / "faces" / "grace_hopper.jpg"
ROW = ("status", "key", "published")  # what both engines must agree on (links differ: two buckets)


def _catalogue(folder: Path) -> Path:
    rows = [
        {"Product ID": "P1", "Name": "Bottle", "Image": str(ASTRONAUT), "Script": "Meet the bottle."},
        {"Product ID": "P2", "Name": "Mug", "Image": str(GRACE), "Script": "A warm mug."},
        {"Product ID": "P3", "Name": "Lamp", "Image": "product.png", "Script": "A desk lamp."},  # no face
        {"Product ID": "P4", "Name": "Map", "Image": str(ASTRONAUT), "Script": "A map of the park."},
    ]
    return write_catalogue(folder, rows)


def _keys(s3_env: dict[str, Any], bucket: str) -> dict[str, str]:
    listed = s3_env["raw"].list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: o["ETag"] for o in listed}


def _destination(s3_env: dict[str, Any], name: str, bucket: str) -> None:
    dest = S3Destination(name=name, bucket=bucket, endpoint_url=s3_env["url"], key_template="{name}")
    save_destination(dest, HmacKeys(ACCESS_KEY_ID, SECRET_ACCESS_KEY), KeyringSecrets())


def _plays(video: Path) -> tuple[int, np.ndarray]:
    """The video's frame count and its speech (AAC, decoded), after checking it decodes and is not silent."""
    with av.open(str(video)) as c:
        assert c.streams.audio and c.streams.audio[0].codec_context.name == "aac"
        sound = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
    assert np.abs(sound).max() > 0.01
    return len(decode(video)), sound


def _talk(image: Path, script: str, output: Path, home: Path) -> None:
    """`layer talk` of one product in a fresh process (its own home, no keyring: the key goes to a file)."""
    argv = ["talk", "--photo", str(image), "--script", script, "--size", "128", "-o", str(output)]
    env = {**os.environ, "LAYER_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    code = f"from layer_desktop.cli import main; raise SystemExit(main({argv!r}))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_catalogue_on_the_cluster_publishes_what_one_engine_publishes_and_resumes(
    ray_cluster: Any, s3_env: dict[str, Any], memory_keyring: MemoryKeyring, layer_home: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    s3_env["raw"].create_bucket(Bucket=s3_env["bucket"] + "-one")
    _destination(s3_env, "one", s3_env["bucket"] + "-one")
    _destination(s3_env, "shop", s3_env["bucket"])
    catalogue = _catalogue(tmp_path)
    out = tmp_path / "videos"
    argv = ["talk", "batch", str(catalogue), "--org", "acme", "--size", "128"]

    assert main([*argv, "-o", str(tmp_path / "one_engine"), "--publish", "one"]) == EXIT_PARTIAL
    single = read_report(tmp_path / "one_engine")
    shutil.rmtree(app_paths().cache_dir / "talk")  # the cluster must render them, not copy them

    argv += ["-o", str(out), "--publish", "shop", "--engine", "cluster:local"]
    assert main(argv) == EXIT_PARTIAL
    rows = read_report(out)
    assert {p: [r[f] for f in ROW] for p, r in rows.items()} == {
        p: [r[f] for f in ROW] for p, r in single.items()
    }
    assert [rows[p]["status"] for p in ("P1", "P2", "P3", "P4")] == ["made", "made", "failed", "made"]
    assert "No face was found in product.png" in rows["P3"]["error"] and "persona" in rows["P3"]["hint"]
    published = _keys(s3_env, s3_env["bucket"])
    assert sorted(published) == sorted(_keys(s3_env, s3_env["bucket"] + "-one"))
    assert sorted(published) == sorted(rows[p]["key"] for p in ("P1", "P2", "P4"))
    ca = (provenance_dir() / "ca.pem").read_bytes()  # this machine's identity signed them
    for p in ("P1", "P2", "P4"):
        video = out / rows[p]["key"]
        body = s3_env["raw"].get_object(Bucket=s3_env["bucket"], Key=rows[p]["key"])["Body"].read()
        assert body == video.read_bytes()
        assert _plays(video)[0] >= 25  # a second of speech or more
        assert read_manifest(video, trust_anchors=ca).state == "Trusted"
    # P1 and P2: the first product of each worker (two fake GPUs, two workers) against `layer talk` to the
    # same path (the same job id, so the same invisible mark)
    for p, image, script in (("P1", ASTRONAUT, "Meet the bottle."), ("P2", GRACE, "A warm mug.")):
        video = out / rows[p]["key"]
        aside = video.rename(tmp_path / f"{p}-cluster.mp4")
        _talk(image, script, video, tmp_path / "talk_home")
        (frames, sound), (ref_frames, ref_sound) = _plays(aside), _plays(video)
        assert frames == ref_frames and np.array_equal(sound, ref_sound)
        for i, (a, b) in enumerate(zip(decode(aside), decode(video), strict=True)):
            assert np.array_equal(a, b), f"{p}: frame {i} differs from the single-engine render"
        aside.replace(video)
    assert len(PublishDb().records()) == 6  # three per destination
    capsys.readouterr()

    assert main(argv) == EXIT_PARTIAL  # again: it resumes
    again = read_report(out)
    statuses = [again[p]["status"] for p in ("P1", "P2", "P3", "P4")]
    assert statuses == ["finished", "finished", "failed", "finished"]
    assert [again[p]["published"] for p in ("P1", "P2", "P4")] == ["already"] * 3
    assert _keys(s3_env, s3_env["bucket"]) == published and len(PublishDb().records()) == 6
    assert "rendered 0, uploaded 0" in " ".join(capsys.readouterr().out.split())
