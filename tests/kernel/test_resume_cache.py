"""Durable runs: memo cache, resume after failure or cancellation, artifact checks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reelgraph import Kernel, ProviderError, hookimpl
from reelgraph.hookspecs import defaults, hookspec


class FileSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    @defaults(delay_s=0.0)
    def make(text, delay_s, ctx):
        """Write ``text`` to a file and return its path."""

    @staticmethod
    @hookspec(firstresult=True)
    def shout(path, ctx):
        """Return the upper-cased content of ``path``."""


class Maker:
    reelgraph_name = "maker"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_shout = False
        self.skip_delays = False

    @hookimpl
    async def make(self, text, delay_s, ctx):
        self.calls.append(f"make:{text}")
        if delay_s and not self.skip_delays:
            await asyncio.sleep(delay_s)
        path = ctx.workdir / "out.txt"
        path.write_text(text)
        return path

    @hookimpl
    def shout(self, path, ctx):
        self.calls.append("shout")
        if self.fail_shout:
            raise ProviderError("shout is down")
        return Path(path).read_text().upper()


SPEC = {
    "name": "files",
    "inputs": {"words": {"type": "list"}},
    "nodes": [
        {
            "id": "files",
            "hook": "make",
            "provider": "maker",
            "map": "$inputs.words",
            "with": {"text": "$item"},
        },
        {"id": "loud", "hook": "shout", "provider": "maker", "with": {"path": "$files.0"}},
    ],
    "outputs": {"loud": "$loud", "first": "$files.0"},
}


@pytest.fixture
def maker() -> Maker:
    return Maker()


@pytest.fixture
def kernel(maker: Maker, tmp_path: Path) -> Kernel:
    return Kernel(plugins=[maker], entry_points=False, hookspecs=[FileSpecs], home=tmp_path)


def test_second_run_is_served_from_the_cache(kernel: Kernel, maker: Maker) -> None:
    first = kernel.run(SPEC, inputs={"words": ["a", "b"]})
    assert first.status == "succeeded", first.error
    assert sorted(maker.calls) == ["make:a", "make:b", "shout"]
    assert first.outputs["loud"] == "A"
    # outputs point into the content-addressed store, not the run's scratch dir
    assert first.outputs["first"].is_relative_to(kernel.home / "artifacts")
    maker.calls.clear()
    second = kernel.run(SPEC, inputs={"words": ["a", "b"]})
    assert second.status == "succeeded"
    assert maker.calls == []
    assert all(n.cached for n in second.nodes.values())
    assert second.outputs == first.outputs


def test_cache_is_per_call_and_follows_the_arguments(kernel: Kernel, maker: Maker) -> None:
    kernel.run(SPEC, inputs={"words": ["a", "b"]})
    maker.calls.clear()
    run = kernel.run(SPEC, inputs={"words": ["a", "c"]})
    assert maker.calls == ["make:c"]  # 'a' and the shout of file 'a' come from the cache
    assert not run.nodes["files"].cached and run.nodes["loud"].cached


def test_cache_can_be_turned_off_per_run_and_per_node(kernel: Kernel, maker: Maker) -> None:
    kernel.run(SPEC, inputs={"words": ["a"]})
    maker.calls.clear()
    kernel.run(SPEC, inputs={"words": ["a"]}, cache=False)
    assert sorted(maker.calls) == ["make:a", "shout"]
    maker.calls.clear()
    spec = {**SPEC, "nodes": [SPEC["nodes"][0], {**SPEC["nodes"][1], "cache": False}]}
    kernel.run(spec, inputs={"words": ["a"]})
    assert maker.calls == ["shout"]


def test_resume_after_a_failure_reuses_finished_nodes(kernel: Kernel, maker: Maker) -> None:
    maker.fail_shout = True
    failed = kernel.run(SPEC, inputs={"words": ["x", "y"]}, cache=False)
    assert failed.status == "failed" and failed.failed_node == "loud"
    assert kernel.store.get_run(failed.id).status == "failed"
    maker.fail_shout = False
    maker.calls.clear()
    resumed = kernel.resume(failed.id)
    assert resumed.id == failed.id and resumed.status == "succeeded"
    assert maker.calls == ["shout"]  # the map node was not executed again
    assert resumed.nodes["files"].cached and not resumed.nodes["loud"].cached
    assert resumed.outputs["loud"] == "X"
    assert kernel.store.get_run(failed.id).status == "succeeded"


def test_a_corrupt_artifact_is_recomputed(kernel: Kernel, maker: Maker, caplog) -> None:
    maker.fail_shout = True
    failed = kernel.run(SPEC, inputs={"words": ["x"]})
    stored = failed.nodes["files"]
    assert stored.status == "succeeded"
    artifact = next((kernel.home / "artifacts").rglob("out.txt"))
    artifact.write_text("tampered")
    maker.fail_shout = False
    maker.calls.clear()
    resumed = kernel.resume(failed.id)
    assert resumed.status == "succeeded"
    assert maker.calls == ["make:x", "shout"]  # checksum failed: the node ran again
    assert resumed.outputs["loud"] == "X"


def test_cancelled_run_is_recorded_and_resumable(kernel: Kernel, maker: Maker) -> None:
    spec = {
        "name": "slow",
        "nodes": [
            {"id": "quick", "hook": "make", "provider": "maker", "with": {"text": "q"}},
            {
                "id": "slow",
                "hook": "make",
                "provider": "maker",
                "with": {"text": "$$slow", "delay_s": 30},
                "needs": ["quick"],
            },
        ],
    }

    async def cancel_soon() -> str:
        task = asyncio.create_task(kernel.arun(spec, run_id="cancel-me"))
        while "make:$slow" not in maker.calls:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return "cancel-me"

    run_id = asyncio.run(cancel_soon())
    row = kernel.store.get_run(run_id)
    assert row.status == "cancelled"
    nodes = {n.node_id: n.status for n in kernel.store.get_nodes(run_id)}
    assert nodes == {"quick": "succeeded", "slow": "cancelled"}
    maker.calls.clear()
    maker.skip_delays = True
    resumed = kernel.resume(run_id)
    assert resumed.status == "succeeded"
    assert maker.calls == ["make:$slow"]  # 'quick' finished before the cancel: reused
    assert resumed.nodes["quick"].cached
    assert kernel.store.get_run(run_id).status == "succeeded"


def test_ephemeral_kernel_writes_nothing(maker: Maker, tmp_path: Path) -> None:
    kernel = Kernel(
        plugins=[maker], entry_points=False, hookspecs=[FileSpecs], home=tmp_path, persist=False
    )
    run = kernel.run(SPEC, inputs={"words": ["a"]})
    assert run.status == "succeeded"
    assert not (tmp_path / "reelgraph.db").exists()
    assert not (tmp_path / "artifacts").exists()
