"""Publish speed to a local moto S3 server, as a ratio against a baseline measured in the same run.

ours  = layer_desktop.remote.storage.publish(): sha256 of the file, head, multipart upload in equal
        parts with progress, cancel checks and per-part MD5/ETag checks, resume state in SQLite, head
        check after, presigned link, record.
base  = a plain boto3 ``upload_file`` of the same file (boto3's default transfer settings).
Overhead ratio = ours time ÷ base time (best of N each).                              target ≤ 1.15

Usage: python benchmarks/bench_publish.py [--mib 48] [--repeat 3] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

KEY_ID, SECRET = "AKIABENCH", "bench-secret"


def best_of(repeat: int, fn: Callable[[int], None]) -> float:
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LAYER_HOME"] = str(Path(tmp) / "home")  # keep the user's settings and database out
        from layer_desktop.remote.storage import MultipartOptions, PublishOptions, publish, save_destination
        from layer_desktop.remote.storage.credentials import HmacKeys
        from layer_desktop.secrets import SessionSecrets
        from layer_desktop.settings import S3Destination

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            url = f"http://{host}:{port}"
            raw = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY_ID,
                               aws_secret_access_key=SECRET)  # fmt: skip
            raw.create_bucket(Bucket="bench")
            src = Path(tmp) / "clip.mp4"
            src.write_bytes(os.urandom(args.mib * 1024 * 1024))
            secrets = SessionSecrets()
            dest = S3Destination(name="bench", bucket="bench", endpoint_url=url)
            save_destination(dest, HmacKeys(KEY_ID, SECRET), secrets)
            multipart = MultipartOptions(concurrency=args.concurrency)

            def base(i: int) -> None:
                raw.upload_file(str(src), "bench", f"base/{i}.mp4")
                raw.delete_object(Bucket="bench", Key=f"base/{i}.mp4")

            def ours(i: int) -> None:
                opts = PublishOptions(key_template=f"ours/{i}/{{name}}", multipart=multipart)
                record = publish(src, dest, options=opts, secrets=secrets)
                raw.delete_object(Bucket="bench", Key=record.key)

            base(99)  # warm the connection pools and moto
            t_base = best_of(args.repeat, base)
            t_ours = best_of(args.repeat, ours)
        finally:
            server.stop()

    mb = args.mib * 1024 * 1024 / 1e6
    print(f"file: {args.mib} MiB, best of {args.repeat}, moto S3 server on 127.0.0.1")
    print(f"raw boto3 upload_file : {t_base:6.3f} s  {mb / t_base:7.1f} MB/s")
    print(
        f"layer publish()       : {t_ours:6.3f} s  {mb / t_ours:7.1f} MB/s  (concurrency {args.concurrency})"
    )
    print(f"overhead ratio        : {t_ours / t_base:6.3f}  (target ≤ 1.15)")


if __name__ == "__main__":
    main()
