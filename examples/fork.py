"""Fork a finished run: a second voice and a 9:16 cut without paying again for the rest.

    python examples/fork.py [DOCUMENT]

Runs document-to-video on DOCUMENT (default: examples/tea.md) into out-fork/,
then forks it twice: voice en-gb (into out-fork-en-gb/) and aspect 9:16
(into out-fork-9x16/). Each fork takes every node whose arguments did not
change from the parent, without running it; the table shows which.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reelgraph import Kernel
from reelgraph.observe.logs import configure_logging


def how(run) -> dict[str, str]:
    """Per node: 'reused' (from the parent), 'cached' or 'ran'."""
    reused = {e.node_id for e in run.events if e.data and e.data.get("from_run")}
    return {
        n.id: "reused" if n.id in reused else "cached" if n.cached else "ran"
        for n in run.nodes.values()
    }


def main(document: str) -> int:
    configure_logging(level="warning")  # the kernel's logs on stderr, warnings and up
    kernel = Kernel()
    # cache=False: nothing from earlier runs; what the forks reuse is the parent's own
    parent = kernel.run(
        "document-to-video", {"document": document}, output_dir="out-fork", cache=False
    )
    print(f"parent {parent.id}: {parent.status} in {parent.seconds:.1f} s")
    forks = {
        "voice en-gb": kernel.fork(parent.id, {"voice": "en-gb"}, output_dir="out-fork-en-gb"),
        "aspect 9:16": kernel.fork(parent.id, {"aspect": "9:16"}, output_dir="out-fork-9x16"),
    }
    for label, child in forks.items():
        print(f"fork {child.id} ({label}): {child.status} in {child.seconds:.1f} s")
        for node_id, what in how(child).items():
            print(f"  {node_id:<15} {what}")
        print(f"  video: {child.published['video']}")
    ok = parent.status == "succeeded" and all(f.status == "succeeded" for f in forks.values())
    return 0 if ok else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[0] if args else str(Path(__file__).parent / "tea.md")))
