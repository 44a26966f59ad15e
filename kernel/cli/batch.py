"""``reelgraph batch SPEC --inputs batch.csv``: one run per row, one executor for all.

Prints a line as each run finishes and a summary table at the end (or, with
``--json``, the rows as JSON). Exit status 0 when every run succeeded, else
the most serious status any run ended with (see :mod:`reelgraph.cli._exits`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from reelgraph.cli._exits import (
    EXIT_BUDGET,
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_NEEDS_INPUT,
    EXIT_QUALITY,
    fail,
    fail_with,
    spec_error_text,
    stderr,
)
from reelgraph.cli._options import (
    Concurrency,
    Executor,
    MaxCost,
    MaxDuration,
    Scheduler,
    Trace,
    Workers,
    budget,
    json_option,
    no_cache_option,
    output_dir_option,
)
from reelgraph.cli.running import tracing

__all__ = ["batch", "executor_options", "make_kernel"]

_STATUS_EXIT = {
    "failed": EXIT_FAILED,
    "failed_quality": EXIT_QUALITY,
    "over_budget": EXIT_BUDGET,
    "needs_input": EXIT_NEEDS_INPUT,
    "cancelled": EXIT_CANCELLED,
}


def executor_options(scheduler: str | None, workers: int | None) -> dict[str, Any]:
    """The executor's options from ``--scheduler`` and ``--workers`` (those given)."""
    options: dict[str, Any] = {}
    if scheduler:
        options["scheduler"] = scheduler
    if workers is not None:
        options["workers"] = workers
    return options


def make_kernel(
    concurrency: int | None, executor: str, scheduler: str | None, workers: int | None
) -> Any:
    """A kernel with the executor the options name; exit 2 on an unknown one or a bad option."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.kernel import DEFAULT_CONCURRENCY, Kernel

    kernel = Kernel(
        concurrency=concurrency or DEFAULT_CONCURRENCY,
        executor=executor,
        executor_options=executor_options(scheduler, workers),
    )
    try:
        kernel.executor  # noqa: B018  opened now: a bad choice stops before any run
    except ReelgraphError as err:
        fail(str(err))
    return kernel


def batch(
    spec: Annotated[str, typer.Argument(help="A spec file, or the name of a shipped spec.")],
    inputs: Annotated[
        Path,
        typer.Option(
            "--inputs", help="A CSV file (header row of input names) or JSON Lines (.jsonl)."
        ),
    ],
    output_dir: Annotated[Path, output_dir_option("Each row's files go to OUTDIR/row-N.")] = Path(
        "out"
    ),
    runs_at_once: Annotated[
        int, typer.Option("--runs-at-once", "-j", min=1, help="Runs in flight at once.")
    ] = 2,
    executor: Executor = "asyncio",
    scheduler: Scheduler = None,
    workers: Workers = None,
    concurrency: Concurrency = None,
    no_cache: Annotated[
        bool, no_cache_option("Run every node, even when a cached result exists.")
    ] = False,
    as_json: Annotated[
        bool, json_option("Print the rows and their runs as JSON on stdout.")
    ] = False,
    trace: Trace = False,
    max_cost_usd: MaxCost = None,
    max_duration_s: MaxDuration = None,
) -> None:
    """Run SPEC once per row of a CSV or JSON Lines file, all on one executor.

    Examples:

        reelgraph batch document-to-video --inputs docs.csv -o out

        reelgraph batch document-to-video --inputs docs.jsonl --executor dask --workers 2

    with docs.csv holding a header of input names and one run per row:

    \b
        document,voice
        talks/a.md,en-gb
        talks/b.md,

    An empty cell leaves the input to its default. Every row is checked
    before any run starts. A budget (--max-cost-usd, --max-duration-s) is
    each run's. Each row's files go to OUTDIR/row-N and its
    run.json with them; a failed run does not stop the others, and `reelgraph
    resume RUN_ID` continues it. Exit status: 0 when every run succeeded,
    else the most serious status a run ended with (as for `reelgraph run`).
    """
    import asyncio

    from reelgraph.errors import InputError, SpecError
    from reelgraph.run.batch import read_batch_file, run_batch

    console = stderr()
    provider = tracing(trace)
    kernel = make_kernel(concurrency, executor, scheduler, workers)
    executor_name = kernel.executor.name
    try:
        try:
            rows = read_batch_file(inputs)
            plan = kernel.plan(spec)
        except (InputError, SpecError) as err:
            fail(spec_error_text(err))

        def done(row: Any) -> None:
            if not as_json:
                console.print(_line(row), highlight=False)

        try:
            asyncio.run(
                run_batch(
                    kernel,
                    plan,
                    rows,
                    output_dir=output_dir,
                    runs_at_once=runs_at_once,
                    cache=not no_cache,
                    budget=budget(max_cost_usd, max_duration_s),
                    on_done=done,
                )
            )
        except (InputError, SpecError) as err:
            fail(spec_error_text(err))
        except KeyboardInterrupt:
            console.print("[yellow]cancelled[/]: `reelgraph runs` lists the batch's runs")
            raise typer.Exit(EXIT_CANCELLED) from None
    except typer.Exit:
        raise
    except Exception as err:
        from reelgraph.errors import ReelgraphError

        if isinstance(err, ReelgraphError):
            fail_with(err)
        raise
    finally:
        kernel.close()
        if provider is not None:
            provider.shutdown()  # exports the spans still queued
    _write_records(rows)
    if as_json:
        typer.echo(json.dumps([_record(row) for row in rows], indent=2))
    else:
        console.print(_table(rows, executor_name))
    raise typer.Exit(_exit_status(rows))


def _status(row: Any) -> str:
    if row.run is None:
        return "not started"
    return str(row.run.status)


def _line(row: Any) -> str:
    from rich.markup import escape

    from reelgraph.observe.secrets import redact

    run = row.run
    if run is None:
        return f"row {row.number}: [red]not started[/]: {escape(redact(str(row.error)))}"
    colour = "green" if run.status == "succeeded" else "red"
    return f"row {row.number}: run {run.id} [{colour}]{run.status}[/] in {run.seconds:.1f} s"


def _record(row: Any) -> dict[str, Any]:
    from reelgraph.observe.secrets import redact, redact_value
    from reelgraph.run.result import jsonable

    run = row.run
    record: dict[str, Any] = {
        "row": row.number,
        "where": row.where,
        "inputs": redact_value(jsonable(row.inputs)),
        "status": _status(row),
        "output_dir": str(row.output_dir) if row.output_dir else None,
    }
    if run is not None:
        record.update(
            run_id=run.id,
            seconds=round(run.seconds, 3),
            cost_usd=round(run.cost_usd, 6),
            error=redact(str(run.error)) if run.error else None,
        )
    else:
        record.update(run_id=None, seconds=None, cost_usd=None, error=redact(str(row.error)))
    return record


def _write_records(rows: list[Any]) -> None:
    """Each started run's run.json in its row's folder, as `reelgraph run` writes it."""
    from reelgraph.cli.running import write_json
    from reelgraph.observe.secrets import redact_value

    for row in rows:
        if row.run is not None and row.output_dir is not None:
            try:
                write_json(row.output_dir / "run.json", redact_value(row.run.to_dict()))
            except OSError as err:
                stderr().print(f"[yellow]warning:[/] cannot write {row.output_dir}/run.json: {err}")


def _table(rows: list[Any], executor: str) -> Any:
    from rich.table import Table

    from reelgraph.observe.secrets import redact

    table = Table(title=f"batch: {len(rows)} runs on executor {executor}")
    for column in ("row", "run", "status", "seconds", "output / error"):
        table.add_column(column, justify="right" if column in ("row", "seconds") else "left")
    for row in rows:
        run = row.run
        if run is None:
            table.add_row(str(row.number), "-", "not started", "-", redact(str(row.error)))
            continue
        where = str(row.output_dir) if run.status == "succeeded" else redact(str(run.error or ""))
        table.add_row(str(row.number), run.id, run.status, f"{run.seconds:.1f}", where)
    return table


def _exit_status(rows: list[Any]) -> int:
    """0 when every run succeeded; else the highest exit status among the runs."""
    worst = 0
    for row in rows:
        status = EXIT_FAILED if row.run is None else _STATUS_EXIT.get(row.run.status, 0)
        worst = max(worst, status)
    return worst
