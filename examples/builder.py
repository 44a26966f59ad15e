"""Build a workflow in Python instead of YAML, print it as YAML, and run it.

    python examples/builder.py [DOCUMENT] [OUTPUT_DIR]

The workflow turns DOCUMENT (default: examples/tea.md) into slides, one per
scene, checked by the accessibility gate. References are Python objects
(``wf.inputs.document``, ``script.scenes``, ``item``); ``build()`` validates
it like ``reelgraph plan`` and locates problems at the line that added the
node.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reelgraph import Kernel
from reelgraph.observe.logs import configure_logging
from reelgraph.workflow import Workflow, item


def slides_workflow() -> Workflow:
    wf = Workflow("slides", description="A document as one slide per scene.")
    wf.input("document", type="file", description="a Markdown, text or HTML document")
    wf.input("aspect", default="16:9", enum=["16:9", "9:16", "1:1"])
    document = wf.node("document", "ingest_document", source=wf.inputs.document)
    script = wf.node("script", "write_script", provider="extractive", document=document)
    slides = wf.node(
        "slides", "render_shot", provider="slides", scene=item, aspect=wf.inputs.aspect
    ).map(script.scenes)
    wf.node("accessible", "check_quality", visuals=slides, gates=["accessibility"])
    wf.output("first_slide", slides[0].path)
    return wf


def main(document: str, output_dir: str) -> int:
    configure_logging(level="warning")  # the kernel's logs on stderr, warnings and up
    kernel = Kernel()
    spec = slides_workflow().build(kernel)  # the same Spec a YAML file loads to
    print(spec.to_yaml())
    run = kernel.run(spec, {"document": document}, output_dir=output_dir)
    print(f"run {run.id}: {run.status}, {run.nodes['slides'].items} slides")
    for name, path in run.published.items():
        print(f"  {name}: {path}")
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    document = args[0] if args else str(Path(__file__).parent / "tea.md")
    sys.exit(main(document, args[1] if len(args) > 1 else "out-builder"))
