"""Kernel overhead in CPU instructions per node, counted by valgrind's callgrind.

Wall-clock figures on a shared VM move by 2x from minute to minute; the number
of instructions the interpreter executes does not (it moves by a few percent
between runs, from hash randomisation and the garbage collector). This runs
the no-op shapes of ``bench/kernel_overhead.py`` (ephemeral run, no tracer)
under ``valgrind --tool=callgrind`` twice, with 0 and with N measured runs after
one warm-up run, and prints (instructions(N) - instructions(0)) / N / nodes.

Needs valgrind (``apt install valgrind``); takes about 2 minutes per shape.

Usage: python bench/kernel_instructions.py [--runs N] [SHAPE ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODES = {"chain": 200, "fan": 500, "layered": 500}

CHILD = """
import asyncio, importlib.util, sys
spec = importlib.util.spec_from_file_location("ko", sys.argv[1])
ko = importlib.util.module_from_spec(spec); spec.loader.exec_module(ko)
from reelgraph import Kernel
kernel = Kernel(plugins=[ko.AsyncPlugin()], entry_points=False, hookspecs=[ko.BenchSpecs],
                concurrency=64, persist=False)
plan = kernel.plan(ko.spec_for(ko.shape_edges(sys.argv[2]), "async"))
async def main(runs):
    await kernel.arun(plan)  # warm-up
    for _ in range(runs):
        await kernel.arun(plan)
asyncio.run(main(int(sys.argv[3])))
"""


def instructions(shape: str, runs: int) -> int:
    """Instructions callgrind counted for the child process running ``runs`` runs."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-c",
        CHILD,
        str(HERE / "kernel_overhead.py"),
        shape,
        str(runs),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="*", help="chain, fan, layered (default: all)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    shapes = args.shapes or list(NODES)
    unknown = [s for s in shapes if s not in NODES]
    if unknown:
        parser.error(f"unknown shape {unknown[0]!r}; choose from {', '.join(NODES)}")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt install valgrind)")
    for shape in shapes:
        base = instructions(shape, 0)
        total = instructions(shape, args.runs)
        per_node = (total - base) / args.runs / NODES[shape]
        print(f"{shape:8} {NODES[shape]:4} nodes  {per_node:9.0f} instructions/node", flush=True)


if __name__ == "__main__":
    main()
