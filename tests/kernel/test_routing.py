"""choose_provider: each call of an open node takes the slot of the provider chosen for it."""

from __future__ import annotations

import asyncio
import time

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.hookspecs import hookspec

CALL_S = 0.2


class RouteSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def call(value, ctx):
        """Return something made from ``value``."""


class Lane:
    """A provider that answers the items meant for it (or any, when pinned), one at a time
    per its limit, counting its calls in flight."""

    def __init__(self, name: str, seen: list[tuple[str, float, float]]) -> None:
        self.reelgraph_name = name
        self.in_flight = 0
        self.peak = 0
        self.providers: list[str | None] = []
        self.seen = seen

    @hookimpl
    async def call(self, value, ctx):
        self.providers.append(ctx.provider)
        if ctx.provider is None and value["to"] not in (self.reelgraph_name, "open"):
            return None  # open and not ours: the next implementation answers
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        start = time.perf_counter()
        try:
            await asyncio.sleep(CALL_S)
        finally:
            self.in_flight -= 1
        self.seen.append((self.reelgraph_name, start, time.perf_counter()))
        return f"{self.reelgraph_name}:{value['n']}"

    @hookimpl
    def estimate_cost(self, hook, provider, arguments):
        return 1.0 if provider == self.reelgraph_name else None


class Chooser:
    """Sends each item where its ``to`` says (``None`` for ``to: open``)."""

    reelgraph_name = "chooser"

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []

    @hookimpl
    def choose_provider(self, hook, arguments, providers):
        self.asked.append((hook, providers))
        target = arguments["value"]["to"]
        return None if target == "open" else target


def _spec(targets: list[str], **node) -> dict:
    return {
        "name": "routed",
        "inputs": {
            "items": {
                "type": "list",
                "default": [{"n": i, "to": to} for i, to in enumerate(targets)],
            }
        },
        "concurrency": {"providers": {"east": 1, "west": 1}},
        "nodes": [
            {"id": "each", "hook": "call", "map": "$inputs.items", "with": {"value": "$item"}}
            | node
        ],  # fmt: skip
        "outputs": {"each": "$each"},
    }


def _kernel(*plugins, **options) -> Kernel:
    options.setdefault("persist", False)
    return Kernel(plugins=list(plugins), entry_points=False, hookspecs=[RouteSpecs], **options)


def test_each_call_takes_the_slot_of_the_provider_chosen_for_it() -> None:
    seen: list[tuple[str, float, float]] = []
    east, west = Lane("east", seen), Lane("west", seen)
    run = _kernel(east, west, Chooser(), concurrency=8).run(_spec(["east", "west"] * 3))
    assert run.status == "succeeded", run.error
    assert run.outputs["each"] == ["east:0", "west:1", "east:2", "west:3", "east:4", "west:5"]
    # pinned: each provider was called for its own items only, and knew it
    assert east.providers == ["east"] * 3 and west.providers == ["west"] * 3
    # each provider's limit of 1 held ...
    assert east.peak == 1 and west.peak == 1
    # ... while the two lanes ran side by side: some east call overlapped a west call
    lanes = {name: [(a, b) for n, a, b in seen if n == name] for name in ("east", "west")}
    assert any(a < d and c < b for a, b in lanes["east"] for c, d in lanes["west"])
    # the calls were busy for well over the time from the first start to the last end
    # (one after another they could not be): the lanes overlapped. Durations compared with
    # durations, not a wall-clock bound, so a loaded machine passes too.
    busy = sum(b - a for _, a, b in seen)
    span = max(b for _, _, b in seen) - min(a for _, a, _ in seen)
    assert busy > 1.3 * span


def test_without_a_choice_the_node_stays_open_and_unlimited() -> None:
    seen: list[tuple[str, float, float]] = []
    east, west = Lane("east", seen), Lane("west", seen)
    run = _kernel(east, west, Chooser(), concurrency=8).run(_spec(["open"] * 4))
    assert run.status == "succeeded", run.error
    # nobody was pinned, so no provider's limit of 1 applied to the open calls
    assert set(east.providers + west.providers) == {None}
    assert max(east.peak, west.peak) == 4


def test_the_budget_prices_the_call_as_the_chosen_provider() -> None:
    seen: list[tuple[str, float, float]] = []
    east, west = Lane("east", seen), Lane("west", seen)
    spec = _spec(["east", "west", "east"]) | {"budget": {"max_cost_usd": 2.5}}
    run = _kernel(east, west, Chooser(), concurrency=1).run(spec)
    # each call is estimated at $1 by its own provider: the third would cross $2.50
    assert run.status == "over_budget", run.error
    assert len(seen) == 2


def test_a_choice_that_is_not_installed_falls_back_with_the_reason() -> None:
    seen: list[tuple[str, float, float]] = []
    east = Lane("east", seen)
    spec = _spec(["north", "east"], on_error=[{"provider": "east"}])
    run = _kernel(east, Chooser()).run(spec)
    assert run.status == "succeeded", run.error
    assert run.outputs["each"] == ["east:0", "east:1"]
    fallbacks = [e for e in run.events if e.type == "node.fallback"]
    assert len(fallbacks) == 1
    assert "provider 'north' was chosen" in fallbacks[0].data["error"]
    assert "installed: east" in fallbacks[0].data["error"]


def test_a_choice_that_is_not_installed_fails_the_node_without_fallback() -> None:
    east = Lane("east", [])
    run = _kernel(east, Chooser()).run(_spec(["north"]))
    assert run.status == "failed"
    assert "provider 'north' was chosen" in str(run.error)
    assert east.providers == []


@pytest.mark.parametrize("persist", [False, True])
def test_a_pinned_node_is_never_rerouted(persist: bool, tmp_path) -> None:
    seen: list[tuple[str, float, float]] = []
    east, west = Lane("east", seen), Lane("west", seen)
    chooser = Chooser()
    options = {"persist": persist, "home": tmp_path} if persist else {}
    run = _kernel(east, west, chooser, **options).run(_spec(["west", "west"], provider="east"))
    assert run.status == "succeeded", run.error
    assert run.outputs["each"] == ["east:0", "east:1"]
    assert chooser.asked == []
    assert west.providers == []
