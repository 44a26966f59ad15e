"""Executing a run from the terminal: ``run``, ``resume`` and ``answer`` share this.

:func:`drive` runs the kernel on an event loop with live progress (Ctrl-C and
SIGTERM cancel it cleanly); :func:`finish` writes ``run.json`` (and
``quality.json``), prints the outcome, and exits with the status that says
what happened (see :mod:`reelgraph.cli._exits`). A run that stopped
``needs_input`` prints its questions and the exact ``reelgraph answer``
command that resumes it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from reelgraph.cli._exits import (
    EXIT_BAD_INPUT,
    EXIT_BUDGET,
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_LEASED,
    EXIT_NEEDS_INPUT,
    EXIT_QUALITY,
    fail,
    fail_with,
    storage_exit,
)

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["answer_command", "drive", "finish", "parse_pairs", "tracing", "write_json"]


def parse_pairs(pairs: list[str], option: str, example: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict; exit 2 naming ``option`` on a malformed one."""
    parsed = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"{option} takes NAME=VALUE, got {pair!r} (e.g. {option} {example})")
        parsed[name.strip()] = value
    return parsed


def tracing(console_spans: bool) -> Any:
    """The CLI's tracer provider (``OTEL_TRACES_EXPORTER``, ``--trace``), or ``None``."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.observe.tracing import configure_tracing

    try:
        return configure_tracing(console=console_spans)
    except ReelgraphError as err:
        fail_with(err)


def drive(
    start: Any, plan: Any, run_id: str, console: Console, *, quiet: bool, provider: Any
) -> Any:
    """Run ``start(on_event)`` on a new event loop; Ctrl-C and SIGTERM cancel it cleanly."""
    import asyncio
    import contextlib
    import signal

    from reelgraph.errors import ReelgraphError
    from reelgraph.store.faults import storage_fault
    from reelgraph.store.leases import RunLeased

    async def main(on_event: Any) -> Any:
        task = asyncio.current_task()
        assert task is not None
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await start(on_event)

    try:
        if quiet:
            return asyncio.run(main(None))
        from reelgraph.cli.display import RunDisplay

        with RunDisplay(console, plan) as display:
            return asyncio.run(main(display))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print(f"[yellow]cancelled[/]; continue with: reelgraph resume {run_id}")
        raise typer.Exit(EXIT_CANCELLED) from None
    except RunLeased as err:
        fail(str(err), EXIT_LEASED)
    except (ReelgraphError, OSError) as err:  # the store cannot be opened or written
        fault = storage_fault(err)
        if fault is None:
            raise
        storage_exit(fault, run_id if fault.kind == "full" else None)
    finally:
        if provider is not None:
            provider.shutdown()


def finish(result: Any, output_dir: Path, console: Console, as_json: bool) -> None:
    """Write ``run.json`` (and ``quality.json``), print the outcome, exit unless it succeeded."""
    from reelgraph.observe.secrets import redact_value
    from reelgraph.store.faults import StorageError, storage_fault

    record = redact_value(result.to_dict())  # run.json, quality.json and --json output
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        write_json(output_dir / "run.json", record)
        if result.quality:
            write_json(
                output_dir / "quality.json",
                {
                    "run": result.id,
                    "status": result.status,
                    "gates": record["quality"],
                    "revisions": record["revisions"],
                },
            )
    except OSError as err:
        fault = storage_fault(err, output_dir)
        if fault is None:
            raise
        storage_exit(fault, result.id)
    if as_json:
        typer.echo(json.dumps(record, indent=2))
    else:
        _report(console, result, output_dir)
    if result.status == "needs_input":
        if not as_json:
            print_questions(console, result.id, record["questions"])
        raise typer.Exit(EXIT_NEEDS_INPUT)
    if result.status != "succeeded":
        from reelgraph.store.leases import LeaseLost

        error = result.error
        if result.status == "failed_quality":
            code = EXIT_QUALITY
        elif result.status == "over_budget":
            code = EXIT_BUDGET
        elif isinstance(error, LeaseLost):
            code = EXIT_LEASED
        elif isinstance(error, StorageError):
            storage_exit(error, result.id)
        elif getattr(error, "invalid_input", False):
            code = EXIT_BAD_INPUT
        else:
            code = EXIT_FAILED
        if not as_json:
            fail(str(error or f"run {result.status}"), code)
        raise typer.Exit(code)


def answer_command(questions: list[dict[str, Any]], run_id: str) -> str:
    """The command that answers ``questions``: ``reelgraph answer RUN -a key=... -a ...``."""
    parts = ["reelgraph", "answer", run_id]
    for question in questions:
        parts += ["-a", f"{question['key']}=..."]
    return " ".join(shlex.quote(part) if part != "..." else part for part in parts)


def print_questions(console: Console, run_id: str, questions: list[dict[str, Any]]) -> None:
    """The questions a run asked, what is assumed without an answer, and how to answer."""
    from rich.markup import escape

    count = len(questions)
    console.print(
        f"[bold yellow]needs input[/]: {count} question{'s' if count != 1 else ''} "
        f"for run [bold]{run_id}[/]"
    )
    for question in questions:
        console.print(
            f"  [bold]{escape(question['key'])}[/] ({escape(question.get('node') or '-')}): "
            f"{escape(question['question'])}",
            soft_wrap=True,
        )
        if question.get("why"):
            console.print(f"      why: {escape(question['why'])}", soft_wrap=True)
        if question.get("assumption"):
            console.print(
                f"      assumed otherwise: {escape(question['assumption'])}", soft_wrap=True
            )
    console.print("answer and continue with:", soft_wrap=True)
    console.print(f"  {escape(answer_command(questions, run_id))}", soft_wrap=True)


def _report(console: Console, result: Any, output_dir: Path) -> None:
    from reelgraph.cli.display import run_table

    console.print(run_table(result))
    if result.quality:
        from reelgraph.cli.display import quality_table

        console.print(quality_table(result.quality_report))
        console.print(f"  quality report: {output_dir / 'quality.json'}")
    for name, path in result.published.items():
        console.print(f"  {name}: [bold]{path}[/]")
    console.print(f"  run record: {output_dir / 'run.json'}")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (a temporary file, renamed)."""
    import os

    temp = path.with_name(f".{path.name}.part")
    try:
        temp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
