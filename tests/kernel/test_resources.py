"""Each run records what it cost the machine: memory, CPU, bytes written, free disk space."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reelgraph import Kernel, hookimpl
from reelgraph.cli.inspect import describe_run
from tests.kernel.test_storage_faults import BLOB_BYTES, SPEC, Blobs, BlobSpecs


class Burner:
    """Writes blobs and spends CPU in a waited-for subprocess, as ffmpeg would."""

    reelgraph_name = "blobs"

    def __init__(self) -> None:
        self.inner = Blobs()

    @hookimpl
    def write_blob(self, index, ctx):
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
        return self.inner.write_blob(index, ctx)


def test_a_run_records_its_resources_in_the_result_and_the_store(tmp_path: Path) -> None:
    kernel = Kernel(plugins=[Burner()], entry_points=False, hookspecs=[BlobSpecs], home=tmp_path)
    run = kernel.run(SPEC, inputs={"indexes": [0, 1]})
    assert run.status == "succeeded", run.error
    used = run.resources
    # three new files of random bytes: first, and the two map items
    assert used["artifact_bytes_written"] == 3 * BLOB_BYTES
    assert used["children_cpu_s"] > 0.05  # three subprocesses that each square 3M numbers
    assert used["cpu_s"] >= 0
    assert 10 < used["peak_rss_mib"] < 4096
    assert used["disk_free_start_bytes"] > 0 and used["disk_free_end_bytes"] > 0
    assert run.to_dict()["resources"] == used
    assert describe_run(kernel, run.id)["resources"] == used

    again = kernel.run(SPEC, inputs={"indexes": [0, 1]})  # all cache hits: nothing new
    assert again.resources["artifact_bytes_written"] == 0
