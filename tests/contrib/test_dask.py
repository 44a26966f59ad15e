"""The Dask executor on real LocalClusters: same outputs as in-process, the worker's
plugins, trace context, what crosses back (cost, progress, journal), a worker
killed mid-node, batches.

Workers find plugins through entry points, as a user's would: the probe plugin
(tests/fixtures/reelgraph_dask_probe) is pip-installed into a folder of its
own and put on ``sys.path`` (thread workers) or ``PYTHONPATH`` (process
workers) only where a test wants it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason='pip install "reelgraph[dask]" (in the test extra)')

from distributed import get_task_stream  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

from reelgraph import Kernel  # noqa: E402
from reelgraph.contrib.dask import worker as dask_worker  # noqa: E402
from reelgraph.contrib.dask.executor import DaskExecutor  # noqa: E402
from reelgraph.errors import ConfigurationError  # noqa: E402
from tests.kernel.steps import pip_install_fixtures  # noqa: E402

DOC = (
    "# Tea\n\nTea is a drink made from the leaves of a shrub. People drink it hot.\n\n"
    "## Green tea\n\nGreen tea is not oxidised. It tastes fresh and grassy.\n\n"
    "## Black tea\n\nBlack tea is fully oxidised. It is strong and dark.\n"
)

#: ingest, script, slides and speech: deterministic plugins whose files can be compared
MEDIA_SPEC = {
    "name": "media",
    "inputs": {"document": {"type": "file"}},
    "nodes": [
        {"id": "document", "hook": "ingest_document", "with": {"source": "$inputs.document"}},
        {
            "id": "script",
            "hook": "write_script",
            "provider": "extractive",
            "with": {"document": "$document"},
        },
        {
            "id": "slides",
            "hook": "render_shot",
            "provider": "slides",
            "map": "$script.scenes",
            "with": {"scene": "$item"},
        },
        {
            "id": "narration",
            "hook": "synthesize_speech",
            "provider": "espeak",
            "map": "$script.scenes",
            "with": {"sentences": "$item.narration", "voice": "en-us"},
        },
        {
            "id": "shots_quality",
            "hook": "check_quality",
            "with": {"visuals": "$slides", "gates": ["accessibility"]},
        },
    ],
    "outputs": {"script": "$script", "slides": "$slides", "narration": "$narration"},
}


def probe_spec(**options: dict) -> dict:
    """Two probe nodes, ``first`` then ``second``, each with its options."""
    retry = {"max_attempts": 3, "initial_s": 0.05, "max_s": 0.1, "jitter_s": 0}
    return {
        "name": "probe",
        "nodes": [
            {
                "id": node_id,
                "hook": "write_script",
                "provider": "dask_probe",
                "with": {"options": {"tag": node_id, **options.get(node_id, {})}},
                "retry": retry,
                **({"needs": ["first"]} if node_id == "second" else {}),
            }
            for node_id in ("first", "second")
        ],
        "outputs": {"first": "$first.title", "second": "$second.title"},
    }


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("probe-site")
    pip_install_fixtures(target, tmp_path_factory.mktemp("build"), "reelgraph_dask_probe")
    return target


@pytest.fixture(scope="module")
def threads(probe_site: Path):
    """A LocalCluster of two thread workers in this process, the probe plugin installed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(probe_site))
        dask_worker._plugins.cache_clear()  # workers load plugins afresh, probe included
        executor = DaskExecutor(workers=2, processes=False)
        try:
            yield executor
        finally:
            executor.close()
            dask_worker._plugins.cache_clear()


def digests(outputs: dict) -> list[str]:
    """The slides' PNG bytes, hashed (espeak-ng's WAVs differ from run to run even
    in-process, by a few samples: speech is compared by its sentences)."""
    return [hashlib.sha256(Path(v.path).read_bytes()).hexdigest() for v in outputs["slides"]]


def spoken(outputs: dict) -> list[list[str]]:
    return [[s.text for s in n.segments] for n in outputs["narration"]]


def test_outputs_are_byte_identical_to_in_process(threads, tmp_path: Path) -> None:
    doc = tmp_path / "tea.md"
    doc.write_text(DOC)
    local = Kernel(home=tmp_path / "local").run(MEDIA_SPEC, {"document": doc})
    with get_task_stream(threads.client) as stream:
        remote = Kernel(home=tmp_path / "dask", executor=threads).run(MEDIA_SPEC, {"document": doc})
    assert local.status == remote.status == "succeeded", remote.error
    assert remote.outputs["script"] == local.outputs["script"]
    assert digests(remote.outputs) == digests(local.outputs)
    assert spoken(remote.outputs) == spoken(local.outputs)
    assert len(local.outputs["slides"]) == 4  # a title, two sections, a closing
    # every node's calls ran as Dask tasks: one per node, one per map item
    keys = [task["key"] for task in stream.data]
    ran = {node: sum(k.startswith(f"reelgraph-{node}-") for k in keys) for node in MEDIA_SPEC_IDS}
    assert ran == {"document": 1, "script": 1, "slides": 4, "narration": 4, "shots_quality": 1}


MEDIA_SPEC_IDS = [node["id"] for node in MEDIA_SPEC["nodes"]]


def test_cost_progress_and_journal_cross_back(threads, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions.txt"
    spec = probe_spec(
        first={"cost_usd": 0.25, "progress": True, "submissions": str(submissions)},
        second={"tag": "two"},
    )
    kernel = Kernel(home=tmp_path / "home", executor=threads)
    run = kernel.run(spec)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"first": "FIRST", "second": "TWO"}
    assert run.nodes["first"].cost_usd == pytest.approx(0.25)
    progress = [e for e in run.events if e.type == "node.progress" and e.node_id == "first"]
    assert [(e.data["completed"], e.data["total"], e.data["message"]) for e in progress] == [
        (1, 2, "half way")
    ]
    # the worker journalled into the run store itself, durably
    assert kernel.store.journal_get(run.id, "first", None, "task") == "task-first"
    assert submissions.read_text() == "first\n"


def test_an_ephemeral_run_gets_its_journal_entries_back(threads, tmp_path: Path) -> None:
    kernel = Kernel(home=tmp_path / "home", executor=threads, persist=False)
    spec = probe_spec(first={"submissions": str(tmp_path / "s.txt")})
    run = kernel.run(spec)
    assert run.status == "succeeded", run.error
    assert (tmp_path / "s.txt").read_text() == "first\n"


def test_worker_spans_are_children_of_the_attempt_span(
    threads, tmp_path: Path, monkeypatch
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # the thread workers share this process's global tracer provider (process workers
    # configure theirs from OTEL_* variables); restored after the test
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    run = Kernel(home=tmp_path / "home", executor=threads, tracer_provider=provider).run(
        probe_spec()
    )
    assert run.status == "succeeded", run.error
    spans = {s.name: s for s in exporter.get_finished_spans()}
    for node_id in ("first", "second"):
        node = spans[f"node {node_id}"]
        attempt = spans[f"attempt 1 {node_id}"]
        worker = spans[f"worker {node_id}"]
        assert attempt.parent.span_id == node.context.span_id
        assert worker.parent.span_id == attempt.context.span_id
        assert worker.context.trace_id == node.context.trace_id
        assert worker.attributes["reelgraph.executor"] == "dask"
        assert worker.attributes["reelgraph.worker"].startswith("inproc://")


def test_async_hooks_and_kernel_given_plugins_stay_in_process(threads, tmp_path: Path) -> None:
    from reelgraph import hookimpl
    from reelgraph.models import Script

    class Writer:
        reelgraph_name = "async_writer"

        @hookimpl
        async def write_script(self, options, ctx):
            return Script(title="async", scenes=[])

    kernel = Kernel(plugins=[Writer()], home=tmp_path / "home", executor=threads)
    spec = {
        "name": "mixed",
        "nodes": [
            {"id": "a", "hook": "write_script", "provider": "async_writer", "with": {}},
            {"id": "b", "hook": "write_script", "provider": "dask_probe", "with": {}},
        ],
    }
    plan = kernel.plan(spec)
    assert not threads.runs_on_workers(plan.nodes["a"])
    assert threads.runs_on_workers(plan.nodes["b"])
    with get_task_stream(threads.client) as stream:
        run = kernel.run(plan)
    assert run.status == "succeeded", run.error
    assert [task["key"].split("-")[1] for task in stream.data] == ["b"]


def test_batch_of_three_csv_rows_shares_the_executor(threads, tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    rows = tmp_path / "batch.csv"
    rows.write_text("tag\nalpha\nbeta\n\ngamma\n")
    spec = {
        "name": "rows",
        "inputs": {"tag": {"type": "string"}},
        "nodes": [
            {
                "id": "script",
                "hook": "write_script",
                "provider": "dask_probe",
                "with": {"options": {"tag": "$inputs.tag", "calls": str(calls)}},
            }
        ],
        "outputs": {"title": "$script.title"},
    }
    kernel = Kernel(home=tmp_path / "home", executor=threads)
    done = kernel.batch(spec, rows, output_dir=tmp_path / "out", runs_at_once=3)
    assert [row.run.outputs["title"] for row in done] == ["ALPHA", "BETA", "GAMMA"]
    assert [row.number for row in done] == [1, 2, 3]
    assert len({row.run.id for row in done}) == 3
    assert len(calls.read_text().splitlines()) == 3
    assert kernel.executor is threads  # one executor served the three runs


# -- process workers: plugins as installed there, workers killed -------------------


@pytest.fixture(scope="module")
def processes(probe_site: Path):
    """Two worker processes that see the probe plugin (PYTHONPATH when they start)."""
    with pytest.MonkeyPatch.context() as patch:
        path = os.pathsep.join(filter(None, [str(probe_site), os.environ.get("PYTHONPATH")]))
        patch.setenv("PYTHONPATH", path)
        patch.syspath_prepend(str(probe_site))
        # kept for the module: a worker the nanny restarts after a kill needs it too
        executor = DaskExecutor(workers=2, processes=True)
        executor.client.wait_for_workers(2, timeout=60)
        try:
            yield executor
        finally:
            executor.close()


def test_worker_killed_mid_node_is_retried_and_nothing_is_redone(
    processes, probe_site: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.syspath_prepend(str(probe_site))  # the kernel sees the probe too
    calls, submissions = tmp_path / "calls.txt", tmp_path / "submissions.txt"
    common = {"calls": str(calls), "submissions": str(submissions)}
    spec = probe_spec(first=common, second={**common, "die_once": str(tmp_path / "died")})
    kernel = Kernel(home=tmp_path / "home", executor=processes)
    run = kernel.run(spec)
    assert run.status == "succeeded", run.error
    lines = [line.split() for line in calls.read_text().splitlines()]
    assert [(node, attempt) for node, attempt, _ in lines] == [
        ("first", "1"),
        ("second", "1"),
        ("second", "2"),
    ]
    killed = int((tmp_path / "died").read_text())
    assert int(lines[1][2]) == killed and int(lines[2][2]) != killed  # another worker
    assert run.nodes["first"].attempts == 1 and run.nodes["second"].attempts == 2
    retried = [e for e in run.events if e.type == "node.retrying"]
    assert len(retried) == 1 and "TransientError" in retried[0].data["error"]
    assert "lost" in retried[0].data["error"]
    # the submission made before the worker died was journalled: not made again
    assert submissions.read_text().splitlines() == ["first", "second"]
    assert kernel.store.journal_get(run.id, "second", None, "task") == "task-second"


def test_a_worker_names_the_plugin_it_lacks() -> None:
    call = dask_worker.RemoteCall(
        key="k",
        run_id="r",
        node_id="script",
        hook="write_script",
        provider="no_such_writer",
        plugins=("no_such_writer",),
        collect=False,
        kwargs={},
        attempt=1,
        item_index=None,
        run_dir="/tmp",
        store_path=None,
        store_location=None,
        journal={},
    )
    with pytest.raises(ConfigurationError) as caught:
        dask_worker._caller(call, "tcp://10.0.0.7:40000")
    assert str(caught.value) == (
        "node 'script': plugin 'no_such_writer' (hook write_script) is unavailable on Dask "
        "worker tcp://10.0.0.7:40000: not installed; install the package that provides the "
        "'no_such_writer' entry point (group 'reelgraph') on every worker"
    )


@pytest.mark.slow
def test_a_plugin_missing_on_the_workers_is_named(
    processes, tmp_path: Path, tmp_path_factory, monkeypatch
) -> None:
    # the kernel has reelgraph-shout installed; the running workers do not
    site = tmp_path_factory.mktemp("shout-site")
    pip_install_fixtures(site, tmp_path_factory.mktemp("build"), "reelgraph_shout")
    monkeypatch.syspath_prepend(str(site))
    doc = tmp_path / "talk.md"
    doc.write_text("# Small talk\n\n## Weather\n\nIt rains.\n")
    spec = {
        "name": "shout",
        "inputs": {"document": {"type": "file"}},
        "nodes": [
            {"id": "document", "hook": "ingest_document", "with": {"source": "$inputs.document"}},
            {
                "id": "script",
                "hook": "write_script",
                "provider": "shout",
                "with": {"document": "$document"},
            },
        ],
    }
    executor = DaskExecutor(client=processes.client)  # sees shout's entry point now
    run = Kernel(home=tmp_path / "home", executor=executor).run(spec, {"document": doc})
    assert run.status == "failed"
    message = str(run.error)
    assert "plugin 'shout'" in message and "unavailable on Dask worker tcp://" in message
    assert "install the package that provides the 'shout' entry point" in message
    assert run.nodes["script"].attempts == 1  # a configuration error: not retried
    assert run.nodes["document"].status == "succeeded"
    assert sys.modules.get("reelgraph_shout") is not None  # the kernel itself had it


@pytest.mark.slow
def test_cli_batch_on_a_dask_local_cluster(probe_site: Path, tmp_path: Path) -> None:
    import json
    import subprocess

    (tmp_path / "rows.jsonl").write_text('{"tag": "one"}\n{"tag": "two"}\n{"tag": "three"}\n')
    spec = tmp_path / "tags.yaml"
    spec.write_text(
        "name: tags\ninputs:\n  tag: {type: string}\n"
        "nodes:\n  - id: script\n    hook: write_script\n    provider: dask_probe\n"
        "    with: {options: {tag: $inputs.tag}}\n"
        "outputs:\n  title: $script.title\n"
    )
    env = {**os.environ, "PYTHONPATH": str(probe_site), "REELGRAPH_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "reelgraph", "batch", str(spec), "--inputs", "rows.jsonl"]
        + ["-o", "out", "--executor", "dask", "--workers", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["status"] for r in rows] == ["succeeded"] * 3
    titles = [
        json.loads((tmp_path / "out" / f"row-{n}" / "run.json").read_text())["outputs"]["title"]
        for n in (1, 2, 3)
    ]
    assert titles == ["ONE", "TWO", "THREE"]
