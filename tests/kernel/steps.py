"""Small in-test hooks and plugins for exercising the kernel without media."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from reelgraph import ProviderError, hookimpl
from reelgraph.hookspecs import defaults, hookspec


class StepSpecs:
    """A hook family of the tests' own, added with Kernel(hookspecs=[...])."""

    @staticmethod
    @hookspec(firstresult=True)
    @defaults(delay_s=0.0)
    def step(value, delay_s, ctx):
        """Return ``value + 1`` after ``delay_s`` seconds."""

    @staticmethod
    @hookspec(firstresult=True)
    def fail(value, ctx):
        """Always raise."""


class AsyncAdder:
    reelgraph_name = "adder"

    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.peak = 0

    @hookimpl
    async def step(self, value, delay_s, ctx):
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if delay_s:
                await asyncio.sleep(delay_s)
            return value + 1
        finally:
            self.in_flight -= 1


class SyncAdder:
    reelgraph_name = "syncadder"

    def __init__(self) -> None:
        self.threads: set[int] = set()

    @hookimpl
    def step(self, value, delay_s, ctx):
        self.threads.add(threading.get_ident())
        if delay_s:
            time.sleep(delay_s)
        return value + 1


class Failer:
    reelgraph_name = "failer"

    @hookimpl
    def fail(self, value, ctx):
        raise ProviderError(f"cannot handle {value!r}")


def chain_spec(n: int, provider: str = "adder", **extra) -> dict:
    nodes = [{"id": "n0", "hook": "step", "provider": provider, "with": {"value": "$inputs.start"}}]
    nodes += [
        {"id": f"n{i}", "hook": "step", "provider": provider, "with": {"value": f"$n{i - 1}"}}
        for i in range(1, n)
    ]
    return {
        "name": "chain",
        "inputs": {"start": {"type": "integer", "default": 0}},
        "nodes": nodes,
        **extra,
    }


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def pip_install_fixtures(target, build_dir, *names: str) -> None:
    """pip-install fixture plugin packages (tests/fixtures/NAME) into ``target``, offline.

    A subprocess with ``PYTHONPATH=target`` then finds their entry points, as
    a user's environment would after ``pip install``.
    """
    import subprocess
    import sys

    for name in names:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--target",
                str(target),
                str(FIXTURES / name),
            ],
            check=True,
            cwd=build_dir,
            capture_output=True,
        )
