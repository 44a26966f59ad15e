"""Use a third-party plugin package: title cards and a title-length gate.

    pip install ./examples/reelgraph-cards
    python examples/third_party.py [DOCUMENT] [OUTPUT_DIR]

The package declares two entry points in the ``reelgraph`` group (``cards``,
a render_shot provider, and ``title_length``, a check_quality gate); the
kernel finds them as it finds its own plugins. Its spec, cards.yaml, ships
inside the package.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from reelgraph import Kernel
from reelgraph.observe.logs import configure_logging


def main(document: str, output_dir: str) -> int:
    configure_logging(level="warning")  # the kernel's logs on stderr, warnings and up
    kernel = Kernel()
    installed = {p.name: p for p in kernel.plugins()}
    for name in ("cards", "title_length"):
        info = installed.get(name)
        if info is None:
            print(f"{name} is not installed: pip install ./examples/reelgraph-cards")
            return 2
        print(f"plugin {name} {info.version} from {info.package}: {', '.join(info.hooks)}")
    spec = resources.files("reelgraph_cards") / "cards.yaml"
    run = kernel.run(str(spec), {"document": document}, output_dir=output_dir)
    print(f"run {run.id}: {run.status}")
    for result in run.quality_report:
        verdict = "pass" if result.passed else "FAIL"
        print(f"  gate {result.gate}: {verdict} ({result.message})")
    for name, path in run.published.items():
        print(f"  {name}: {path}")
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    document = args[0] if args else str(Path(__file__).parent / "tea.md")
    sys.exit(main(document, args[1] if len(args) > 1 else "out-cards"))
