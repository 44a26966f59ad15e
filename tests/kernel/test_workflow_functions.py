"""Function nodes and callable conditions (issue 16): plain Python in an embedded kernel."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from reelgraph import Kernel, NodeContext, SpecError, TransientError, Workflow, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.spec import functions
from reelgraph.spec.model import load_spec
from reelgraph.spec.stored import spec_text
from reelgraph.workflow import item

HERE = Path(__file__).resolve()
CALLS: Counter[str] = Counter()


class Decision(BaseModel):
    needs_clips: bool
    words: list[str]


def decide(text: str, threshold: int = 3) -> Decision:
    CALLS["decide"] += 1
    words = text.split()
    return Decision(needs_clips=len(words) > threshold, words=words)


def shout(word: str) -> str:
    CALLS["shout"] += 1
    return word.upper()


async def count(words: list[str], ctx: NodeContext) -> int:
    CALLS["count"] += 1
    CALLS[f"count ran as {ctx.node_id}"] += 1
    await asyncio.sleep(0)
    return len(words)


def flaky(words: list[str]) -> str:
    CALLS["flaky"] += 1
    if CALLS["flaky"] == 1:
        raise TransientError("the first attempt fails")
    return " ".join(words)


async def slow(words: list[str]) -> str:
    await asyncio.sleep(30)
    return "never"


@pytest.fixture(autouse=True)
def fresh_counts() -> None:
    CALLS.clear()


@pytest.fixture
def kernel(tmp_path: Path) -> Kernel:
    return Kernel(entry_points=False, home=tmp_path / "home")


def pipeline() -> Workflow:
    wf = Workflow("functions")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    loud = wf.call("loud", shout, word=item).map(decision.words)
    total = wf.call("total", count, words=loud)
    wf.output("loud", loud)
    wf.output("total", total)
    return wf


# -- running ------------------------------------------------------------------------


def test_function_nodes_run_like_hooks(kernel: Kernel) -> None:
    spec = pipeline().build(kernel)
    assert spec.nodes[0].hook == f"python:{__name__}.decide"
    run = kernel.run(spec, inputs={"text": "one two"})
    assert run.status == "succeeded", run.error
    assert run.outputs == {"loud": ["ONE", "TWO"], "total": 2}
    assert CALLS["shout"] == 2 and CALLS["count ran as total"] == 1  # map items; ctx given
    started = [e.node_id for e in run.events if e.type == "node.started"]
    assert started == ["decision", "loud", "total"]
    stored = kernel.store.get_nodes(run.id)
    assert {n.node_id: n.hook for n in stored}["total"] == f"python:{__name__}.count"


def test_a_function_node_is_retried_and_times_out(kernel: Kernel) -> None:
    wf = Workflow("retried")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    wf.call("joined", flaky, words=decision.words).retry(max_attempts=3, initial_s=0, jitter_s=0)
    run = kernel.run(wf.build(kernel), inputs={"text": "a b"})
    assert run.status == "succeeded", run.error
    assert run.nodes["joined"].attempts == 2 and CALLS["flaky"] == 2
    assert [e.type for e in run.events].count("node.retrying") == 1

    wf = Workflow("timed")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    wf.call("slow", slow, words=decision.words).timeout(0.2).retry(max_attempts=1)
    began = time.monotonic()
    run = kernel.run(wf.build(kernel), inputs={"text": "a b"})
    assert run.status == "failed" and time.monotonic() - began < 10
    assert "timed out after 0.2 s" in str(run.error)


def test_a_function_node_is_served_from_the_memo_cache(kernel: Kernel) -> None:
    spec = pipeline().build(kernel)
    first = kernel.run(spec, inputs={"text": "one two"})
    again = kernel.run(spec, inputs={"text": "one two"})
    assert again.outputs == first.outputs
    assert CALLS["decide"] == 1 and CALLS["shout"] == 2 and CALLS["count"] == 1
    assert all(again.nodes[n].cached for n in ("decision", "loud", "total"))
    kernel.run(spec, inputs={"text": "one three"})
    assert CALLS["decide"] == 2 and CALLS["shout"] == 3  # 'ONE' was cached as an item


IN_FLIGHT: list[int] = [0, 0]  # now, most


async def tracked(word: str) -> str:
    IN_FLIGHT[0] += 1
    IN_FLIGHT[1] = max(IN_FLIGHT)
    await asyncio.sleep(0.02)
    IN_FLIGHT[0] -= 1
    return word


def test_a_function_node_has_limits_and_spans(tmp_path: Path) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    kernel = Kernel(entry_points=False, home=tmp_path / "home", tracer_provider=provider)
    wf = Workflow("limited")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    wf.call("words", tracked, word=item).map(decision.words).limit(2)
    IN_FLIGHT[:] = [0, 0]
    run = kernel.run(wf.build(kernel), inputs={"text": "a b c d e f"})
    assert run.status == "succeeded", run.error
    assert IN_FLIGHT[1] == 2  # six items, two at a time
    finished = exporter.get_finished_spans()
    spans = {span.name: span for span in finished}
    node = spans["node words"]
    assert node.attributes["reelgraph.hook"] == f"python:{__name__}.tracked"
    assert node.attributes["reelgraph.node.items"] == 6
    assert sum(span.name == "attempt 1 words" for span in finished) == 6  # one per item
    assert node.parent.span_id == spans["run limited"].context.span_id


def _load(path: Path, name: str) -> ModuleType:
    found = importlib.util.spec_from_file_location(name, path)
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def test_editing_a_functions_source_invalidates_its_cached_results(
    kernel: Kernel, tmp_path: Path
) -> None:
    source = tmp_path / "slugs.py"
    source.write_text(
        textwrap.dedent(
            """
            def slug(text: str) -> str:
                return text.lower().replace(" ", "-")
            """
        ),
        encoding="utf-8",
    )

    def spec_of(module: ModuleType):
        wf = Workflow("slugs")
        wf.input("text")
        wf.output("slug", wf.call("slug", module.slug, text=wf.inputs.text))
        return wf.build(kernel)

    before = spec_of(_load(source, "h16a_slugs"))
    assert kernel.run(before, inputs={"text": "A B"}).outputs == {"slug": "a-b"}
    cached = kernel.run(spec_of(_load(source, "h16a_slugs")), inputs={"text": "A B"})
    assert cached.nodes["slug"].cached and cached.outputs == {"slug": "a-b"}

    source.write_text(source.read_text().replace('"-"', '"__"'), encoding="utf-8")
    after = spec_of(_load(source, "h16a_slugs"))
    assert after.nodes[0].hook == before.nodes[0].hook  # the same name, new code
    edited = kernel.run(after, inputs={"text": "A B"})
    assert not edited.nodes["slug"].cached and edited.outputs == {"slug": "a__b"}


async def nothing(words: list[str]) -> str:
    return None  # type: ignore[return-value]


@pytest.mark.parametrize("persist", [True, False])  # False: the scheduler's fast path
def test_a_function_node_must_return_its_output(tmp_path: Path, persist: bool) -> None:
    kernel = Kernel(entry_points=False, home=tmp_path / "home", persist=persist)
    wf = Workflow("none")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    wf.call("total", count, words=decision.words)
    wf.call("nothing", nothing, words=decision.words).retry(max_attempts=1)
    run = kernel.run(wf.build(kernel), inputs={"text": "a b"})
    assert run.nodes["total"].status == "succeeded"
    assert run.status == "failed" and run.nodes["nothing"].status == "failed"
    assert f"function python:{__name__}.nothing returned None" in str(run.error)


# -- checked before the run -----------------------------------------------------------


def test_type_mismatches_are_caught_before_the_run(kernel: Kernel) -> None:
    wf = Workflow("mismatch")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    line = inspect.currentframe().f_lineno + 1
    wf.call("total", count, words=decision)  # a Decision, not a list of str
    wf.call("loud", shout, word=decision.words, extra=1)
    with pytest.raises(SpecError) as caught:
        wf.build(kernel)
    problems = {(p.node, p.field): p for p in caught.value.problems}
    fit = problems["total", "with.words"]
    assert fit.file == f"{HERE}:{line}"
    assert "$decision (Decision, from node 'decision'" in fit.message
    assert "does not fit argument 'words'" in fit.message and "expects list[str]" in fit.message
    assert "these fit: $decision.words" in fit.hint
    assert "does not fit argument 'word'" in problems["loud", "with.word"].message
    assert (
        problems["loud", "with.word"].hint == "map over it: `map: $decision.words` and pass `$item`"
    )
    assert "has no argument 'extra'" in problems["loud", "with.extra"].message
    assert CALLS["decide"] == 0  # nothing ran


def test_a_function_output_is_checked_against_a_hook(tmp_path: Path) -> None:
    wf = Workflow("into-a-hook")
    wf.input("text")
    decision = wf.call("decision", decide, text=wf.inputs.text)
    wf.node("slides", "render_shot", provider="slides", scene=decision.words)
    with pytest.raises(SpecError, match="'scene' of hook 'render_shot' .*expects Scene"):
        wf.build()


def test_input_errors_point_at_the_input_line(kernel: Kernel) -> None:
    from reelgraph import InputError

    wf = Workflow("inputs")
    line = inspect.currentframe().f_lineno + 1
    wf.input("threshold", type="integer")
    wf.call("decision", decide, text="a b", threshold=wf.inputs.threshold)
    with pytest.raises(InputError) as caught:
        kernel.run(wf.build(kernel), inputs={"threshold": "many"})
    (problem,) = caught.value.problems
    assert problem.file == f"{HERE}:{line}" and problem.field == "inputs.threshold"
    assert "expected a whole number" in problem.message and CALLS["decide"] == 0


def test_call_takes_plain_functions_with_named_parameters() -> None:
    wf = Workflow("bad")
    with pytest.raises(TypeError, match="def or async def"):
        wf.call("a", print)
    with pytest.raises(TypeError, match=r"\*\*kwargs"):
        wf.call("b", lambda **kwargs: 1)


# -- conditions -----------------------------------------------------------------------


def test_callable_conditions_skip_like_yaml_conditions(kernel: Kernel) -> None:
    wf = Workflow("conditional")
    wf.input("text")
    wf.input("mode", default="fast")
    decision = wf.call("decision", decide, text=wf.inputs.text, threshold=2)
    clips = wf.call("clips", count, words=decision.words).when(
        lambda decision: decision.needs_clips
    )
    wf.call("after", shout, word="x").needs(clips)
    wf.call("slowly", shout, word="y").when(lambda inputs: inputs.mode == "slow")
    spec = wf.build(kernel)
    few = kernel.run(spec, inputs={"text": "a b"})
    assert few.status == "succeeded", few.error
    assert [few.nodes[n].status for n in ("clips", "after", "slowly")] == ["skipped"] * 3
    reasons = {e.node_id: e.data["reason"] for e in few.events if e.type == "node.skipped"}
    where = f"{__name__}.test_callable_conditions_skip_like_yaml_conditions.<locals>"
    assert reasons["clips"] == f"when: python:{where}.<lambda> is false"
    assert reasons["after"] == "'clips' was skipped"
    many = kernel.run(spec, inputs={"text": "a b c", "mode": "slow"})
    assert [many.nodes[n].status for n in ("clips", "after", "slowly")] == ["succeeded"] * 3


def test_a_callable_condition_is_checked_and_its_failure_is_the_nodes(kernel: Kernel) -> None:
    wf = Workflow("conditions")
    wf.input("text")
    wf.call("decision", decide, text=wf.inputs.text)
    wf.call("a", shout, word="x").when(lambda decison: True)
    with pytest.raises(SpecError, match="condition reads unknown name 'decison'.*'decision'"):
        wf.build(kernel)
    wf = Workflow("conditions")
    wf.input("text")
    wf.call("decision", decide, text=wf.inputs.text)
    wf.call("a", shout, word="x").when(lambda decision: decision.missing)
    run = kernel.run(wf.build(kernel), inputs={"text": "a"})
    assert run.status == "failed"
    assert "AttributeError" in str(run.error) and run.nodes["a"].status == "failed"


# -- YAML, the server and resume --------------------------------------------------------


def test_to_yaml_refuses_function_nodes_and_python_conditions(kernel: Kernel) -> None:
    wf = Workflow("no-yaml")
    wf.input("text")
    line = inspect.currentframe().f_lineno + 1
    wf.call("decision", decide, text=wf.inputs.text).when(lambda inputs: True)
    with pytest.raises(SpecError) as caught:
        wf.build(kernel).to_yaml()
    hook, when = caught.value.problems
    assert hook.file == when.file == f"{HERE}:{line}"
    assert hook.field == "hook" and f"'{__name__}.decide'" in hook.message
    assert "register the function as a plugin" in hook.hint
    assert "[project.entry-points.reelgraph]" in hook.hint
    assert when.field == "when" and "write it as an expression" in when.hint


def test_a_spec_file_cannot_name_a_python_function(kernel: Kernel, tmp_path: Path) -> None:
    spec = pipeline().build(kernel)  # remembered in this process, and still refused from a file
    target = tmp_path / "functions.json"
    target.write_text(spec_text(spec, spec.budget), encoding="utf-8")
    loaded = load_spec(json.loads(target.read_text()))
    assert loaded.nodes[0].function is None
    with pytest.raises(SpecError) as caught:
        kernel.plan(loaded)
    assert [p.node for p in caught.value.problems] == ["decision", "loud", "total"]
    assert "names a Python callable" in caught.value.problems[0].message
    assert "register the function as a plugin" in caught.value.problems[0].hint


def test_the_server_refuses_function_nodes(kernel: Kernel, tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="pip install 'reelgraph[server]' (in the test extra)")
    import httpx

    from tests.contrib.conftest import serve

    spec = pipeline().build(kernel)
    body = json.loads(spec_text(spec, spec.budget))
    served = serve(kernel)
    try:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            checked = client.post("/api/specs/validate", json={"spec": body}).json()
            started = client.post("/api/runs", json={"spec": body, "inputs": {"text": "a b"}})
    finally:
        served.stop()
    assert checked["valid"] is False
    assert "names a Python callable" in json.dumps(checked["problems"])
    assert started.status_code == 422 and "names a Python callable" in started.text
    assert CALLS["decide"] == 0
    assert kernel.store.list_runs() == []


RESUMABLE = """
import os
import time
from pathlib import Path

from reelgraph import Workflow

LOG = Path(os.environ["H16A_LOG"])


def first(text: str) -> str:
    with LOG.open("a") as log:
        log.write("first\\n")
    return text.upper()


def second(text: str) -> str:
    with LOG.open("a") as log:
        log.write("second\\n")
    hang = os.environ.get("H16A_HANG")
    if hang:
        Path(hang).write_text("inside second")
        time.sleep(120)
    return text + "!"


def workflow() -> Workflow:
    wf = Workflow("resumable")
    wf.input("text")
    wf.output("result", wf.call("second", second, text=wf.call("first", first, text=wf.inputs.text)))
    return wf
"""

STARTER = """
import sys
sys.path.insert(0, sys.argv[1])
import resumable
from reelgraph import Kernel
kernel = Kernel(entry_points=False, home=sys.argv[2])
kernel.run(resumable.workflow().build(kernel), inputs={"text": "hi"}, run_id="r-kill")
"""


def test_a_function_node_run_resumes_after_kill_9(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "resumable.py").write_text(RESUMABLE, encoding="utf-8")
    log, hang, home = tmp_path / "calls.log", tmp_path / "hanging", tmp_path / "home"
    env = {**os.environ, "H16A_LOG": str(log), "H16A_HANG": str(hang)}
    child = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path), str(home)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not hang.exists():
            assert child.poll() is None, "the run ended before the kill"
            assert time.monotonic() < deadline, "the function node never started"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    monkeypatch.setenv("H16A_LOG", str(log))
    monkeypatch.delenv("H16A_HANG", raising=False)
    kernel = Kernel(entry_points=False, home=home)
    # a process that has not built the workflow cannot run its functions
    functions._REMEMBERED.pop("resumable", None)
    with pytest.raises(SpecError, match="names a Python callable"):
        kernel.resume("r-kill")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("resumable", None)
    import resumable  # type: ignore[import-not-found]

    try:
        resumable.workflow().build(kernel)
        run = kernel.resume("r-kill")
    finally:
        sys.modules.pop("resumable", None)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"result": "HI!"}
    assert log.read_text().split() == ["first", "second", "second"]  # first reused
    assert run.nodes["first"].status == "succeeded"


class SlugSpecs:
    """The hook docs/kernel.md registers a function under, for YAML."""

    @staticmethod
    @hookspec(firstresult=True)
    def slugify(text: str) -> str:
        """``text`` as a lowercase, hyphenated slug."""


class Slugs:
    reelgraph_name = "slugs"

    @hookimpl
    def slugify(self, text: str) -> str:
        return "-".join(text.lower().split())


def test_the_plugin_route_the_refusal_suggests_runs_from_yaml(tmp_path: Path) -> None:
    target = tmp_path / "slug.yaml"
    target.write_text(
        textwrap.dedent(
            """
            name: slug
            inputs: {title: {}}
            nodes:
              - id: slug
                hook: slugify
                provider: slugs
                with: {text: $inputs.title}
            outputs: {slug: $slug}
            """
        ),
        encoding="utf-8",
    )
    kernel = Kernel(
        plugins=[Slugs()], entry_points=False, hookspecs=[SlugSpecs], home=tmp_path / "home"
    )
    run = kernel.run(target, inputs={"title": "Two Words"})
    assert run.status == "succeeded" and run.outputs == {"slug": "two-words"}
