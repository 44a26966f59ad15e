"""Typed edges: a reference is checked against the upstream return type and the
downstream parameter type before any hook runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
from pydantic import BaseModel

from reelgraph import Kernel, SpecError, hookimpl
from reelgraph.hookspecs import hookspec
from reelgraph.plan.typecheck import fits


class Clip(BaseModel):
    name: str
    seconds: float


class LongClip(Clip):
    """A subclass: fits wherever a Clip is expected."""


class Reel(BaseModel):
    title: str
    clips: list[Clip]
    frames: int
    poster: Path | None = None

    @property
    def clip_count(self) -> int:
        return len(self.clips)


class ReelSpecs:
    """A small hook family with typed parameters and returns."""

    @staticmethod
    @hookspec(firstresult=True)
    def make_reel(title, ctx) -> Reel | None:
        """A reel of two clips."""

    @staticmethod
    @hookspec(firstresult=True)
    def long_clip(ctx) -> LongClip | None:
        """One long clip."""

    @staticmethod
    @hookspec(firstresult=True)
    def show_clip(clip: Clip, ctx) -> str | None:
        """Describe one clip."""

    @staticmethod
    @hookspec(firstresult=True)
    def total(seconds: list[float], ctx) -> float | None:
        """Add durations."""

    @staticmethod
    @hookspec(firstresult=True)
    def scale(factor: float, ctx) -> float | None:
        """A float parameter: an int fits it."""

    @staticmethod
    @hookspec(firstresult=True)
    def open_file(path: Path, ctx) -> int | None:
        """A path parameter: str fits it."""

    @staticmethod
    @hookspec(firstresult=True)
    def shout(text: str, ctx) -> str | None:
        """A str parameter."""

    @staticmethod
    @hookspec(firstresult=True)
    def maybe_reel(reel: Reel | None, ctx) -> str | None:
        """An Optional parameter."""

    @staticmethod
    @hookspec(firstresult=True)
    def anything(value: Any, ctx) -> Any:
        """An Any parameter and an Any return."""

    @staticmethod
    @hookspec(firstresult=True)
    def untyped(value, ctx):
        """No annotations at all."""

    @staticmethod
    @hookspec(firstresult=True)
    def settings(values: dict[str, int], ctx) -> str | None:
        """A mapping of ints."""

    @staticmethod
    @hookspec
    def collect_clips(ctx) -> Clip | None:
        """A collect hook: every implementation answers, so the output is list[Clip]."""

    @staticmethod
    @hookspec(firstresult=True)
    def third_party(value: NotDefinedAnywhere, ctx) -> AlsoMissing:  # type: ignore[name-defined]  # noqa: F821
        """Hints that do not resolve: never a false error."""


class Studio:
    """Implements every hook; records each call so tests can assert nothing ran."""

    reelgraph_name = "studio"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def make_reel(self, title, ctx):
        self.calls.append("make_reel")
        clips = [Clip(name="a", seconds=1.5), Clip(name="b", seconds=2.0)]
        return Reel(title=title, clips=clips, frames=3)

    @hookimpl
    def long_clip(self, ctx):
        self.calls.append("long_clip")
        return LongClip(name="long", seconds=60.0)

    @hookimpl
    def show_clip(self, clip, ctx):
        self.calls.append("show_clip")
        return f"{clip.name}:{clip.seconds}"

    @hookimpl
    def total(self, seconds, ctx):
        self.calls.append("total")
        return float(sum(seconds))

    @hookimpl
    def scale(self, factor, ctx):
        self.calls.append("scale")
        return factor * 2

    @hookimpl
    def open_file(self, path, ctx):
        self.calls.append("open_file")
        return len(str(path))

    @hookimpl
    def shout(self, text, ctx):
        self.calls.append("shout")
        return text.upper()

    @hookimpl
    def maybe_reel(self, reel, ctx):
        self.calls.append("maybe_reel")
        return reel.title if reel else "none"

    @hookimpl
    def anything(self, value, ctx):
        self.calls.append("anything")
        return value

    @hookimpl
    def untyped(self, value, ctx):
        self.calls.append("untyped")
        return value

    @hookimpl
    def settings(self, values, ctx):
        self.calls.append("settings")
        return ",".join(f"{k}={v}" for k, v in sorted(values.items()))

    @hookimpl
    def collect_clips(self, ctx):
        self.calls.append("collect_clips")
        return Clip(name="c", seconds=1.0)

    @hookimpl
    def third_party(self, value, ctx):
        self.calls.append("third_party")
        return value


@pytest.fixture
def studio() -> Studio:
    return Studio()


@pytest.fixture
def kernel(studio: Studio) -> Kernel:
    return Kernel(plugins=[studio], entry_points=False, hookspecs=[ReelSpecs], persist=False)


def spec(*nodes: dict, **extra: Any) -> dict:
    return {"name": "typed", "nodes": list(nodes), **extra}


def reel(node_id: str = "reel") -> dict:
    return {"id": node_id, "hook": "make_reel", "with": {"title": "Demo"}}


def problems_before_running(kernel: Kernel, studio: Studio, data: dict) -> list:
    """Run the spec: it must fail validation with no hook called."""
    with pytest.raises(SpecError) as info:
        kernel.run(data)
    assert studio.calls == []
    return info.value.problems


def test_mismatch_names_both_nodes_both_types_and_no_hook_runs(kernel, studio) -> None:
    data = spec(reel(), {"id": "show", "hook": "show_clip", "with": {"clip": "$reel.title"}})
    [problem] = problems_before_running(kernel, studio, data)
    assert problem.file == "<spec typed>"
    assert problem.node == "show" and problem.field == "with.clip"
    assert problem.message == (
        "$reel.title (str, from node 'reel' make_reel -> Reel) does not fit argument "
        "'clip' of hook 'show_clip' (expects Clip)"
    )


def test_every_mismatch_is_collected(kernel, studio) -> None:
    data = spec(
        reel(),
        {"id": "show", "hook": "show_clip", "with": {"clip": "$reel"}},
        {"id": "sum", "hook": "total", "with": {"seconds": "$reel.clips"}},
        {"id": "loud", "hook": "shout", "with": {"text": "$reel.frames"}},
    )
    problems = problems_before_running(kernel, studio, data)
    assert {(p.node, p.field) for p in problems} == {
        ("show", "with.clip"),
        ("sum", "with.seconds"),
        ("loud", "with.text"),
    }
    by_node = {p.node: p.message for p in problems}
    assert "(Reel, from node 'reel'" in by_node["show"] and "(expects Clip)" in by_node["show"]
    # list[Clip] into list[float]: element types are compared
    assert "(list[Clip]," in by_node["sum"] and "(expects list[float])" in by_node["sum"]
    assert "(int," in by_node["loud"] and "(expects str)" in by_node["loud"]


def test_compatible_edges_validate_and_run(kernel, studio) -> None:
    data = spec(
        reel(),
        {"id": "long", "hook": "long_clip"},
        # a list index, then a subclass into its base class
        {"id": "first", "hook": "show_clip", "with": {"clip": "$reel.clips.0"}},
        {"id": "sub", "hook": "show_clip", "with": {"clip": "$long"}},
        # int -> float (PEP 484 numeric tower), str -> Path, a property of a model
        {"id": "scaled", "hook": "scale", "with": {"factor": "$reel.frames"}},
        {"id": "count", "hook": "scale", "with": {"factor": "$reel.clip_count"}},
        {"id": "opened", "hook": "open_file", "with": {"path": "$reel.title"}},
        # a model into an Optional parameter; anything into Any and unannotated
        {"id": "maybe", "hook": "maybe_reel", "with": {"reel": "$reel"}},
        {"id": "any", "hook": "anything", "with": {"value": "$reel.clips"}},
        {"id": "raw", "hook": "untyped", "with": {"value": "$reel.title"}},
        # the output of an Any / unannotated hook fits anything
        {"id": "from_any", "hook": "show_clip", "with": {"clip": "$any.0"}},
        {"id": "from_raw", "hook": "shout", "with": {"text": "$raw"}},
        outputs={"first": "$first", "sub": "$sub", "count": "$count", "loud": "$from_raw"},
    )
    run = kernel.run(data)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"first": "a:1.5", "sub": "long:60.0", "count": 4, "loud": "DEMO"}
    assert kernel.plan(data).nodes["first"].deps == ["reel"]


def test_optional_output_fits_its_inner_type(kernel, studio) -> None:
    # Reel.poster is Path | None: it may fill a Path parameter (None is a run-time matter)
    data = spec(reel(), {"id": "open", "hook": "open_file", "with": {"path": "$reel.poster"}})
    kernel.plan(data)
    # but a Path does not fit str: string methods fail on it
    bad = spec(reel(), {"id": "loud", "hook": "shout", "with": {"text": "$reel.poster"}})
    [problem] = problems_before_running(kernel, studio, bad)
    assert "(Path | None," in problem.message and "(expects str)" in problem.message


def test_map_items_have_the_element_type(kernel, studio) -> None:
    good = spec(
        reel(),
        {"id": "each", "hook": "show_clip", "map": "$reel.clips", "with": {"clip": "$item"}},
        {"id": "names", "hook": "shout", "map": "$reel.clips", "with": {"text": "$item.name"}},
        # a map node's output is a list of its hook's return type
        {"id": "loud", "hook": "shout", "map": "$each", "with": {"text": "$item"}},
        {"id": "one", "hook": "shout", "with": {"text": "$each.1"}},
    )
    run = kernel.run(good)
    assert run.status == "succeeded", run.error
    assert studio.calls.count("show_clip") == 2 and studio.calls.count("shout") == 5

    studio.calls.clear()
    bad = spec(
        reel(),
        {"id": "each", "hook": "shout", "map": "$reel.clips", "with": {"text": "$item"}},
        {"id": "secs", "hook": "shout", "map": "$reel.clips", "with": {"text": "$item.seconds"}},
    )
    problems = problems_before_running(kernel, studio, bad)
    by_node = {p.node: p for p in problems}
    assert by_node["each"].message == (
        "$item (Clip, an item of $reel.clips) does not fit argument 'text' of hook 'shout' "
        "(expects str)"
    )
    assert by_node["secs"].field == "with.text" and "(float, an item of" in by_node["secs"].message


def test_a_list_into_an_item_parameter_suggests_map(kernel, studio) -> None:
    data = spec(reel(), {"id": "show", "hook": "show_clip", "with": {"clip": "$reel.clips"}})
    [problem] = problems_before_running(kernel, studio, data)
    assert "(list[Clip]," in problem.message
    assert problem.hint == "map over it: `map: $reel.clips` and pass `$item`"


def test_map_over_something_that_is_not_a_list(kernel, studio) -> None:
    data = spec(
        reel(),
        {"id": "each", "hook": "shout", "map": "$reel.title", "with": {"text": "$item"}},
    )
    [problem] = problems_before_running(kernel, studio, data)
    assert problem.node == "each" and problem.field == "map"
    assert "$reel.title (str, from node 'reel' make_reel -> Reel) is not a list" in problem.message
    assert "$reel.clips" in (problem.hint or "")


def test_missing_fields_deep_in_a_path_and_on_items(kernel, studio) -> None:
    data = spec(
        reel(),
        {"id": "a", "hook": "shout", "with": {"text": "$reel.clips.0.nmae"}},
        {"id": "b", "hook": "shout", "map": "$reel.clips", "with": {"text": "$item.titel"}},
        {"id": "c", "hook": "shout", "map": "$a", "with": {"text": "$item"}},
        outputs={"x": "$reel.clips.names"},
    )
    problems = problems_before_running(kernel, studio, data)
    by_node = {p.node: p for p in problems}
    assert "Clip (at $reel.clips.0) has no field 'nmae'" in by_node["a"].message
    assert by_node["a"].hint == "did you mean '$reel.clips.0.name'?"
    assert "Clip (at $item) has no field 'titel'" in by_node["b"].message
    # $a is a str: not a list to map over
    assert by_node["c"].field == "map" and "is not a list" in by_node["c"].message
    [output] = [p for p in problems if p.field == "outputs.x"]
    assert "list[Clip] (at $reel.clips) has no field 'names'" in output.message


def test_nested_references_are_checked_against_the_container_type(kernel, studio) -> None:
    good = spec(
        reel(),
        {"id": "s", "hook": "settings", "with": {"values": {"n": "$reel.frames"}}},
        outputs={"s": "$s"},
    )
    assert kernel.run(good).outputs == {"s": "n=3"}
    studio.calls.clear()
    bad = spec(reel(), {"id": "s", "hook": "settings", "with": {"values": {"n": "$reel.title"}}})
    [problem] = problems_before_running(kernel, studio, bad)
    assert problem.field == "with.values.n"
    assert "argument 'values' at n of hook 'settings' (expects int)" in problem.message


def test_collect_hook_output_is_a_list(kernel, studio) -> None:
    good = spec(
        {"id": "clips", "hook": "collect_clips"},
        {"id": "each", "hook": "show_clip", "map": "$clips", "with": {"clip": "$item"}},
    )
    run = kernel.run(good)
    assert run.status == "succeeded", run.error
    studio.calls.clear()
    bad = spec(
        {"id": "clips", "hook": "collect_clips"},
        {"id": "show", "hook": "show_clip", "with": {"clip": "$clips"}},
    )
    [problem] = problems_before_running(kernel, studio, bad)
    assert "(list[Clip], from node 'clips' collect_clips -> Clip)" in problem.message


def test_unresolvable_hints_never_cause_a_false_error(kernel, studio) -> None:
    data = spec(
        reel(),
        {"id": "odd", "hook": "third_party", "with": {"value": "$reel.clips"}},
        {"id": "next", "hook": "show_clip", "with": {"clip": "$odd.anything.goes"}},
    )
    run = kernel.run(data)
    # validation passed; the run itself fails on the made-up field, at run time
    assert "third_party" in studio.calls and run.status == "failed"


def test_inputs_flag_only_clear_mismatches(kernel, studio) -> None:
    inputs = {
        "files": {"type": "list", "default": ["a"]},
        "count": {"type": "integer", "default": 3},
        "where": {"type": "file", "default": None},
    }
    loose = spec(
        {"id": "loud", "hook": "shout", "with": {"text": "$inputs.count"}},
        {"id": "sum", "hook": "total", "with": {"seconds": "$inputs.files"}},
        {"id": "each", "hook": "shout", "map": "$inputs.files", "with": {"text": "$item"}},
        inputs=inputs,
    )
    kernel.plan(loose)
    bad = spec(
        {"id": "open", "hook": "open_file", "with": {"path": "$inputs.files"}},
        {"id": "each", "hook": "shout", "map": "$inputs.count", "with": {"text": "$item"}},
        {"id": "s", "hook": "settings", "with": {"values": "$inputs.where"}},
        inputs=inputs,
    )
    problems = problems_before_running(kernel, studio, bad)
    by_node = {p.node: p for p in problems}
    assert by_node["open"].message == (
        "$inputs.files (input of type list) does not fit argument 'path' of hook 'open_file' "
        "(expects Path)"
    )
    assert by_node["each"].field == "map" and "(input of type integer) is not a list" in (
        by_node["each"].message
    )
    assert "(expects dict[str, int])" in by_node["s"].message


def test_shipped_spec_still_validates() -> None:
    plan = Kernel(persist=False).plan("document-to-video")
    assert "slides" in plan.nodes and plan.nodes["video"].deps


T = TypeVar("T")


@pytest.mark.parametrize(
    ("actual", "expected", "ok"),
    [
        (int, float, True),
        (float, int, False),
        (bool, int, True),
        (str, Path, True),
        (Path, str, False),
        (LongClip, Clip, True),
        (Clip, LongClip, False),
        (list[int], list[float], True),
        (list[str], list[int], False),
        (list[int], Sequence[float], True),
        (list[Clip], list[Clip] | None, True),
        (dict[str, int], Mapping[str, float], True),
        (dict[str, str], dict[str, int], False),
        (Clip, dict[str, Any], False),
        (int | None, int, True),
        (str | None, int, False),
        (type(None), int, False),
        (type(None), int | None, True),
        (Literal["a", "b"], str, True),
        (str, Literal["a"], True),
        (int, Literal["a"], False),
        (Any, Clip, True),
        (Clip, Any, True),
        (None, Clip, True),
        (T, int, True),
        ("Unresolved", int, True),
    ],
)
def test_fits_rules(actual, expected, ok) -> None:
    assert fits(actual, expected) is ok
