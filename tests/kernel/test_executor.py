"""The executor seam: executors registered by name through a hook, the in-process one
the default, every call through ``Executor.call`` and every decision still the kernel's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.errors import ConfigurationError, TransientError
from reelgraph.plan.registry import PluginRegistry
from reelgraph.run.executors import InProcessExecutor, executor_names, open_executor
from tests.kernel.steps import StepSpecs, SyncAdder, chain_spec

CLI = [sys.executable, "-m", "reelgraph.cli"]


class FlakyExecutor:
    """Runs calls in-process, but loses the first call of each node, as a lost worker would."""

    name = "flaky"

    def __init__(self, **options):
        self.options = options
        self.calls: list[tuple[str, int]] = []
        self.closed = False
        self._inner = InProcessExecutor()

    async def call(self, node, kwargs):
        self.calls.append((node.id, kwargs["ctx"].attempt))
        if kwargs["ctx"].attempt == 1:
            raise TransientError("worker lost")
        return await self._inner.call(node, kwargs)

    def close(self):
        self.closed = True


class FlakyPlugin:
    reelgraph_name = "flaky_executor"

    @hookimpl
    def register_executors(self, register):
        register("flaky", FlakyExecutor)


def test_installed_executors_are_registered_by_name() -> None:
    registry = PluginRegistry()
    assert {"asyncio", "dask"} <= set(executor_names(registry))
    assert registry.info("asyncio").hooks == ["register_executors"]
    assert isinstance(open_executor(registry, "asyncio"), InProcessExecutor)


def test_the_in_process_executor_is_there_without_entry_points() -> None:
    kernel = Kernel(plugins=[SyncAdder()], entry_points=False, hookspecs=[StepSpecs])
    assert kernel.executor.name == "asyncio"
    run = kernel.run(chain_spec(3, provider="syncadder"), {"start": 1})
    assert run.outputs == {"n2": 4}


def test_an_unknown_executor_or_a_bad_option_is_one_clear_error() -> None:
    registry = PluginRegistry(entry_points=False)
    with pytest.raises(ConfigurationError, match=r"no executor named 'nope'; registered: asyncio"):
        open_executor(registry, "nope")
    with pytest.raises(ConfigurationError, match=r"takes no options \(got workers\)"):
        open_executor(registry, "asyncio", {"workers": 2})


def test_a_plugin_executor_runs_every_call_and_the_kernel_still_retries() -> None:
    kernel = Kernel(
        plugins=[SyncAdder(), FlakyPlugin()],
        entry_points=False,
        hookspecs=[StepSpecs],
        executor="flaky",
        executor_options={"colour": "blue"},
    )
    run = kernel.run(chain_spec(2, provider="syncadder"), {"start": 1})
    assert run.status == "succeeded", run.error
    assert run.outputs == {"n1": 3}
    executor = kernel.executor
    assert executor.options == {"colour": "blue"}
    assert executor.calls == [("n0", 1), ("n0", 2), ("n1", 1), ("n1", 2)]
    assert [run.nodes[n].attempts for n in ("n0", "n1")] == [2, 2]
    assert [e.node_id for e in run.events if e.type == "node.retrying"] == ["n0", "n1"]
    kernel.close()
    assert executor.closed


def test_another_executor_is_handed_async_calls_too(adder) -> None:
    kernel = Kernel(
        plugins=[adder, FlakyPlugin()], entry_points=False, hookspecs=[StepSpecs], executor="flaky"
    )
    run = kernel.run(chain_spec(2), {"start": 1})  # plain async nodes: the fast path's shape
    assert run.outputs == {"n1": 3}
    assert kernel.executor.calls == [("n0", 1), ("n0", 2), ("n1", 1), ("n1", 2)]


def test_cli_refuses_an_unknown_executor(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "run", "document-to-video", "-i", "document=x.md", "--executor", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "no executor named 'nope'; registered: asyncio, dask" in result.stderr


def test_cli_batch_runs_a_three_row_csv_and_prints_a_summary(tmp_path: Path) -> None:
    for name, text in {"a": "Apples are red.", "b": "Bananas are yellow.", "c": "Kiwis."}.items():
        (tmp_path / f"{name}.md").write_text(f"# {name.upper()}\n\n{text}\n")
    (tmp_path / "rows.csv").write_text("document,rate_wpm\na.md,150\nb.md,\nc.md,130\n")
    spec = tmp_path / "outline.yaml"
    spec.write_text(
        "name: outline\n"
        "inputs:\n  document: {type: file}\n  rate_wpm: {type: integer, default: 140}\n"
        "nodes:\n"
        "  - id: document\n    hook: ingest_document\n    with: {source: $inputs.document}\n"
        "  - id: script\n    hook: write_script\n    provider: extractive\n"
        "    with: {document: $document}\n"
        "outputs:\n  title: $script.title\n  rate: $inputs.rate_wpm\n"
    )
    result = subprocess.run(
        [*CLI, "batch", str(spec), "--inputs", "rows.csv", "-o", "out", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["row"] for r in rows] == [1, 2, 3]
    assert [r["status"] for r in rows] == ["succeeded"] * 3
    assert [r["where"] for r in rows] == ["rows.csv:2", "rows.csv:3", "rows.csv:4"]
    records = [
        json.loads((tmp_path / "out" / f"row-{n}" / "run.json").read_text()) for n in (1, 2, 3)
    ]
    assert [r["outputs"]["title"] for r in records] == ["A", "B", "C"]
    assert [r["outputs"]["rate"] for r in records] == [150, 140, 130]  # an empty cell: default
    assert len({r["id"] for r in records}) == 3

    table = subprocess.run(
        [*CLI, "batch", str(spec), "--inputs", "rows.csv", "-o", "out2"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert table.returncode == 0, table.stderr
    assert "batch: 3 runs on executor asyncio" in table.stderr
    assert table.stderr.count("succeeded") >= 6  # a line per finished run, a table row each


def test_cli_batch_checks_every_row_before_running_any(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nApples.\n")
    (tmp_path / "rows.jsonl").write_text(
        '{"document": "a.md"}\n{"document": "missing.md"}\n{"documnt": "a.md"}\n'
    )
    result = subprocess.run(
        [*CLI, "batch", "document-to-video", "--inputs", "rows.jsonl", "-o", "out"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "rows.jsonl:2" in result.stderr and "missing.md" in result.stderr
    assert "rows.jsonl:3" in result.stderr and "unknown input 'documnt'" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing ran
