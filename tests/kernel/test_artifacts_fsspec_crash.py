"""kill -9 during an upload to the S3 artifact store, then resume: nothing half-written is referenced.

A child process runs a two-node spec with its artifacts on moto's S3 server
(on loopback, in this test's process, so it outlives the child) and pauses at
one of the commit protocol's fault points (``REELGRAPH_FAULT_PAUSE``, see
:mod:`reelgraph.store.remote_artifacts`); the test kills it with SIGKILL there,
checks what the bucket and the run store hold, resumes the run in this process
and runs gc. At every point: the bucket holds no partial object at a content
address, the run store references nothing the bucket lacks, the resumed run
completes with every referenced object whole, and gc removes the orphans.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.store.gc import GcPolicy, apply_gc, plan_gc
from reelgraph.store.remote_artifacts import FsspecArtifactStore

pytest.importorskip("s3fs", reason='the S3 artifact store needs s3fs: pip install "reelgraph[s3]"')

ROOT = Path(__file__).resolve().parents[2]
SIZE = 3 * 1024 * 1024 + 17  # several 1 MiB chunks, so "half sent" is mid-stream
MULTIPART_SIZE = 11 * 1024 * 1024  # three parts of S3's smallest size, 5 MiB
PAUSE_TIMEOUT_S = 120


class CrashSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def blob(seed, size, ctx):
        """Write ``size`` pseudo-random bytes from ``seed`` to a file and return its path."""


class Blobs:
    reelgraph_name = "blobs"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def blob(self, seed, size, ctx):
        self.calls.append(seed)
        path = ctx.workdir / f"{seed}.bin"
        path.write_bytes(payload(seed, size))
        return path


SPEC = {
    "name": "crash-artifacts",
    "inputs": {"size": {"type": "integer"}},
    "nodes": [
        {"id": "first", "hook": "blob", "provider": "blobs", "with": {"seed": "a", "size": 1000}},
        {
            "id": "second",
            "hook": "blob",
            "provider": "blobs",
            "with": {"seed": "b", "size": "$inputs.size"},
            "needs": ["first"],
        },
    ],
}


def payload(seed: str, size: int) -> bytes:
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:size])


def kernel(home: Path, url: str, plugin: Blobs) -> Kernel:
    return Kernel(
        plugins=[plugin],
        entry_points=False,
        hookspecs=[CrashSpecs],
        home=home,
        artifacts=url,
        concurrency=1,
    )


def child_main() -> None:
    """The child: run the spec under ``CRASH_RUN_ID`` (it pauses at the fault point)."""
    home, url, run_id = (
        Path(os.environ["CRASH_HOME"]),
        os.environ["CRASH_URL"],
        os.environ["CRASH_RUN_ID"],
    )
    size = int(os.environ["CRASH_SIZE"])
    run = kernel(home, url, Blobs()).run(SPEC, inputs={"size": size}, run_id=run_id)
    print(json.dumps({"status": run.status}))


@pytest.fixture
def bucket(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    client.name = f"rg-crash-{secrets.token_hex(5)}"
    client.create_bucket(Bucket=client.name)
    yield client
    for item in client.list_objects_v2(Bucket=client.name).get("Contents", []):
        client.delete_object(Bucket=client.name, Key=item["Key"])
    client.delete_bucket(Bucket=client.name)


def objects(bucket: Any) -> dict[str, bytes]:
    listing = bucket.list_objects_v2(Bucket=bucket.name).get("Contents", [])
    return {
        o["Key"]: bucket.get_object(Bucket=bucket.name, Key=o["Key"])["Body"].read()
        for o in listing
    }


def kill_at(point: str, size: int, home: Path, url: str, run_id: str, tmp_path: Path) -> None:
    """Start the child, wait until it pauses at ``point``, SIGKILL it."""
    marker = tmp_path / f"paused-{point}"
    env = {
        **os.environ,
        "CRASH_SIZE": str(size),
        # s3fs sends a file over its block size in parts: 5 MiB parts here (fsspec's
        # FSSPEC_<PROTOCOL> configuration, a JSON object of the filesystem's options)
        "FSSPEC_S3": json.dumps({"default_block_size": 5 * 1024 * 1024}),
        "CRASH_HOME": str(home),
        "CRASH_URL": url,
        "CRASH_RUN_ID": run_id,
        "REELGRAPH_FAULT_PAUSE": f"{point}:b.bin",  # the second node's file
        "REELGRAPH_FAULT_PAUSE_FILE": str(marker),
        "PYTHONPATH": str(ROOT),
    }
    code = "from tests.kernel.test_artifacts_fsspec_crash import child_main; child_main()"
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + PAUSE_TIMEOUT_S
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(
                    f"the child ended before {point}: {out.decode()} {err.decode()[-2000:]}"
                )
            assert time.monotonic() < deadline, f"the child never reached {point}"
            time.sleep(0.05)
        assert int(marker.read_text()) == child.pid
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL


def unfinished_uploads(bucket: Any) -> list[str]:
    listing = bucket.list_multipart_uploads(Bucket=bucket.name)
    return sorted(f"{bucket.name}/{u['Key']}" for u in listing.get("Uploads", []))


@pytest.mark.parametrize(
    ("point", "size"),
    [
        ("artifact-upload", SIZE),
        ("artifact-upload", MULTIPART_SIZE),
        ("artifact-uploaded", SIZE),
        ("artifact-committed", SIZE),
    ],
    ids=["half-sent", "half-sent-multipart", "uploaded", "copied-not-deleted"],
)
def test_a_kill_during_an_upload_leaves_nothing_half_written_referenced(
    point: str, size: int, bucket: Any, tmp_path: Path
) -> None:
    home, url, run_id = tmp_path / "home", f"s3://{bucket.name}/store", "20261205-crash-" + point
    kill_at(point, size, home, url, run_id, tmp_path)
    # the first node finished and is recorded; the second was killed in its commit
    data = payload("b", size)
    digest = hashlib.sha256(data).hexdigest()
    final = f"store/{digest[:2]}/{digest}/b.bin"
    after_kill = objects(bucket)
    temporaries = [k for k in after_kill if k.startswith("store/.tmp/")]
    addressed = {k: v for k, v in after_kill.items() if not k.startswith("store/.tmp/")}
    for key, body in addressed.items():  # whatever is at a content address is whole
        assert hashlib.sha256(body).hexdigest() == key.split("/")[2], key
    expected_tmp = {"artifact-upload": 0, "artifact-uploaded": 1, "artifact-committed": 1}[point]
    assert len(temporaries) == expected_tmp
    assert all(after_kill[k] == data for k in temporaries)  # an S3 object is whole or absent
    assert (final in addressed) is (point == "artifact-committed")
    # a multipart upload cut short is no object at all, only an unfinished upload
    unfinished = unfinished_uploads(bucket)
    assert len(unfinished) == (size == MULTIPART_SIZE)
    assert all(k.startswith(f"{bucket.name}/store/.tmp/") for k in unfinished)
    probe = kernel(home, url, Blobs())
    nodes = {n.node_id: n for n in probe.store.get_nodes(run_id)}
    assert nodes["first"].status == "succeeded"
    assert digest not in json.dumps([n.output for n in nodes.values()])  # never referenced

    plugin = Blobs()
    resumed = kernel(home, url, plugin).resume(run_id)
    assert resumed.status == "succeeded", resumed.error
    assert plugin.calls == ["b"]  # the finished node is reused, the killed one runs again
    assert resumed.outputs["second"].read_bytes() == data
    after_resume = objects(bucket)
    assert after_resume[final] == data

    store = kernel(home, url, Blobs())
    artifacts = store.artifacts
    assert isinstance(artifacts, FsspecArtifactStore)
    plan = plan_gc(store.store, artifacts, home / "runs", GcPolicy())
    orphans = sorted([f"{bucket.name}/{k}" for k in temporaries] + unfinished)
    assert sorted(o.key for o in plan.remote) == orphans
    apply_gc(store.store, artifacts, home / "runs", plan)
    assert unfinished_uploads(bucket) == []  # aborted: its parts are no longer stored
    left = objects(bucket)
    assert not any(k.startswith("store/.tmp/") for k in left)
    assert left[final] == data and len(left) == 2  # both nodes' files, nothing else
