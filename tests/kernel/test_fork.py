"""Forks of a stored run: unchanged nodes come from the parent, the rest runs again.

A small video-shaped spec of the tests' own (script -> slides per scene and
narration per scene -> video) with a counting plugin, so hook calls can be
counted without real media; the document-to-video fork is in
``test_fork_video.py`` (slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph import InputError, Kernel, ReelgraphError, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.store.lineage import children, fork_of


class VideoSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def write(document, ctx):
        """Split ``document`` into scenes (a list of strings)."""

    @staticmethod
    @hookspec(firstresult=True)
    def draw(scene, aspect, ctx):
        """A slide file for one scene."""

    @staticmethod
    @hookspec(firstresult=True)
    def speak(scene, voice, ctx):
        """A narration file for one scene."""

    @staticmethod
    @hookspec(firstresult=True)
    def join(slides, narrations, ctx):
        """The video: a file joining slides and narrations."""


class Studio:
    reelgraph_name = "studio"

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def _count(self, hook: str) -> None:
        self.calls[hook] = self.calls.get(hook, 0) + 1

    @hookimpl
    def write(self, document, ctx):
        self._count("write")
        return [s.strip() for s in document.split(".") if s.strip()]

    @hookimpl
    def draw(self, scene, aspect, ctx):
        self._count("draw")
        path = ctx.workdir / "slide.txt"
        path.write_text(f"{aspect} {scene}")
        return path

    @hookimpl
    def speak(self, scene, voice, ctx):
        self._count("speak")
        path = ctx.workdir / "speech.txt"
        path.write_text(f"{voice.lower()} says {scene}")  # voices are case-blind
        return path

    @hookimpl
    def join(self, slides, narrations, ctx):
        self._count("join")
        path = ctx.workdir / "video.txt"
        parts = [Path(p).read_text() for p in [*slides, *narrations]]
        path.write_text("\n".join(parts))
        return path


SPEC = {
    "name": "mini-video",
    "inputs": {
        "document": {"type": "string"},
        "voice": {"type": "string", "default": "alice"},
        "aspect": {"type": "string", "default": "16:9", "enum": ["16:9", "9:16"]},
    },
    "nodes": [
        {"id": "script", "hook": "write", "with": {"document": "$inputs.document"}},
        {
            "id": "slides",
            "hook": "draw",
            "map": "$script",
            "with": {"scene": "$item", "aspect": "$inputs.aspect"},
        },
        {
            "id": "narration",
            "hook": "speak",
            "map": "$script",
            "with": {"scene": "$item", "voice": "$inputs.voice"},
        },
        {"id": "video", "hook": "join", "with": {"slides": "$slides", "narrations": "$narration"}},
    ],
    "outputs": {"video": "$video"},
}
DOCUMENT = "One. Two. Three."


@pytest.fixture
def studio() -> Studio:
    return Studio()


@pytest.fixture
def kernel(studio: Studio, tmp_path: Path) -> Kernel:
    return Kernel(plugins=[studio], entry_points=False, hookspecs=[VideoSpecs], home=tmp_path)


def _reused(run) -> set[str]:
    return {
        e.node_id
        for e in run.events
        if e.type == "node.succeeded" and e.data and e.data.get("from_run")
    }


def test_a_voice_fork_reuses_the_script_and_slides(kernel: Kernel, studio: Studio) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT})
    assert parent.status == "succeeded"
    assert studio.calls == {"write": 1, "draw": 3, "speak": 3, "join": 1}
    studio.calls.clear()

    child = kernel.fork(parent.id, {"voice": "bob"})

    assert child.status == "succeeded", child.error
    assert child.id != parent.id
    assert studio.calls == {"speak": 3, "join": 1}  # no write, no draw
    assert _reused(child) == {"script", "slides"}
    assert {e.data["from_run"] for e in child.events if e.node_id in _reused(child)} == {parent.id}
    old, new = Path(parent.outputs["video"]).read_text(), Path(child.outputs["video"]).read_text()
    assert "alice says One" in old and "bob says One" in new and old != new
    # the lineage, and the reused nodes' rows in the fork's own store
    record = fork_of(kernel.store, child.id)
    assert record is not None and record.parent_id == parent.id
    assert record.changed == {"voice": ["alice", "bob"]}
    assert [f.run_id for f in children(kernel.store, parent.id)] == [child.id]
    rows = {n.node_id: n for n in kernel.store.get_nodes(child.id)}
    assert rows["script"].status == rows["slides"].status == "succeeded"
    assert rows["script"].cached and rows["script"].attempts == 0
    assert not rows["narration"].cached and rows["narration"].attempts >= 1


def test_an_aspect_fork_reuses_the_narration(kernel: Kernel, studio: Studio) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT})
    studio.calls.clear()
    child = kernel.fork(parent.id, {"aspect": "9:16"})
    assert child.status == "succeeded"
    assert studio.calls == {"draw": 3, "join": 1}
    assert _reused(child) == {"script", "narration"}
    assert Path(child.outputs["video"]).read_text().startswith("9:16 One")


def test_a_parent_run_without_cache_still_forks(kernel: Kernel, studio: Studio) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT}, cache=False)
    # the memo cache stays empty: only the parent's node rows can serve the fork
    assert kernel.store._read("count memo", "SELECT COUNT(*) FROM memo") == [(0,)]
    studio.calls.clear()
    child = kernel.fork(parent.id, {"voice": "bob"}, cache=False)
    assert child.status == "succeeded"
    assert studio.calls == {"speak": 3, "join": 1}
    assert _reused(child) == {"script", "slides"}


def test_a_recomputed_node_with_an_equal_output_lets_its_dependents_be_reused(
    kernel: Kernel, studio: Studio
) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT}, cache=False)
    studio.calls.clear()
    child = kernel.fork(parent.id, {"voice": "ALICE"}, cache=False)  # case-blind: same files
    assert child.status == "succeeded"
    assert studio.calls == {"speak": 3}  # the video is the parent's
    assert _reused(child) == {"script", "slides", "video"}
    assert child.outputs["video"] == parent.outputs["video"]


def test_a_fork_of_a_fork_reuses_what_its_parent_reused(kernel: Kernel, studio: Studio) -> None:
    first = kernel.run(SPEC, {"document": DOCUMENT}, cache=False)
    second = kernel.fork(first.id, {"voice": "bob"}, cache=False)
    studio.calls.clear()
    third = kernel.fork(second.id, {"aspect": "9:16"}, cache=False)
    assert third.status == "succeeded"
    assert studio.calls == {"draw": 3, "join": 1}
    assert fork_of(kernel.store, third.id).changed == {"aspect": ["16:9", "9:16"]}
    assert "bob says" in Path(third.outputs["video"]).read_text()


def test_a_fork_with_no_change_runs_nothing(kernel: Kernel, studio: Studio) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT})
    studio.calls.clear()
    child = kernel.fork(parent.id)
    assert child.status == "succeeded" and studio.calls == {}
    assert fork_of(kernel.store, child.id).changed == {}


def test_a_modified_file_input_counts_as_changed(studio: Studio, tmp_path: Path) -> None:
    spec = {
        **SPEC,
        "inputs": {**SPEC["inputs"], "document": {"type": "file"}},
        "nodes": [
            {"id": "text", "hook": "write", "with": {"document": "$inputs.document"}},
        ],
        "outputs": {},
    }

    class Reader:
        reelgraph_name = "reader"

        @hookimpl
        def write(self, document, ctx):
            studio._count("write")
            return Path(document).read_text().split(".")

    kernel = Kernel(plugins=[Reader()], entry_points=False, hookspecs=[VideoSpecs], home=tmp_path)
    document = tmp_path / "doc.txt"
    document.write_text("A. B")
    parent = kernel.run(spec, {"document": str(document)}, cache=False)
    child = kernel.fork(parent.id, cache=False)
    assert studio.calls == {"write": 1}  # unchanged file: reused
    import os

    document.write_text("C. D")
    os.utime(document, (parent.started_at + 5, parent.started_at + 5))
    again = kernel.fork(parent.id, cache=False)
    assert studio.calls == {"write": 2}
    assert fork_of(kernel.store, again.id).changed == {
        "document": [str(document.resolve()), str(document.resolve())]
    }
    assert child.status == again.status == "succeeded"
    assert again.outputs["text"] == ["C", " D"] and parent.outputs["text"] == ["A", " B"]


def test_an_unknown_input_names_the_inputs_the_spec_takes(kernel: Kernel) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT})
    with pytest.raises(InputError) as caught:
        kernel.fork(parent.id, {"vioce": "bob"})
    message = str(caught.value)
    assert "unknown input 'vioce'" in message and "voice" in message
    assert len(kernel.store.list_runs()) == 1  # nothing was started


def test_a_bad_value_is_refused_before_anything_runs(kernel: Kernel) -> None:
    parent = kernel.run(SPEC, {"document": DOCUMENT})
    with pytest.raises(InputError, match="is not one of 16:9, 9:16"):
        kernel.fork(parent.id, {"aspect": "4:3"})
    assert len(kernel.store.list_runs()) == 1


def test_an_unknown_run_is_a_clear_error(kernel: Kernel) -> None:
    with pytest.raises(ReelgraphError, match="no run 'nope'"):
        kernel.fork("nope", {"voice": "bob"})


def test_fork_needs_the_run_store(studio: Studio) -> None:
    kernel = Kernel(plugins=[studio], entry_points=False, hookspecs=[VideoSpecs], persist=False)
    with pytest.raises(ReelgraphError, match="fork needs the run store"):
        kernel.fork("any")


def test_a_secret_input_is_given_again_and_never_counts_as_changed(
    kernel: Kernel, studio: Studio
) -> None:
    spec = {**SPEC, "inputs": {**SPEC["inputs"], "api_key": {"type": "string", "secret": True}}}
    parent = kernel.run(spec, {"document": DOCUMENT, "api_key": "sk-first-0123456789"})
    with pytest.raises(InputError, match="pass it again: reelgraph fork RUN -i api_key=VALUE"):
        kernel.fork(parent.id, {"voice": "bob"})
    studio.calls.clear()
    child = kernel.fork(parent.id, {"voice": "bob", "api_key": "sk-second-0123456789"})
    assert child.status == "succeeded" and studio.calls == {"speak": 3, "join": 1}
    assert fork_of(kernel.store, child.id).changed == {"voice": ["alice", "bob"]}
    assert "api_key" not in kernel.store.get_run(child.id).inputs


def test_a_fork_of_a_failed_run_reuses_what_it_finished(tmp_path: Path) -> None:
    class Flaky(Studio):
        broken = True

        @hookimpl
        def join(self, slides, narrations, ctx):
            if self.broken:
                raise ValueError("the joiner is broken")
            return super().join(slides, narrations, ctx)

    studio = Flaky()
    kernel = Kernel(plugins=[studio], entry_points=False, hookspecs=[VideoSpecs], home=tmp_path)
    parent = kernel.run(SPEC, {"document": DOCUMENT}, cache=False)
    assert parent.status == "failed"
    studio.broken = False
    studio.calls.clear()
    child = kernel.fork(parent.id, {"aspect": "9:16"}, cache=False)
    assert child.status == "succeeded"
    assert studio.calls == {"draw": 3, "join": 1}  # the narration the failed run made is kept


def test_diff_names_the_changed_inputs_and_the_recomputed_nodes(
    kernel: Kernel, studio: Studio
) -> None:
    from reelgraph.cli.lineage import diff_runs

    parent = kernel.run(SPEC, {"document": DOCUMENT}, cache=False)
    child = kernel.fork(parent.id, {"voice": "bob"}, cache=False)
    data = diff_runs(kernel, parent.id, child.id)
    assert data["inputs"] == {"voice": ["alice", "bob"]}
    assert data["recomputed"] == ["narration", "video"]
    assert data["reused"] == ["script", "slides"]
    assert data["b"]["parent"] == parent.id and data["a"]["parent"] is None
    assert data["nodes"]["slides"][1] == {
        "how": f"reused from {parent.id}",
        "seconds": 0.0,
        "cost_usd": 0.0,
    }
    assert data["nodes"]["slides"][0]["how"] == "ran"
    # two runs that are not parent and child: every node ran in both, the inputs differ
    other = kernel.run(SPEC, {"document": "Four. Five.", "aspect": "9:16"}, cache=False)
    data = diff_runs(kernel, parent.id, other.id)
    assert data["inputs"] == {"document": [DOCUMENT, "Four. Five."], "aspect": ["16:9", "9:16"]}
    assert data["recomputed"] == ["script", "slides", "narration", "video"]
    assert data["reused"] == [] and data["b"]["parent"] is None


def test_a_fork_replaces_a_file_the_parent_read_that_is_gone(tmp_path: Path) -> None:
    spec = {
        **SPEC,
        "inputs": {**SPEC["inputs"], "document": {"type": "file"}},
        "nodes": [{"id": "text", "hook": "write", "with": {"document": "$inputs.document"}}],
        "outputs": {},
    }

    class Reader:
        reelgraph_name = "reader"

        @hookimpl
        def write(self, document, ctx):
            return Path(document).read_text().split(".")

    kernel = Kernel(plugins=[Reader()], entry_points=False, hookspecs=[VideoSpecs], home=tmp_path)
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("A. B")
    new.write_text("C. D")
    parent = kernel.run(spec, {"document": str(old)}, cache=False)
    old.unlink()
    with pytest.raises(InputError, match="file not found"):
        kernel.fork(parent.id)  # nothing replaces it
    child = kernel.fork(parent.id, {"document": str(new)}, cache=False)
    assert child.status == "succeeded" and child.outputs["text"] == ["C", " D"]
    assert fork_of(kernel.store, child.id).changed == {
        "document": [str(old.resolve()), str(new.resolve())]
    }
