"""Execution policy: retries, Retry-After, deadlines, timeouts, fallbacks, limits, when:, budgets."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.errors import (
    BudgetExceeded,
    ConfigurationError,
    FatalError,
    InvalidInputError,
    RateLimitedError,
    SpecError,
    TransientError,
)
from reelgraph.hookspecs import hookspec

FAST = {"initial_s": 0.01, "max_s": 0.05, "jitter_s": 0.0}


class PolicySpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def call(value, ctx):
        """Return something made from ``value``."""


class Flaky:
    """Raises the queued errors one per attempt, then answers ``value + 1``."""

    reelgraph_name = "flaky"

    def __init__(self, *errors: BaseException, sleep_first_s: float = 0.0) -> None:
        self.errors = list(errors)
        self.starts: list[float] = []
        self.attempts: list[int] = []
        self.cancelled = 0
        self.sleep_first_s = sleep_first_s

    @hookimpl
    async def call(self, value, ctx):
        self.starts.append(time.monotonic())
        self.attempts.append(ctx.attempt)
        if self.sleep_first_s and ctx.attempt == 1:
            try:
                await asyncio.sleep(self.sleep_first_s)
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        if self.errors:
            raise self.errors.pop(0)
        return value + 1


class Backup:
    reelgraph_name = "backup"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    async def call(self, value, ctx):
        self.calls += 1
        return value * 100


class Paid:
    """Costs $1.00 per call and says so beforehand."""

    reelgraph_name = "paid"

    def __init__(self, estimate: float | None = 1.0) -> None:
        self.calls = 0
        self.estimate = estimate

    @hookimpl
    async def call(self, value, ctx):
        self.calls += 1
        ctx.report_usage(
            operation="generate_content",
            provider_name="fakevendor",
            model="clip-1",
            input_tokens=10,
            output_tokens=5,
            cost_usd=1.0,
        )
        return value + 1

    @hookimpl
    def estimate_cost(self, hook, provider, arguments):
        if hook == "call" and provider == "paid":
            return self.estimate
        return None


class Gauge:
    """Counts calls in flight."""

    reelgraph_name = "gauge"

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0

    @hookimpl
    async def call(self, value, ctx):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            return value
        finally:
            self.in_flight -= 1


def make_kernel(*plugins, **options) -> Kernel:
    options.setdefault("persist", False)
    return Kernel(plugins=list(plugins), entry_points=False, hookspecs=[PolicySpecs], **options)


def one_node(provider: str, **node) -> dict:
    return {
        "name": "policy",
        "inputs": {"start": {"type": "integer", "default": 1}},
        "nodes": [
            {"id": "a", "hook": "call", "provider": provider, "with": {"value": "$inputs.start"}}
            | node
        ],
        "outputs": {"a": "$a"},
    }


# -- retries -------------------------------------------------------------------------------


def test_transient_errors_are_retried_until_an_attempt_succeeds() -> None:
    flaky = Flaky(TransientError("503"), TransientError("503"))
    events = []
    run = make_kernel(flaky).run(
        one_node("flaky", retry={"max_attempts": 3, **FAST}), on_event=events.append
    )
    assert run.status == "succeeded", run.error
    assert run.outputs["a"] == 2
    assert flaky.attempts == [1, 2, 3]
    assert run.nodes["a"].attempts == 3
    retries = [e.data for e in events if e.type == "node.retrying"]
    assert [r["attempt"] for r in retries] == [1, 2]
    assert "TransientError: 503" in retries[0]["error"]


def test_attempts_are_capped_by_max_attempts() -> None:
    flaky = Flaky(*[TransientError("still down")] * 5)
    run = make_kernel(flaky).run(one_node("flaky", retry={"max_attempts": 2, **FAST}))
    assert run.status == "failed"
    assert flaky.attempts == [1, 2]
    assert "attempt 2" in str(run.error)


@pytest.mark.parametrize(
    "error",
    [InvalidInputError("bad prompt"), ConfigurationError("no key"), ValueError("a bug")],
    ids=["invalid-input", "configuration", "unknown"],
)
def test_errors_that_cannot_pass_are_never_retried(error: BaseException) -> None:
    flaky = Flaky(error)
    run = make_kernel(flaky).run(one_node("flaky", retry={"max_attempts": 5, **FAST}))
    assert run.status == "failed"
    assert flaky.attempts == [1]


def test_retry_after_is_honoured_over_a_shorter_backoff() -> None:
    flaky = Flaky(RateLimitedError("slow down", retry_after_s=0.4))
    run = make_kernel(flaky).run(one_node("flaky", retry={"max_attempts": 2, **FAST}))
    assert run.status == "succeeded", run.error
    gap = flaky.starts[1] - flaky.starts[0]
    assert gap >= 0.39, gap


class _TooMany(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits += 1
        if type(self).hits == 1:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"id": "task-1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return None


class HttpPlugin:
    """Posts to a real server with httpx and lets the kernel classify the 429."""

    reelgraph_name = "httpvendor"

    def __init__(self, url: str) -> None:
        self.url = url
        self.starts: list[float] = []

    @hookimpl
    async def call(self, value, ctx):
        self.starts.append(time.monotonic())
        async with httpx.AsyncClient() as client:
            response = await client.post(self.url, json={"value": value})
            response.raise_for_status()
            return response.json()["id"]


def test_a_real_http_429_with_retry_after_is_classified_and_waited_for() -> None:
    _TooMany.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TooMany)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        plugin = HttpPlugin(f"http://127.0.0.1:{server.server_address[1]}/v1/tasks")
        events = []
        run = make_kernel(plugin).run(
            one_node("httpvendor", retry={"max_attempts": 3, **FAST}), on_event=events.append
        )
    finally:
        server.shutdown()
        server.server_close()
    assert run.status == "succeeded", run.error
    assert run.outputs["a"] == "task-1"
    assert _TooMany.hits == 2
    assert plugin.starts[1] - plugin.starts[0] >= 0.99
    retry = next(e.data for e in events if e.type == "node.retrying")
    assert retry["wait_s"] >= 1.0
    assert "RateLimitedError" in retry["error"] or "429" in retry["error"]


def test_the_retry_deadline_stops_retrying_before_max_attempts() -> None:
    flaky = Flaky(*[TransientError("down")] * 10)
    policy = {"max_attempts": 10, "initial_s": 0.2, "max_s": 0.2, "jitter_s": 0, "deadline_s": 0.5}
    started = time.monotonic()
    run = make_kernel(flaky).run(one_node("flaky", retry=policy))
    assert run.status == "failed"
    assert len(flaky.attempts) == 3  # at 0, 0.2 and 0.4 s; the next wait would pass 0.5 s
    assert time.monotonic() - started < 1.5


def test_spec_defaults_apply_to_nodes_without_their_own_policy() -> None:
    flaky = Flaky(TransientError("503"))
    spec = one_node("flaky") | {"defaults": {"retry": {"max_attempts": 1}}}
    assert make_kernel(flaky).run(spec).status == "failed"
    flaky = Flaky(TransientError("503"))
    spec = one_node("flaky") | {"defaults": {"retry": {"max_attempts": 2, **FAST}}}
    assert make_kernel(flaky).run(spec).status == "succeeded"


# -- timeouts --------------------------------------------------------------------------------


def test_a_timed_out_attempt_is_cancelled_and_retried() -> None:
    flaky = Flaky(sleep_first_s=30)
    started = time.monotonic()
    run = make_kernel(flaky).run(
        one_node("flaky", timeout_s=0.2, retry={"max_attempts": 2, **FAST})
    )
    assert run.status == "succeeded", run.error
    assert flaky.cancelled == 1  # the first attempt's coroutine was cancelled, not left running
    assert flaky.attempts == [1, 2]
    assert time.monotonic() - started < 5


def test_a_timeout_without_retries_fails_the_node_with_a_clear_error() -> None:
    flaky = Flaky(sleep_first_s=30)
    run = make_kernel(flaky).run(one_node("flaky", timeout_s=0.1, retry={"max_attempts": 1}))
    assert run.status == "failed"
    assert "timed out after 0.1 s" in str(run.error)
    assert flaky.cancelled == 1


class SlowThread:
    """A ``def`` hook that works in steps and stops when the kernel gives up on it."""

    reelgraph_name = "slowthread"

    def __init__(self) -> None:
        self.stopped = threading.Event()

    @hookimpl
    def call(self, value, ctx):
        for _ in range(300):
            if ctx.cancelled:
                self.stopped.set()
                return None
            time.sleep(0.01)
        return value


def test_a_def_hook_sees_the_timeout_through_ctx_cancelled() -> None:
    plugin = SlowThread()
    run = make_kernel(plugin).run(one_node("slowthread", timeout_s=0.2, retry={"max_attempts": 1}))
    assert run.status == "failed"
    assert plugin.stopped.wait(2.0), "the worker thread kept running after its timeout"


# -- fallbacks ---------------------------------------------------------------------------------


def test_on_error_falls_back_to_another_provider_and_records_it() -> None:
    flaky, backup = Flaky(ConfigurationError("RUNWAY key missing")), Backup()
    events = []
    run = make_kernel(flaky, backup).run(
        one_node("flaky", on_error={"provider": "backup"}), on_event=events.append
    )
    assert run.status == "succeeded", run.error
    assert run.outputs["a"] == 100
    assert run.nodes["a"].fallback == "provider:backup"
    fallback = next(e.data for e in events if e.type == "node.fallback")
    assert fallback["to"] == "provider:backup"
    assert "RUNWAY key missing" in fallback["error"]


def test_fallback_providers_are_tried_in_order_and_the_last_error_fails_the_run() -> None:
    first = Flaky(ConfigurationError("no key"))
    spec = one_node("flaky", on_error=[{"provider": "paid"}, {"provider": "backup"}])
    paid = Paid()
    run = make_kernel(first, paid, Backup()).run(spec)
    assert run.status == "succeeded"
    assert run.nodes["a"].fallback == "provider:paid"  # the first fallback answered
    assert paid.calls == 1


def _with_standby(**primary) -> dict:
    return {
        "name": "standby",
        "inputs": {"start": {"type": "integer", "default": 1}},
        "nodes": [
            {"id": "seed", "hook": "call", "provider": "backup", "with": {"value": 2}},
            {
                "id": "a",
                "hook": "call",
                "provider": "flaky",
                "with": {"value": "$inputs.start"},
                "on_error": {"node": "plan_b"},
                **primary,
            },
            {"id": "plan_b", "hook": "call", "provider": "backup", "with": {"value": "$seed"}},
            {"id": "after", "hook": "call", "provider": "backup", "with": {"value": "$a"}},
        ],
        "outputs": {"a": "$a", "after": "$after"},
    }


def test_a_fallback_node_runs_only_when_needed_and_stands_in_for_the_output() -> None:
    run = make_kernel(Flaky(ConfigurationError("down")), Backup()).run(_with_standby())
    assert run.status == "succeeded", run.error
    assert run.outputs == {"a": 20000, "after": 2000000}  # plan_b(seed=200) = 20000
    assert run.nodes["a"].fallback == "node:plan_b"
    assert run.nodes["plan_b"].status == "succeeded"

    run = make_kernel(Flaky(), Backup()).run(_with_standby())
    assert run.status == "succeeded"
    assert run.outputs["a"] == 2
    assert run.nodes["plan_b"].status == "skipped"
    assert run.nodes["a"].fallback is None


def test_fallback_validation_names_node_and_field() -> None:
    kernel = make_kernel(Flaky(), Backup())
    with pytest.raises(SpecError) as caught:
        kernel.plan(one_node("flaky", on_error={"provider": "bakup"}))
    assert "on_error.0.provider" in str(caught.value)
    assert "did you mean 'backup'" in str(caught.value)
    spec = _with_standby()
    spec["nodes"][3]["with"]["value"] = "$plan_b"
    with pytest.raises(SpecError) as caught:
        kernel.plan(spec)
    assert "fallback node 'plan_b' is used by after" in str(caught.value)


# -- concurrency -----------------------------------------------------------------------------


def _mapped(provider: str, n: int = 12, **node) -> dict:
    return {
        "name": "mapped",
        "nodes": [
            {"id": "items", "hook": "call", "provider": "backup", "with": {"value": 0}},
            {
                "id": "each",
                "hook": "call",
                "provider": provider,
                "map": "$inputs.items",
                "with": {"value": "$item"},
                **node,
            },
        ],
        "inputs": {"items": {"type": "list", "default": list(range(n))}},
    }


@pytest.mark.parametrize(
    ("spec_extra", "node_extra", "kernel_options", "peak"),
    [
        ({}, {}, {"concurrency": 64}, 12),
        ({"concurrency": {"providers": {"gauge": 3}}}, {}, {"concurrency": 64}, 3),
        ({}, {"concurrency": 2}, {"concurrency": 64}, 2),
        ({"concurrency": {"max": 4}}, {}, {"concurrency": 64}, 4),
        ({}, {}, {"concurrency": 64, "provider_concurrency": {"gauge": 5}}, 5),
        (
            {"concurrency": {"providers": {"gauge": 9}}},
            {},
            {"provider_concurrency": {"gauge": 5}},
            5,
        ),
    ],
    ids=["unlimited", "spec-provider", "node", "spec-max", "kernel-provider", "lowest-wins"],
)
def test_map_items_respect_every_limit(spec_extra, node_extra, kernel_options, peak) -> None:
    gauge = Gauge()
    spec = _mapped("gauge", **node_extra) | spec_extra
    run = make_kernel(gauge, Backup(), **kernel_options).run(spec)
    assert run.status == "succeeded", run.error
    assert gauge.peak == peak


# -- when ----------------------------------------------------------------------------------------


def _conditional(when: str) -> dict:
    return {
        "name": "conditional",
        "inputs": {
            "start": {"type": "integer", "default": 1},
            "clips": {"type": "boolean", "default": False},
        },
        "nodes": [
            {"id": "a", "hook": "call", "provider": "backup", "with": {"value": "$inputs.start"}},
            {
                "id": "b",
                "hook": "call",
                "provider": "backup",
                "with": {"value": "$a"},
                "when": when,
            },
            {"id": "c", "hook": "call", "provider": "backup", "with": {"value": "$b"}},
            {"id": "d", "hook": "call", "provider": "backup", "with": {"value": 3}, "needs": ["c"]},
            {"id": "e", "hook": "call", "provider": "backup", "with": {"value": "$a"}},
        ],
        "outputs": {"b": "$b", "e": "$e"},
    }


def test_a_false_condition_skips_the_node_and_everything_downstream() -> None:
    backup = Backup()
    run = make_kernel(backup).run(_conditional("inputs.clips and a > 10"))
    assert run.status == "succeeded", run.error
    statuses = {n: r.status for n, r in run.nodes.items()}
    assert statuses == {
        "a": "succeeded",
        "b": "skipped",
        "c": "skipped",
        "d": "skipped",
        "e": "succeeded",
    }
    assert run.outputs == {"e": 10000}
    assert backup.calls == 2


def test_a_true_condition_over_inputs_and_an_upstream_output_runs_the_node() -> None:
    run = make_kernel(Backup()).run(_conditional("a == 100 and not inputs.clips"))
    assert run.status == "succeeded"
    assert all(r.status == "succeeded" for r in run.nodes.values())
    assert run.outputs["b"] == 10000


def test_conditions_are_checked_before_the_run() -> None:
    kernel = make_kernel(Backup())
    with pytest.raises(SpecError) as caught:
        kernel.plan(_conditional("inputs.clips and scrip > 1"))
    assert "node 'b': when: condition reads unknown name 'scrip'" in str(caught.value)
    with pytest.raises(SpecError) as caught:
        kernel.plan(_conditional("__import__('os').system('true')"))
    assert "cannot be called" in str(caught.value)


# -- budgets --------------------------------------------------------------------------------------


def _paid_chain(n: int, **extra) -> dict:
    nodes = [{"id": "p0", "hook": "call", "provider": "paid", "with": {"value": 0}}]
    nodes += [
        {"id": f"p{i}", "hook": "call", "provider": "paid", "with": {"value": f"$p{i - 1}"}}
        for i in range(1, n)
    ]
    return {"name": "paid", "nodes": nodes, **extra}


def test_a_node_that_would_exceed_the_cost_budget_is_not_started() -> None:
    paid = Paid()
    run = make_kernel(paid).run(_paid_chain(5, budget={"max_cost_usd": 2.5}))
    assert run.status == "over_budget"
    assert isinstance(run.error, BudgetExceeded)
    assert paid.calls == 2  # $2 spent; the third call's $1 estimate would make $3
    assert [run.nodes[f"p{i}"].status for i in range(5)] == [
        "succeeded",
        "succeeded",
        "blocked",
        "pending",
        "pending",
    ]
    assert "not started: cost budget $2.5000 would be exceeded" in str(run.error)
    assert "--max-cost-usd" in str(run.error)
    assert sum(r.cost_usd for r in run.nodes.values()) == 2.0


def test_without_an_estimate_the_run_stops_once_spending_passes_the_budget() -> None:
    paid = Paid(estimate=None)
    run = make_kernel(paid).run(_paid_chain(5), budget={"max_cost_usd": 1.5})
    assert run.status == "over_budget"
    assert paid.calls == 2  # the second call took the run to $2 > $1.50; nothing more starts


def test_the_duration_budget_stops_starting_nodes() -> None:
    spec = _mapped("gauge", n=1) | {"budget": {"max_duration_s": 0.01}}
    spec["nodes"].append(
        {"id": "late", "hook": "call", "provider": "gauge", "with": {"value": 1}, "needs": ["each"]}
    )
    run = make_kernel(Gauge(), Backup()).run(spec)
    assert run.status == "over_budget"
    assert run.nodes["late"].status == "blocked"
    assert "duration budget" in str(run.error)


def test_an_over_budget_run_resumes_with_a_raised_budget(tmp_path) -> None:
    paid = Paid()
    kernel = make_kernel(paid, persist=True, home=tmp_path)
    first = kernel.run(_paid_chain(4), budget={"max_cost_usd": 2})
    assert first.status == "over_budget"
    assert paid.calls == 2
    resumed = kernel.resume(first.id, budget={"max_cost_usd": 10})
    assert resumed.status == "succeeded", resumed.error
    assert paid.calls == 4  # the two finished nodes were not paid for again
    assert kernel.store.get_run(first.id).cost_usd == pytest.approx(4.0)
    nodes = {row.node_id: row for row in kernel.store.get_nodes(first.id)}
    assert nodes["p3"].cost_usd == pytest.approx(1.0)


def test_resuming_without_raising_the_budget_stops_again(tmp_path) -> None:
    paid = Paid()
    kernel = make_kernel(paid, persist=True, home=tmp_path)
    first = kernel.run(_paid_chain(4), budget={"max_cost_usd": 2})
    again = kernel.resume(first.id)
    assert again.status == "over_budget"  # the stored budget holds, earlier costs count
    assert paid.calls == 2


# -- spans -----------------------------------------------------------------------------------------


def test_spans_run_node_attempt_with_retry_fallback_cost_and_genai() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    flaky = Flaky(TransientError("503"), ConfigurationError("no key"))
    spec = {
        "name": "traced",
        "nodes": [
            {
                "id": "a",
                "hook": "call",
                "provider": "flaky",
                "with": {"value": 1},
                "retry": {"max_attempts": 3, **FAST},
                "on_error": {"provider": "paid"},
            },
        ],
    }
    run = make_kernel(flaky, Paid(), tracer_provider=provider).run(spec)
    assert run.status == "succeeded", run.error
    spans = exporter.get_finished_spans()
    by_name = {s.name: s for s in spans}
    root = by_name["run traced"]
    node = by_name["node a"]
    assert node.parent.span_id == root.context.span_id
    attempts = [
        s for s in spans if s.parent is not None and s.parent.span_id == node.context.span_id
    ]
    # flaky attempt 1 (503, retried), flaky attempt 2 (config error), paid attempt 1
    assert len(attempts) == 3
    first, second, paid = sorted(attempts, key=lambda s: s.start_time)
    assert first.attributes["reelgraph.attempt"] == 1
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["reelgraph.attempt"] == 2
    assert paid.attributes["reelgraph.provider"] == "paid"
    assert paid.name == "generate_content clip-1"  # GenAI span name: operation model
    assert paid.attributes["gen_ai.operation.name"] == "generate_content"
    assert paid.attributes["gen_ai.provider.name"] == "fakevendor"
    assert paid.attributes["gen_ai.request.model"] == "clip-1"
    assert paid.attributes["gen_ai.usage.input_tokens"] == 10
    assert paid.attributes["gen_ai.usage.output_tokens"] == 5
    assert paid.attributes["reelgraph.cost_usd"] == 1.0
    events = [e.name for e in node.events]
    assert events == ["reelgraph.retry", "reelgraph.fallback"]
    assert node.attributes["reelgraph.fallback"] == "provider:paid"
    assert node.attributes["reelgraph.cost_usd"] == 1.0
    assert node.attributes["reelgraph.node.attempts"] == 2
    assert node.status.status_code is not StatusCode.ERROR


def test_every_attempt_is_stored_with_its_outcome(tmp_path) -> None:
    flaky = Flaky(TransientError("503 upstream"), RateLimitedError("429", retry_after_s=0.01))
    kernel = make_kernel(flaky, persist=True, home=tmp_path)
    run = kernel.run(one_node("flaky", retry={"max_attempts": 3, **FAST}))
    assert run.status == "succeeded", run.error
    rows = kernel.store.get_attempts(run.id, "a")
    assert [(r.attempt, r.status, r.provider) for r in rows] == [
        (1, "failed", "flaky"),
        (2, "failed", "flaky"),
        (3, "succeeded", "flaky"),
    ]
    assert rows[0].error == "TransientError: 503 upstream"
    assert rows[1].error.startswith("RateLimitedError")
    assert all(r.seconds >= 0 for r in rows)
    assert rows[0].started_at <= rows[1].started_at <= rows[2].started_at


def test_when_the_fallback_node_fails_too_the_next_fallback_answers() -> None:
    spec = _with_standby(on_error=[{"node": "plan_b"}, {"provider": "backup"}])
    spec["nodes"][2]["provider"] = "paid"  # the standby node itself
    flaky = Flaky(ConfigurationError("down"))

    class BrokenPaid(Paid):
        @hookimpl
        async def call(self, value, ctx):
            raise InvalidInputError("plan b cannot take this")

    run = make_kernel(flaky, BrokenPaid(), Backup()).run(spec)
    assert run.status == "succeeded", run.error
    assert run.nodes["plan_b"].status == "failed"
    assert run.nodes["a"].fallback == "provider:backup"
    assert run.outputs["a"] == 100


def test_a_budget_stop_in_a_wave_of_parallel_nodes_leaves_no_node_running(tmp_path) -> None:
    paid = Paid()
    nodes = [
        {"id": f"p{i}", "hook": "call", "provider": "paid", "with": {"value": i}} for i in range(4)
    ]
    kernel = make_kernel(paid, persist=True, home=tmp_path)
    run = kernel.run({"name": "fan", "nodes": nodes}, budget={"max_cost_usd": 2.5})
    assert run.status == "over_budget"
    statuses = sorted(r.status for r in run.nodes.values())
    assert statuses == ["blocked", "blocked", "succeeded", "succeeded"]
    assert paid.calls == 2
    stored = sorted(row.status for row in kernel.store.get_nodes(run.id))
    assert stored == statuses  # the run store agrees: nothing left "running"


def test_a_raised_budget_is_kept_for_later_resumes(tmp_path) -> None:
    paid = Paid()
    kernel = make_kernel(paid, persist=True, home=tmp_path)
    first = kernel.run(_paid_chain(6), budget={"max_cost_usd": 2})
    assert first.status == "over_budget" and paid.calls == 2
    second = kernel.resume(first.id, budget={"max_cost_usd": 4})
    assert second.status == "over_budget" and paid.calls == 4
    third = kernel.resume(first.id)  # no flag: the raised $4 holds, not the first $2
    assert third.status == "over_budget" and paid.calls == 4
    assert third.error is not None and "$4.0000" in str(third.error)
    last = kernel.resume(first.id, budget={"max_cost_usd": 100})
    assert last.status == "succeeded" and paid.calls == 6


def test_money_spent_by_a_node_that_then_failed_counts_on_resume(tmp_path) -> None:
    class PaysThenFails(Paid):
        def __init__(self) -> None:
            super().__init__(estimate=None)
            self.fail = True

        @hookimpl
        async def call(self, value, ctx):
            self.calls += 1
            ctx.report_cost(1.0)
            if self.fail:
                raise FatalError("the vendor lost the job after charging for it")
            return value + 1

    plugin = PaysThenFails()
    kernel = make_kernel(plugin, persist=True, home=tmp_path)
    first = kernel.run(_paid_chain(1))
    assert first.status == "failed" and plugin.calls == 1
    plugin.fail = False
    again = kernel.resume(first.id, budget={"max_cost_usd": 0.9})
    assert again.status == "over_budget"  # the $1.00 already charged is over $0.90
    assert plugin.calls == 1
