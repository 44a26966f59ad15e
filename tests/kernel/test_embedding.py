"""Embedding the kernel as a library, with an in-test plugin and no CLI."""

from __future__ import annotations

import asyncio

from reelgraph import Kernel, hookimpl, load_spec
from reelgraph.models import Document, Scene, Script, Section


class TitleCaseWriter:
    """An in-test scriptwriter: one scene per section."""

    reelgraph_name = "titlecase"

    @hookimpl
    async def write_script(self, document: Document, ctx) -> Script:
        scenes = [
            Scene(index=i, title=s.heading.title(), narration=[f"{s.heading}."])
            for i, s in enumerate(document.sections)
        ]
        return Script(title=document.title.title(), scenes=scenes)


class TinyIngest:
    reelgraph_name = "tiny"

    @hookimpl
    def ingest_document(self, source, ctx) -> Document:
        lines = source.read_text().splitlines()
        return Document(
            title=lines[0], sections=[Section(heading=line, level=2) for line in lines[1:]]
        )


SPEC = """
name: embedded
inputs:
  document: {type: file}
nodes:
  - id: document
    hook: ingest_document
    provider: tiny
    with: {source: $inputs.document}
  - id: script
    hook: write_script
    provider: titlecase
    with: {document: $document}
outputs:
  script: $script
  first_scene: $script.scenes.0.title
"""


def test_kernel_runs_a_spec_with_in_process_plugins(tmp_path) -> None:
    spec_path = tmp_path / "embedded.yaml"
    spec_path.write_text(SPEC)
    doc = tmp_path / "doc.txt"
    doc.write_text("my talk\nfirst part\nsecond part\n")
    kernel = Kernel(plugins=[TitleCaseWriter(), TinyIngest()], entry_points=False)
    spec = load_spec(spec_path)
    run = kernel.run(spec, inputs={"document": str(doc)})
    assert run.status == "succeeded", run.error
    assert run.id and run.spec == "embedded"
    script = run.outputs["script"]
    assert isinstance(script, Script)
    assert script.title == "My Talk"
    assert run.outputs["first_scene"] == "First Part"
    assert set(run.nodes) == {"document", "script"}
    assert all(n.seconds is not None for n in run.nodes.values())
    assert run.events[0].type == "run.started"
    data = run.to_dict()
    assert data["outputs"]["first_scene"] == "First Part"
    assert data["nodes"][1]["status"] == "succeeded"


def test_arun_works_inside_a_running_loop(tmp_path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("t\na\n")
    kernel = Kernel(plugins=[TitleCaseWriter(), TinyIngest()], entry_points=False)

    async def main():
        spec = load_spec(__import__("yaml").safe_load(SPEC))
        return await asyncio.gather(
            kernel.arun(spec, inputs={"document": doc}), kernel.arun(spec, inputs={"document": doc})
        )

    first, second = asyncio.run(main())
    assert first.status == second.status == "succeeded"
    assert first.id != second.id
