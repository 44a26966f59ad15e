"""A plain Python function as a node, between two hooks, without a plugin package.

    python examples/function_node.py [DOCUMENT] [OUTPUT_DIR]

``agenda`` takes the script the extractive writer made and returns an
agenda scene, which the slides provider renders. The function's parameters
and return annotation are type-checked against its neighbours when the
workflow is built; it gets retries, events and the memo cache like any node
(its cache key includes a digest of its source, so editing it invalidates
its cached results). A workflow with a function node runs only in the
process that built it: it cannot be written as YAML.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reelgraph import Kernel
from reelgraph.models import Scene, Script
from reelgraph.observe.logs import configure_logging
from reelgraph.workflow import Workflow


def agenda(script: Script, max_items: int = 6) -> Scene:
    """An agenda slide: the titles of the script's content scenes."""
    titles = [s.title for s in script.scenes if s.kind == "content" and s.title]
    return Scene(index=0, kind="content", title="Agenda", bullets=titles[:max_items])


def main(document: str, output_dir: str) -> int:
    configure_logging(level="warning")
    wf = Workflow("agenda", description="A document's agenda as one slide.")
    wf.input("document", type="file")
    text = wf.node("document", "ingest_document", source=wf.inputs.document)
    script = wf.node("script", "write_script", provider="extractive", document=text)
    scene = wf.call("agenda", agenda, script=script, max_items=4)
    slide = wf.node("slide", "render_shot", provider="slides", scene=scene)
    wf.output("agenda_slide", slide.path)
    kernel = Kernel()
    run = kernel.run(wf.build(kernel), {"document": document}, output_dir=output_dir)
    print(f"run {run.id}: {run.status}")
    print(f"  agenda node: hook {run.nodes['agenda'].hook}, {run.nodes['agenda'].status}")
    for name, path in run.published.items():
        print(f"  {name}: {path}")
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    document = args[0] if args else str(Path(__file__).parent / "tea.md")
    sys.exit(main(document, args[1] if len(args) > 1 else "out-agenda"))
