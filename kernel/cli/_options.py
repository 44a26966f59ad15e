"""The options of the commands that start or continue runs, declared once.

``run``, ``fork``, ``resume``, ``answer`` and ``batch`` take the same
options for what a run writes and prints (``--output-dir``, ``--json``,
``--trace``, ``--no-cache``), what it may spend (``--max-cost-usd``,
``--max-duration-s``) and where its hook calls run (``--concurrency``,
``--executor``, ``--scheduler``, ``--workers``). Each is an ``Annotated``
type a command names for its parameter (typer reads the option from it:
https://typer.tiangolo.com/tutorial/options/help/); the default stays on the
parameter. ``--output-dir``, ``--no-cache`` and ``--json`` say in their help
what the command does with them, so they are made by a function that takes
that help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "RUN_FLAGS",
    "AsJson",
    "Concurrency",
    "Executor",
    "Force",
    "NoCacheUnfinished",
    "MaxCost",
    "MaxDuration",
    "PublishDir",
    "Scheduler",
    "SecretInputs",
    "Trace",
    "Workers",
    "json_option",
    "budget",
    "no_cache_option",
    "output_dir_option",
]

#: the flags every run-starting command accepts (tests/kernel/test_cli_options.py checks)
RUN_FLAGS = (
    "--output-dir",
    "-o",
    "--json",
    "--trace",
    "--no-cache",
    "--max-cost-usd",
    "--max-duration-s",
    "--concurrency",
    "-c",
    "--executor",
    "--scheduler",
    "--workers",
)


def output_dir_option(help: str) -> Any:
    """``--output-dir`` / ``-o`` with the command's ``help`` (where its files go)."""
    return typer.Option("--output-dir", "-o", help=help)


def no_cache_option(help: str) -> Any:
    """``--no-cache`` with the command's ``help`` (which nodes it runs again)."""
    return typer.Option("--no-cache", help=help)


def json_option(help: str) -> Any:
    """``--json`` with the command's ``help`` (what it prints)."""
    return typer.Option("--json", help=help)


AsJson = Annotated[bool, json_option("Print the run as JSON on stdout, no progress bars.")]
Trace = Annotated[bool, typer.Option("--trace", help="Print OpenTelemetry spans to stderr.")]
MaxCost = Annotated[
    float | None,
    typer.Option(
        "--max-cost-usd",
        min=0,
        help="Stop before a node would take the run's cost past this many US dollars.",
    ),
]
MaxDuration = Annotated[
    float | None,
    typer.Option(
        "--max-duration-s", min=0, help="Start no node after this many seconds of wall time."
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option("--concurrency", "-c", min=1, help="Hook calls in flight at once, per run."),
]
Executor = Annotated[
    str,
    typer.Option("--executor", help="Where hook calls run: asyncio (in-process, default) or dask."),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="--executor dask: a running scheduler (tcp://HOST:8786); default, a LocalCluster.",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="--executor dask: LocalCluster worker processes (default 2)."
    ),
]
#: ``resume`` and ``answer``: where the continued run publishes, and its cache
PublishDir = Annotated[
    Path | None, output_dir_option("Where to publish; default: where the run was started.")
]
NoCacheUnfinished = Annotated[
    bool, no_cache_option("Do not serve unfinished nodes from the cache.")
]
#: ``resume`` and ``answer``: inputs given again (secrets are never stored)
SecretInputs = Annotated[
    list[str] | None,
    typer.Option(
        "--input", "-i", help="A secret input as NAME=VALUE (secret inputs are not stored)."
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Take the run over even when another live process holds it (recorded as an event).",
    ),
]


def budget(max_cost_usd: float | None, max_duration_s: float | None) -> dict[str, float] | None:
    """The run's budget from ``--max-cost-usd`` and ``--max-duration-s`` (``None``: neither)."""
    limits: dict[str, float] = {}
    if max_cost_usd is not None:
        limits["max_cost_usd"] = max_cost_usd
    if max_duration_s is not None:
        limits["max_duration_s"] = max_duration_s
    return limits or None
