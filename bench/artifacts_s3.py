"""The artifact store on S3 (moto's server on loopback) vs a local folder, and a kill -9 campaign.

    python bench/artifacts_s3.py [--doc README.md] [--repeats 2] [--kills 5] [--seed 0]

1. ``reelgraph run document-to-video`` on a small README, alternately with the
   local store and with ``REELGRAPH_ARTIFACTS=s3://bench/artifacts`` (a fresh
   home and prefix each time): wall seconds and CPU seconds of the CLI process
   (getrusage of children; the moto server is another process and is not
   counted), objects and bytes uploaded (the bucket's listing), bytes in the
   local cache. Medians over ``--repeats``.
2. ``--kills`` repetitions: SIGKILL the S3 run after a seeded random delay
   counted from the moment the run is recorded, then ``reelgraph resume`` and
   ``reelgraph gc``. Counted: objects at a content address whose bytes do not
   hash to it (must be 0), references in the run store to an object missing or
   corrupt (must be 0), orphan ``.tmp/`` uploads before gc and after it (must
   be 0), resumes that did not succeed (must be 0).

Prints one JSON document. Wall figures depend on the machine's load (say so
when quoting them); the moto server is a single Python process, slower than S3.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "bench"
DEFAULT_DOC = ROOT / "tests" / "corpus" / "markdown" / "japanize-matplotlib.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, url
        if time.monotonic() > deadline:
            raise RuntimeError("moto server did not start")
        time.sleep(0.1)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "reelgraph.cli", *args]


def timed(
    argv: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def listing(s3: Any, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        items += page.get("Contents", [])
    return items


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def compare(
    root: Path, doc: Path, repeats: int, base_env: dict[str, str], s3: Any
) -> dict[str, Any]:
    rows: dict[str, list[dict[str, float]]] = {"local": [], "s3": []}
    for i in range(repeats):
        for kind in ("local", "s3"):
            home = root / f"cmp-{kind}-{i}"
            env = {**base_env, "REELGRAPH_HOME": str(home)}
            prefix = f"cmp-{i}"
            if kind == "s3":
                env["REELGRAPH_ARTIFACTS"] = f"s3://{BUCKET}/{prefix}"
            argv = cli("run", "document-to-video", "-i", f"document={doc}", "-o", str(home / "out"))
            done, wall, cpu = timed(argv + ["--json"], env)
            if done.returncode != 0:
                raise RuntimeError(f"{kind} run failed: {done.stderr[-2000:]}")
            row = {"wall_s": wall, "cpu_s": cpu}
            if kind == "s3":
                objects = listing(s3, prefix)
                row["objects"] = len(objects)
                row["bytes_uploaded"] = sum(o["Size"] for o in objects)
                row["cache_bytes"] = tree_bytes(home / "artifact-cache")
            else:
                row["store_bytes"] = tree_bytes(home / "artifacts")
            rows[kind].append(row)
    return {
        kind: {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
        for kind, runs in rows.items()
    }


def run_recorded(db: Path) -> str | None:
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute("SELECT id FROM runs").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def refs_of(db: Path) -> set[tuple[str, str]]:
    from reelgraph.store.gc import artifact_refs

    con = sqlite3.connect(db)
    try:
        outputs = [r[0] for r in con.execute("SELECT output FROM nodes WHERE output IS NOT NULL")]
        outputs += [r[0] for r in con.execute("SELECT output FROM memo")]
    finally:
        con.close()
    refs: set[tuple[str, str]] = set()
    for text in outputs:
        refs.update(artifact_refs(json.loads(text)))
    return refs


def bad_addressed(s3: Any, prefix: str) -> tuple[int, int, dict[str, str]]:
    """(objects at a content address that do not hash to it, .tmp/ objects, key -> sha256)."""
    bad, tmp, hashes = 0, 0, {}
    for item in listing(s3, prefix):
        key = item["Key"]
        if key.startswith(f"{prefix}/.tmp/"):
            tmp += 1
            continue
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        hashes[key] = hashlib.sha256(body).hexdigest()
        if hashes[key] != key.split("/")[2]:
            bad += 1
    return bad, tmp, hashes


def campaign(
    root: Path, doc: Path, kills: int, seed: int, base_env: dict[str, str], s3: Any
) -> dict[str, Any]:
    tally = {
        "kills": 0,
        "kills_mid_run": 0,
        "orphan_tmp_after_kill": 0,
        "content_objects_corrupt": 0,
        "referenced_missing_or_corrupt": 0,
        "resumes_not_succeeded": 0,
        "orphan_tmp_after_gc": 0,
        "remote_objects_removed_by_gc": 0,
    }
    rng = random.Random(seed)
    for i in range(kills):
        home, prefix = root / f"kill-{i}", f"kill-{i}"
        env = {
            **base_env,
            "REELGRAPH_HOME": str(home),
            "REELGRAPH_ARTIFACTS": f"s3://{BUCKET}/{prefix}",
        }
        argv = cli(
            "run", "document-to-video", "-i", f"document={doc}", "-o", str(home / "out"), "--json"
        )
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while run_recorded(home / "reelgraph.db") is None and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.5, 8.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            tally["kills_mid_run"] += 1
        proc.wait(timeout=60)
        tally["kills"] += 1
        bad, tmp, _ = bad_addressed(s3, prefix)
        tally["content_objects_corrupt"] += bad
        tally["orphan_tmp_after_kill"] += tmp
        run_id = run_recorded(home / "reelgraph.db")
        if run_id is None:
            continue
        resumed = subprocess.run(
            cli("resume", run_id, "--json"), env=env, capture_output=True, text=True, timeout=1800
        )
        try:
            status = json.loads(resumed.stdout).get("status")
        except json.JSONDecodeError:
            status = None
        if status != "succeeded":
            tally["resumes_not_succeeded"] += 1
        bad, tmp, hashes = bad_addressed(s3, prefix)
        tally["content_objects_corrupt"] += bad
        for digest, name in refs_of(home / "reelgraph.db"):
            if hashes.get(f"{prefix}/{digest[:2]}/{digest}/{name}") != digest:
                tally["referenced_missing_or_corrupt"] += 1
        gc = subprocess.run(
            cli("gc", "--json"), env=env, capture_output=True, text=True, timeout=600
        )
        tally["remote_objects_removed_by_gc"] += json.loads(gc.stdout).get("remote_artifacts", 0)
        tally["orphan_tmp_after_gc"] += bad_addressed(s3, prefix)[1]
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import boto3

    moto, url = start_moto()
    try:
        base_env = {
            **os.environ,
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "REELGRAPH_LOG_LEVEL": "warning",
        }
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        s3.create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory(prefix="reelgraph-s3-bench-") as tmp:
            root = Path(tmp)
            report = {
                "doc": str(args.doc),
                "doc_bytes": args.doc.stat().st_size,
                "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
                "compare": compare(root, args.doc.resolve(), args.repeats, base_env, s3),
                "kill_campaign": campaign(
                    root, args.doc.resolve(), args.kills, args.seed, base_env, s3
                ),
                "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            }
        print(json.dumps(report, indent=2))
    finally:
        moto.send_signal(signal.SIGTERM)
        moto.wait(timeout=30)


if __name__ == "__main__":
    main()
