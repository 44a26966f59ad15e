"""Validation before anything runs: every problem, with file, node, field and a fix."""

from __future__ import annotations

import pytest

from reelgraph import InputError, Kernel, SpecError, load_spec
from tests.kernel.steps import chain_spec


def problems_of(kernel: Kernel, spec) -> list:
    with pytest.raises(SpecError) as info:
        kernel.plan(spec)
    return info.value.problems


def test_cycle_is_reported_with_its_path(kernel: Kernel, tmp_path) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text(
        "name: cycle\nnodes:\n"
        "  - {id: a, hook: step, provider: adder, with: {value: $c}}\n"
        "  - {id: b, hook: step, provider: adder, with: {value: $a}}\n"
        "  - {id: c, hook: step, provider: adder, with: {value: $b}}\n"
        "  - {id: d, hook: step, provider: adder, with: {value: 1}}\n"
    )
    problems = problems_of(kernel, load_spec(path))
    assert len(problems) == 1
    text = str(problems[0])
    assert str(path) in text
    path_text = text.split("cycle: ")[1].split(" (")[0]
    nodes = path_text.split(" -> ")
    assert nodes[0] == nodes[-1] and sorted(nodes[:-1]) == ["a", "b", "c"]
    # each hop is a real edge: x -> y means y refers to x
    edges = {("c", "a"), ("a", "b"), ("b", "c")}
    assert {(nodes[i], nodes[i + 1]) for i in range(3)} == edges


def test_all_problems_are_collected_with_suggestions(kernel: Kernel) -> None:
    spec = {
        "name": "typos",
        "inputs": {"start": {"type": "integer", "default": 1}},
        "nodes": [
            {"id": "a", "hook": "stpe", "with": {"value": 1}},
            {"id": "b", "hook": "step", "provider": "addr", "with": {"value": "$inputs.strat"}},
            {"id": "c", "hook": "step", "provider": "adder", "with": {"valeu": "$bb"}},
            {"id": "d", "hook": "step", "provider": "adder", "with": {"value": "$item"}},
            {"id": "e", "hook": "step", "provider": "adder", "with": {"value": 1}, "needs": ["zz"]},
            {"id": "f", "hook": "fail", "provider": "adder", "with": {"value": 1}},
        ],
    }
    problems = problems_of(kernel, spec)
    by_node: dict[str, list[str]] = {}
    for problem in problems:
        by_node.setdefault(problem.node, []).append(str(problem))
    assert "unknown hook 'stpe'" in by_node["a"][0] and "did you mean 'step'" in by_node["a"][0]
    b = " ".join(by_node["b"])
    assert "unknown provider 'addr'" in b and "did you mean 'adder'" in b
    assert "unknown input 'strat'" in b and "$inputs.start" in b
    c = " ".join(by_node["c"])
    assert "has no argument 'valeu'" in c and "did you mean 'value'" in c
    assert "missing argument 'value'" in c
    assert "unknown node 'bb'" in c and "did you mean 'b'" in c
    assert "$item is only defined in a node with map" in by_node["d"][0]
    assert "needs unknown node 'zz'" in by_node["e"][0]
    assert "does not implement hook 'fail'" in by_node["f"][0] and "failer" in by_node["f"][0]
    assert all(p.file == "<spec typos>" for p in problems)


def test_reference_to_a_missing_field_of_an_upstream_model(tmp_path) -> None:
    kernel = Kernel()  # the real hookspecs: write_script returns a Script
    spec = {
        "name": "fields",
        "inputs": {"document": {"type": "file"}},
        "nodes": [
            {"id": "doc", "hook": "ingest_document", "with": {"source": "$inputs.document"}},
            {
                "id": "script",
                "hook": "write_script",
                "provider": "extractive",
                "with": {"document": "$doc"},
            },
            {
                "id": "slides",
                "hook": "render_shot",
                "provider": "slides",
                "map": "$script.scenez",
                "with": {"scene": "$item"},
            },
        ],
    }
    problems = problems_of(kernel, spec)
    assert len(problems) == 1
    assert problems[0].node == "slides" and problems[0].field == "map"
    assert "Script (output of 'script') has no field 'scenez'" in str(problems[0])
    assert "did you mean '$script.scenes'" in str(problems[0])


def test_schema_errors_name_node_and_field_and_suggest(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nnodes:\n  - id: x\n    hook: step\n    wiht: {value: 1}\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.node == "x" and problem.field == "wiht"
    assert "did you mean 'with'" in str(problem)


def test_yaml_syntax_error_names_line(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nnodes:\n  - id: x\n   hook: [unclosed\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert "not valid YAML at line" in str(info.value)
    assert str(path) in str(info.value)


def test_unknown_spec_name_suggests_a_shipped_spec() -> None:
    with pytest.raises(SpecError) as info:
        load_spec("document-to-vide")
    assert "did you mean 'document-to-video'" in str(info.value)


def test_inputs_are_checked_and_converted(kernel: Kernel, tmp_path) -> None:
    spec = {
        "name": "inputs",
        "inputs": {
            "count": {"type": "integer"},
            "doc": {"type": "file"},
            "flag": {"type": "boolean", "default": False},
            "size": {"type": "string", "enum": ["s", "m"], "default": "s"},
        },
        "nodes": [
            {"id": "a", "hook": "step", "provider": "adder", "with": {"value": "$inputs.count"}}
        ],
    }
    with pytest.raises(InputError) as info:
        kernel.run(
            spec,
            inputs={"count": "many", "doc": str(tmp_path / "nope.md"), "size": "xl", "colour": 1},
        )
    text = str(info.value)
    assert "expected a whole number, got 'many'" in text
    assert "file not found" in text and "nope.md" in text
    assert "'xl' is not one of s, m" in text
    assert "unknown input 'colour'" in text
    with pytest.raises(InputError, match="missing required input 'count'"):
        kernel.run(spec, inputs={"doc": __file__})
    run = kernel.run(spec, inputs={"count": "41", "doc": __file__, "flag": "yes"})
    assert run.outputs == {"a": 42}
    assert run.inputs["flag"] is True and run.inputs["size"] == "s"


def test_plan_orders_generations(kernel: Kernel) -> None:
    plan = kernel.plan(chain_spec(3))
    assert plan.order == ["n0", "n1", "n2"]
    assert plan.generations() == [["n0"], ["n1"], ["n2"]]
