"""``provider: $inputs.NAME``: one spec, the provider chosen by an input, checked before running."""

from __future__ import annotations

import pytest

from reelgraph import Kernel, SpecError, hookimpl
from tests.kernel.steps import AsyncAdder, StepSpecs


class Doubler:
    reelgraph_name = "doubler"

    @hookimpl
    async def step(self, value, delay_s, ctx):
        return value * 2


def _kernel(tmp_path) -> Kernel:
    return Kernel(
        plugins=[AsyncAdder(), Doubler()], entry_points=False, hookspecs=[StepSpecs], home=tmp_path
    )


def _spec(**engine) -> dict:
    return {
        "name": "chosen",
        "inputs": {
            "value": {"type": "integer", "default": 5},
            "engine": {"type": "string", **engine},
        },
        "nodes": [
            {
                "id": "s",
                "hook": "step",
                "provider": "$inputs.engine",
                "with": {"value": "$inputs.value"},
            }
        ],
    }


def test_the_input_chooses_the_provider_and_resume_keeps_the_choice(tmp_path) -> None:
    kernel = _kernel(tmp_path)
    spec = _spec(default="adder", enum=["adder", "doubler", "openai"])
    assert kernel.plan(spec).nodes["s"].provider == "adder"  # the default, before inputs
    assert kernel.run(spec).outputs == {"s": 6}
    run = kernel.run(spec, inputs={"engine": "doubler"})
    assert run.outputs == {"s": 10}
    assert run.nodes["s"].provider == "doubler"
    # the stored spec keeps the reference; a resume chooses from the stored input again
    resumed = kernel.resume(run.id)
    assert resumed.outputs == {"s": 10}


def test_a_value_that_is_not_a_provider_fails_validation_naming_the_input(tmp_path) -> None:
    kernel = _kernel(tmp_path)
    with pytest.raises(SpecError) as caught:
        kernel.run(_spec(default="adder"), inputs={"engine": "dubler"})
    problem = caught.value.problems[0]
    assert problem.node == "s" and problem.field == "provider"
    assert "input 'engine' (given: 'dubler') is not an installed provider of hook 'step'" in (
        problem.message
    )
    assert "doubler" in problem.hint


def test_an_unknown_or_non_string_input_is_a_spec_problem(tmp_path) -> None:
    kernel = _kernel(tmp_path)
    spec = _spec(default="adder")
    spec["nodes"][0]["provider"] = "$inputs.engin"
    with pytest.raises(SpecError, match="unknown input 'engin'") as caught:
        kernel.plan(spec)
    assert "engine" in caught.value.problems[0].hint
    spec = _spec(default="adder")
    spec["nodes"][0]["provider"] = "$inputs.value"
    with pytest.raises(SpecError, match="must be a string, not integer"):
        kernel.plan(spec)
