"""OpenTelemetry: one span per run, one child span per node, errors recorded."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from reelgraph import Kernel
from tests.kernel.steps import Failer, StepSpecs


def traced_kernel(adder):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    kernel = Kernel(
        plugins=[adder, Failer()],
        entry_points=False,
        hookspecs=[StepSpecs],
        tracer_provider=provider,
    )
    return kernel, exporter


def test_span_tree_has_run_and_node_spans(adder) -> None:
    kernel, exporter = traced_kernel(adder)
    spec = {
        "name": "traced",
        "nodes": [
            {"id": "a", "hook": "step", "provider": "adder", "with": {"value": 1}},
            {"id": "b", "hook": "step", "provider": "adder", "with": {"value": "$a"}},
            {"id": "c", "hook": "step", "provider": "adder", "with": {"value": "$a"}},
        ],
    }
    run = kernel.run(spec)
    assert run.status == "succeeded"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    # c asks what b asked (step(2)): the memo cache answers, no attempt is made
    assert set(spans) == {"run traced", "node a", "node b", "node c", "attempt 1 a", "attempt 1 b"}
    assert [e.name for e in spans["node c"].events] == ["reelgraph.cache_hit"]
    assert spans["node c"].attributes["reelgraph.node.cached"] is True
    assert spans["node b"].attributes["reelgraph.node.cached"] is False
    root = spans["run traced"]
    assert root.parent is None
    assert root.attributes["reelgraph.run.id"] == run.id
    for node_id in "abc":
        span = spans[f"node {node_id}"]
        assert span.parent.span_id == root.context.span_id
        assert span.context.trace_id == root.context.trace_id
        assert span.attributes["reelgraph.node.id"] == node_id
        assert span.attributes["reelgraph.hook"] == "step"
        assert span.attributes["reelgraph.provider"] == "adder"
        attempt = spans.get(f"attempt 1 {node_id}")
        if node_id != "c":
            assert attempt.parent.span_id == span.context.span_id
            assert attempt.attributes["reelgraph.attempt"] == 1
        assert span.attributes["reelgraph.node.status"] == "succeeded"


def test_failed_node_span_records_the_error(adder) -> None:
    kernel, exporter = traced_kernel(adder)
    run = kernel.run(
        {
            "name": "bad",
            "nodes": [{"id": "x", "hook": "fail", "provider": "failer", "with": {"value": 3}}],
        }
    )
    assert run.status == "failed"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    node = spans["node x"]
    assert node.status.status_code == StatusCode.ERROR
    assert any(
        e.name == "exception" and "cannot handle 3" in e.attributes["exception.message"]
        for e in node.events
    )
    assert spans["run bad"].status.status_code == StatusCode.ERROR


def test_no_tracer_provider_means_no_spans(adder) -> None:
    from reelgraph.observe.tracing import active_tracer

    assert active_tracer() is None  # nothing configured globally in the test process
