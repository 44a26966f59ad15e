"""Start-up cost: importing reelgraph, importing the kernel, and ``reelgraph --help``.

Each figure is the median (and the best) of N fresh interpreter processes, in
milliseconds, minus nothing: it includes Python's own start-up, which is
printed first as ``python -c pass`` so it can be subtracted by eye.

Usage: python bench/import_time.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import reelgraph": [sys.executable, "-c", "import reelgraph"],
    "from reelgraph import Kernel": [sys.executable, "-c", "from reelgraph import Kernel"],
    "Kernel().plan(shipped spec)": [
        sys.executable,
        "-c",
        "from reelgraph import Kernel; Kernel().plan('document-to-video')",
    ],
    "reelgraph --help": (
        [shutil.which("reelgraph"), "--help"]
        if shutil.which("reelgraph")
        else [sys.executable, "-m", "reelgraph.cli", "--help"]
    ),
}


def wall_ms(command: list[str], runs: int) -> tuple[float, float]:
    """Median and best wall time of ``runs`` fresh processes, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    for name, command in COMMANDS.items():
        median, best = wall_ms(command, args.runs)
        results[name] = {"median_ms": round(median, 1), "best_ms": round(best, 1)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"wall time of a fresh process, {args.runs} runs each (target: < 300 ms)")
    for name, figures in results.items():
        print(
            f"  {name:<30} median {figures['median_ms']:6.1f} ms  best {figures['best_ms']:6.1f} ms"
        )


if __name__ == "__main__":
    main()
