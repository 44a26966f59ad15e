"""Embed reelgraph: run the shipped document-to-video spec from Python.

    python examples/embed.py [DOCUMENT] [OUTPUT_DIR]

Turns DOCUMENT (default: examples/tea.md) into a narrated, captioned MP4 in
OUTPUT_DIR (default: out-embed), offline, and prints what each node did.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reelgraph import Kernel
from reelgraph.observe.logs import configure_logging


def main(document: str, output_dir: str) -> int:
    configure_logging(level="warning")  # the kernel's logs on stderr, warnings and up
    kernel = Kernel()  # the installed plugins; runs kept under $REELGRAPH_HOME
    run = kernel.run("document-to-video", inputs={"document": document}, output_dir=output_dir)
    print(f"run {run.id}: {run.status} in {run.seconds:.1f} s")
    for node in run.nodes.values():
        print(f"  {node.id:<15} {node.status:<10} {node.seconds or 0:6.2f} s")
    for name, path in run.published.items():
        print(f"  {name}: {path}")
    failed = [r for r in run.quality_report if not r.passed]
    print(f"  quality: {len(run.quality_report) - len(failed)} of {len(run.quality_report)} passed")
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    here = Path(__file__).parent
    args = sys.argv[1:]
    sys.exit(
        main(args[0] if args else str(here / "tea.md"), args[1] if len(args) > 1 else "out-embed")
    )
