"""OTLP export through the standard ``OTEL_*`` variables, to a collector on loopback.

The fake collector speaks OTLP/HTTP as the specification describes
(https://opentelemetry.io/docs/specs/otlp/#otlphttp): ``POST /v1/traces``
with a binary protobuf ``ExportTraceServiceRequest`` (optionally gzip), and
answers with an ``ExportTraceServiceResponse``.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from reelgraph import ConfigurationError
from reelgraph.observe.tracing import configure_tracing


class _Collector(BaseHTTPRequestHandler):
    requests: list[ExportTraceServiceRequest] = []
    content_types: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        type(self).requests.append(request)
        type(self).content_types.append(self.headers.get("Content-Type", ""))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[tuple[str, type[_Collector]]]:
    handler = type("Collector", (_Collector,), {"requests": [], "content_types": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


SPEC = """\
name: tiny
inputs:
  document: {type: file}
nodes:
  - id: document
    hook: ingest_document
    with: {source: $inputs.document}
  - id: script
    hook: write_script
    provider: extractive
    with: {document: $document}
outputs:
  title: $script.title
"""


def _value(any_value) -> object:
    return getattr(any_value, any_value.WhichOneof("value"))


def test_cli_exports_run_and_node_spans_over_otlp_http(
    collector: tuple[str, type[_Collector]], tmp_path: Path
) -> None:
    endpoint, handler = collector
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    doc = tmp_path / "talk.md"
    doc.write_text("# Tracing\n\n## Spans\n\nOne per node.\n\n## Export\n\nOTLP.\n")
    env = {
        **os.environ,
        "REELGRAPH_HOME": str(tmp_path / "home"),
        "REELGRAPH_PLUGINS": "markdown,extractive",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",  # RFC 1952; the collector inflates it
        "OTEL_SERVICE_NAME": "reelgraph-otlp-test",
    }
    command = [sys.executable, "-m", "reelgraph.cli", "run", str(spec), "--json"]
    command += ["-i", f"document={doc}", "-o", str(tmp_path / "out")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Failed to export" not in result.stderr
    run_id = json.loads(result.stdout)["id"]

    # exported before the process exited: the CLI shut the provider down
    assert handler.requests, "the collector received nothing"
    assert set(handler.content_types) == {"application/x-protobuf"}
    spans, services = {}, set()
    for request in handler.requests:
        for resource_spans in request.resource_spans:
            attributes = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            services.add(attributes.get("service.name"))
            for scope_spans in resource_spans.scope_spans:
                assert scope_spans.scope.name == "reelgraph"
                for span in scope_spans.spans:
                    spans[span.name] = span
    assert services == {"reelgraph-otlp-test"}
    root = spans["run tiny"]
    root_attributes = {a.key: _value(a.value) for a in root.attributes}
    assert root_attributes["reelgraph.run.id"] == run_id
    assert root_attributes["reelgraph.spec"] == "tiny"
    assert root.parent_span_id == b""
    for node_id, hook in (("document", "ingest_document"), ("script", "write_script")):
        span = spans[f"node {node_id}"]
        attributes = {a.key: _value(a.value) for a in span.attributes}
        assert attributes["reelgraph.node.id"] == node_id
        assert attributes["reelgraph.hook"] == hook
        assert attributes["reelgraph.run.id"] == run_id
        assert span.trace_id == root.trace_id
        assert span.parent_span_id == root.span_id
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 0


def test_otlp_protocol_choice_and_missing_exporters_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="http/json"):
        configure_tracing(
            env={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
        )
    with pytest.raises(ConfigurationError, match="opentelemetry-exporter-otlp-proto-grpc"):
        configure_tracing(
            env={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
        )
    with pytest.raises(ConfigurationError, match="'zipkin_json' but no such exporter"):
        configure_tracing(env={"OTEL_TRACES_EXPORTER": "zipkin_json"})
    assert configure_tracing(env={"OTEL_TRACES_EXPORTER": "none"}) is None
