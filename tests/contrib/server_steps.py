"""A fast hook family for the server tests: no media, real kernel, real run store.

``python -m tests.contrib.server_steps HOME PORT [POLL_S]`` serves the same app
in a process of its own (the restart test kills it mid-run; bench/server_load.py
loads it).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from reelgraph import NeedsInput, hookimpl
from reelgraph.hookspecs import defaults, hookspec

STEP_COST_USD = 0.01


class ServerSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    @defaults(delay_s=0.0)
    def step(value, delay_s, ctx):
        """Return ``value + 1`` after ``delay_s`` seconds; write it to ``value.txt``."""

    @staticmethod
    @hookspec(firstresult=True)
    @defaults(answers={})
    def ask(topic, answers, ctx):
        """Return ``topic`` for the audience; ask for it when ``answers`` lacks it."""


class Stepper:
    reelgraph_name = "stepper"

    @hookimpl
    async def step(self, value, delay_s, ctx):
        if delay_s:
            await asyncio.sleep(delay_s)
        ctx.report_cost(STEP_COST_USD, detail="one step")
        (ctx.workdir / "value.txt").write_text(f"{value + 1}\n" * 1000, encoding="utf-8")
        return value + 1


class Asker:
    reelgraph_name = "asker"

    @hookimpl
    def ask(self, topic, answers, ctx):
        if "audience" not in answers:
            raise NeedsInput("who is it for?", [{"key": "audience", "question": "Who watches?"}])
        return f"{topic} for {answers['audience']}"


def chain_spec(n: int, delay_s: float = 0.0) -> dict[str, Any]:
    """``n`` steps in a row from ``$inputs.start``; the output ``last`` is the final value."""
    nodes = [
        {
            "id": f"s{i}",
            "hook": "step",
            "provider": "stepper",
            "with": {"value": "$inputs.start" if i == 0 else f"$s{i - 1}", "delay_s": delay_s},
        }
        for i in range(n)
    ]
    return {
        "name": "chain",
        "inputs": {"start": {"type": "integer", "default": 0}},
        "nodes": nodes,
        "outputs": {"last": f"$s{n - 1}"},
    }


def asking_spec() -> dict[str, Any]:
    return {
        "name": "asking",
        "inputs": {"topic": {"default": "cats"}, "answers": {"type": "object", "default": {}}},
        "nodes": [
            {
                "id": "plan",
                "hook": "ask",
                "provider": "asker",
                "with": {"topic": "$inputs.topic", "answers": "$inputs.answers"},
            }
        ],
        "outputs": {"plan": "$plan"},
    }


def upload_spec() -> dict[str, Any]:
    """Reads an uploaded document with the in-tree text ingester."""
    return {
        "name": "upload",
        "inputs": {"document": {"type": "file"}},
        "nodes": [{"id": "doc", "hook": "ingest_document", "with": {"source": "$inputs.document"}}],
        "outputs": {"title": "$doc.title"},
    }


def make_kernel(home: Path) -> Any:
    from reelgraph import Kernel

    return Kernel(plugins=[Stepper(), Asker()], hookspecs=[ServerSpecs], home=home, lease_ttl_s=30)


if __name__ == "__main__":
    import uvicorn

    from reelgraph.contrib.server.app import create_app

    home, port = Path(sys.argv[1]), int(sys.argv[2])
    poll_s = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    app = create_app(make_kernel(home), poll_s=poll_s)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
