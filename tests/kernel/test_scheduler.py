"""The asyncio scheduler: ordering, concurrency, map fan-out, failures."""

from __future__ import annotations

import threading
import time

import pytest

from reelgraph import Kernel, NodeError, ProviderError
from tests.kernel.steps import Failer, StepSpecs, chain_spec


def test_chain_runs_in_order_and_records_every_node(kernel: Kernel) -> None:
    run = kernel.run(chain_spec(50), inputs={"start": 10})
    assert run.status == "succeeded", run.error
    assert run.outputs == {"n49": 60}
    assert [n.status for n in run.nodes.values()] == ["succeeded"] * 50
    assert all(n.seconds is not None and n.seconds >= 0 for n in run.nodes.values())
    types = [e.type for e in run.events]
    assert types[0] == "run.started" and types[-1] == "run.finished"
    started = [e.node_id for e in run.events if e.type == "node.started"]
    assert started == [f"n{i}" for i in range(50)]


def test_independent_nodes_run_concurrently_up_to_the_limit(adder) -> None:
    from tests.kernel.steps import StepSpecs

    kernel = Kernel(plugins=[adder], entry_points=False, hookspecs=[StepSpecs], concurrency=4)
    nodes = [
        {"id": f"s{i}", "hook": "step", "provider": "adder", "with": {"value": i, "delay_s": 0.1}}
        for i in range(12)
    ]
    started = time.perf_counter()
    run = kernel.run({"name": "wide", "nodes": nodes})
    wall = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    assert adder.peak == 4
    assert 0.29 <= wall < 0.9  # 12 calls of 0.1 s, 4 at a time: 3 waves


def test_map_fans_out_over_a_list_and_keeps_order(kernel: Kernel, adder) -> None:
    spec = {
        "name": "map",
        "inputs": {"values": {"type": "list"}},
        "nodes": [
            {
                "id": "plus",
                "hook": "step",
                "provider": "adder",
                "map": "$inputs.values",
                "with": {"value": "$item", "delay_s": 0.05},
            },
            {"id": "first", "hook": "step", "provider": "adder", "with": {"value": "$plus.0"}},
        ],
        "outputs": {"all": "$plus", "first": "$first"},
    }
    run = kernel.run(spec, inputs={"values": [5, 1, 9, 3, 7, 2, 8, 4]})
    assert run.status == "succeeded", run.error
    assert run.outputs == {"all": [6, 2, 10, 4, 8, 3, 9, 5], "first": 7}
    assert run.nodes["plus"].items == 8
    assert adder.peak > 1  # items overlapped
    progress = [
        e.data["completed"] for e in run.events if e.type == "node.progress" and e.node_id == "plus"
    ]
    assert progress == list(range(1, 9))


def test_def_hooks_run_in_worker_threads(kernel: Kernel) -> None:
    run = kernel.run(chain_spec(5, provider="syncadder"))
    assert run.status == "succeeded" and run.outputs == {"n4": 5}
    plugin = kernel.registry.pm.get_plugin("syncadder")
    assert threading.get_ident() not in plugin.threads


def test_a_failing_node_fails_the_run_and_names_node_hook_provider_and_cause(
    kernel: Kernel,
) -> None:
    spec = {
        "name": "fails",
        "nodes": [
            {"id": "one", "hook": "step", "provider": "adder", "with": {"value": 1}},
            {"id": "boom", "hook": "fail", "provider": "failer", "with": {"value": "$one"}},
            {"id": "after", "hook": "step", "provider": "adder", "with": {"value": "$boom"}},
        ],
    }
    run = kernel.run(spec)
    assert run.status == "failed"
    assert isinstance(run.error, NodeError)
    message = str(run.error)
    for part in ("node 'boom'", "hook fail", "provider failer", "ProviderError", "cannot handle 2"):
        assert part in message
    assert isinstance(run.error.__cause__, ProviderError)
    assert run.nodes["one"].status == "succeeded"
    assert run.nodes["boom"].status == "failed"
    assert run.nodes["after"].status == "pending"
    assert run.failed_node == "boom"


def test_a_failure_cancels_slow_siblings_promptly(kernel: Kernel) -> None:
    spec = {
        "name": "cancel",
        "nodes": [
            {
                "id": "slow",
                "hook": "step",
                "provider": "adder",
                "with": {"value": 0, "delay_s": 30},
            },
            {"id": "boom", "hook": "fail", "provider": "failer", "with": {"value": 0}},
        ],
    }
    started = time.perf_counter()
    run = kernel.run(spec)
    assert time.perf_counter() - started < 5
    assert run.status == "failed"
    assert run.nodes["slow"].status == "cancelled"


def test_map_over_something_that_is_not_a_list_fails_clearly(kernel: Kernel) -> None:
    spec = {
        "name": "badmap",
        "nodes": [
            {"id": "one", "hook": "step", "provider": "adder", "with": {"value": 1}},
            {
                "id": "m",
                "hook": "step",
                "provider": "adder",
                "map": "$one",
                "with": {"value": "$item"},
            },
        ],
    }
    run = kernel.run(spec)
    assert run.status == "failed"
    assert "map: $one is a int, not a list" in str(run.error)


def test_context_carries_ids_and_a_workdir(tmp_path) -> None:
    from reelgraph import hookimpl
    from tests.kernel.steps import StepSpecs

    seen = []

    class Recorder:
        @hookimpl
        def step(self, value, ctx):
            path = ctx.workdir / "out.txt"
            path.write_text(str(value))
            ctx.progress(1, 1, "wrote")
            seen.append(
                (ctx.run_id, ctx.node_id, ctx.hook, ctx.provider, ctx.attempt, ctx.item_index, path)
            )
            return value

    kernel = Kernel(
        plugins={"rec": Recorder()}, entry_points=False, hookspecs=[StepSpecs], home=tmp_path
    )
    spec = {
        "name": "ctx",
        "nodes": [
            {
                "id": "m",
                "hook": "step",
                "provider": "rec",
                "map": "$inputs.xs",
                "with": {"value": "$item"},
            }
        ],
        "inputs": {"xs": {"type": "list", "default": [1, 2]}},
    }
    run = kernel.run(spec)
    assert run.status == "succeeded", run.error
    assert sorted(s[5] for s in seen) == [0, 1]
    for run_id, node_id, hook, provider, attempt, item, path in seen:
        assert (run_id, node_id, hook, provider, attempt) == (run.id, "m", "step", "rec", 1)
        assert path == tmp_path / "runs" / run.id / "m" / str(item) / "out.txt"
        assert path.read_text() == str(item + 1)
    messages = [
        e.data["message"]
        for e in run.events
        if e.type == "node.progress" and e.data["item"] is not None
    ]
    assert messages == ["wrote", "wrote"]


def test_siblings_that_finish_without_suspending_do_not_stall_the_run(kernel: Kernel) -> None:
    # a -> (b, c, d) -> e: b..d finish without ever suspending
    nodes = [{"id": "a", "hook": "step", "provider": "adder", "with": {"value": 0}}]
    nodes += [
        {"id": x, "hook": "step", "provider": "adder", "with": {"value": "$a"}} for x in "bcd"
    ]
    nodes.append(
        {
            "id": "e",
            "hook": "step",
            "provider": "adder",
            "with": {"value": "$d"},
            "needs": ["b", "c"],
        }
    )
    run = kernel.run({"name": "diamond", "nodes": nodes})
    assert run.status == "succeeded", run.error
    assert run.outputs == {"e": 3}


def test_mixed_eager_and_suspending_nodes(kernel: Kernel) -> None:
    nodes = [{"id": "a", "hook": "step", "provider": "adder", "with": {"value": 0}}]
    nodes += [
        {
            "id": f"s{i}",
            "hook": "step",
            "provider": "adder" if i % 2 else "syncadder",
            "with": {"value": "$a", "delay_s": 0.02 * (i % 3)},
        }
        for i in range(9)
    ]
    nodes.append(
        {
            "id": "z",
            "hook": "step",
            "provider": "adder",
            "with": {"value": "$s8"},
            "needs": [f"s{i}" for i in range(8)],
        }
    )
    run = kernel.run({"name": "mixed", "nodes": nodes})
    assert run.status == "succeeded", run.error
    assert run.outputs == {"z": 3}
    assert all(n.status == "succeeded" for n in run.nodes.values())


@pytest.mark.parametrize("persist", [False, True])
def test_a_failing_map_item_beside_other_nodes_fails_the_run_without_cancelling_it(
    adder, persist: bool, tmp_path
) -> None:
    """A map node's TaskGroup cancels its own task on failure, never the scheduler's.

    Regression: nodes started by hand inside the scheduler's task made the
    TaskGroup take that task as its parent, so a failing item cancelled the
    whole run (status cancelled, exit 130) instead of failing it.
    """
    kernel = Kernel(
        plugins=[adder, Failer()],
        entry_points=False,
        hookspecs=[StepSpecs],
        home=tmp_path,
        persist=persist,
    )
    spec = {
        "name": "fail-beside",
        "inputs": {"values": {"type": "list"}},
        "nodes": [
            {
                "id": "slow",
                "hook": "step",
                "provider": "adder",
                "with": {"value": 0, "delay_s": 0.3},
            },
            {
                "id": "m",
                "hook": "fail",
                "provider": "failer",
                "map": "$inputs.values",
                "with": {"value": "$item"},
                "retry": {"max_attempts": 1},
            },
        ],
    }
    run = kernel.run(spec, inputs={"values": [1, 2, 3]})
    assert run.status == "failed"
    assert isinstance(run.error, NodeError) and run.error.node_id == "m"
    assert run.nodes["m"].status == "failed"


def test_a_timeout_beside_other_nodes_fails_only_its_node(kernel: Kernel) -> None:
    spec = {
        "name": "timeout-beside",
        "nodes": [
            {"id": "quick", "hook": "step", "provider": "adder", "with": {"value": 0}},
            {
                "id": "stuck",
                "hook": "step",
                "provider": "adder",
                "with": {"value": 0, "delay_s": 5},
                "timeout_s": 0.1,
                "retry": {"max_attempts": 1},
            },
        ],
    }
    started = time.perf_counter()
    run = kernel.run(spec)
    assert time.perf_counter() - started < 3
    assert run.status == "failed"
    assert run.nodes["stuck"].status == "failed"
    assert "timed out after 0.1 s" in str(run.error)
