"""Batches: one run of a spec per row of inputs, sharing one kernel and its executor.

A batch file is CSV (a header row of input names, one run per row; empty
cells are left out, so the input's default applies) or JSON Lines (``.jsonl``
or ``.ndjson``: one JSON object of inputs per line, values typed). Every
row's inputs are checked before any run starts; a bad row stops the batch
with one error naming the file, line and input. Runs then go
``runs_at_once`` at a time in one event loop, on the kernel's executor (a
Dask cluster serves them all); a failed run does not stop the others.
Each row's files go to ``output_dir/row-N`` (N counts rows from 1).
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InputError, Problem, ReelgraphError

if TYPE_CHECKING:
    from reelgraph.kernel import Kernel
    from reelgraph.plan.graph import Plan
    from reelgraph.run.result import Event, Run

__all__ = ["BatchRow", "check_rows", "read_batch_file", "run_batch"]


@dataclass(slots=True)
class BatchRow:
    """One row of a batch: where it came from, its inputs and, once run, its run.

    ``error`` is set instead of ``run`` when the run could not start (its
    output folder cannot be written, the run store is unreachable).
    """

    number: int
    where: str
    inputs: dict[str, Any]
    run: Run | None = None
    output_dir: Path | None = None
    error: BaseException | None = None


def read_batch_file(path: str | Path) -> list[BatchRow]:
    """The rows of a CSV or JSON Lines batch file.

    Raises:
        InputError: the file cannot be read, is empty, or a line is not a
            JSON object (the message names the file and line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise _problem(str(path), f"cannot read the batch file: {err}") from err
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(path, text)
    else:
        rows = _csv_rows(path, text)
    if not rows:
        raise _problem(str(path), "the batch file has no rows (one run per row)")
    return rows


def _csv_rows(path: Path, text: str) -> list[BatchRow]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise _problem(str(path), "a CSV batch file needs a header row of input names")
    rows: list[BatchRow] = []
    for number, record in enumerate(reader, start=1):
        if None in record:  # more cells than header names
            raise _problem(f"{path}:{reader.line_num}", "more cells than the header has names")
        inputs = {k.strip(): v for k, v in record.items() if v not in (None, "")}
        rows.append(BatchRow(number, f"{path}:{reader.line_num}", inputs))
    return rows


def _jsonl_rows(path: Path, text: str) -> list[BatchRow]:
    rows: list[BatchRow] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            inputs = json.loads(line)
        except json.JSONDecodeError as err:
            raise _problem(f"{path}:{line_number}", f"not JSON: {err.msg}") from err
        if not isinstance(inputs, dict):
            raise _problem(f"{path}:{line_number}", "each line must be a JSON object of inputs")
        rows.append(BatchRow(len(rows) + 1, f"{path}:{line_number}", inputs))
    return rows


def _problem(where: str, message: str) -> InputError:
    return InputError([Problem(message, where)])


def check_rows(plan: Plan, rows: Iterable[BatchRow]) -> None:
    """Bind every row's inputs, before anything runs.

    Raises:
        InputError: every problem of every row, each named by file and line.
    """
    from reelgraph.spec.inputs import bind_inputs

    problems: list[Problem] = []
    for row in rows:
        try:
            bind_inputs(plan.spec, row.inputs)
        except InputError as err:
            for p in err.problems:
                problems.append(Problem(p.message, row.where, p.node, p.field, p.hint))
    if problems:
        raise InputError(problems)


async def run_batch(
    kernel: Kernel,
    spec: Any,
    rows: list[BatchRow],
    *,
    output_dir: str | Path | None = None,
    runs_at_once: int = 2,
    cache: bool = True,
    budget: Mapping[str, Any] | None = None,
    on_event: Callable[[BatchRow, Event], None] | None = None,
    on_done: Callable[[BatchRow], None] | None = None,
) -> list[BatchRow]:
    """Run ``spec`` once per row; return the rows with their runs, in row order.

    Args:
        kernel: the kernel (its executor serves every run).
        spec: a spec name, path, mapping, :class:`~reelgraph.spec.model.Spec`
            or plan.
        rows: the rows (:func:`read_batch_file`, or built from mappings).
        output_dir: each row's files go to ``output_dir/row-N``; ``None``:
            none are copied out.
        runs_at_once: runs in flight at once (each with the kernel's
            concurrency of hook calls).
        cache, budget: as for :meth:`reelgraph.Kernel.arun` (the budget is per run).
        on_event: called with the row and each event of its run.
        on_done: called with each row as its run finishes.

    Raises:
        SpecError: the spec is invalid; InputError: a row's inputs are
            (every row checked, nothing run). A failed run does not raise:
            its row's ``run.status`` says so.
    """
    from reelgraph.plan.graph import Plan

    if runs_at_once < 1:
        raise ValueError("runs_at_once must be at least 1")
    plan = spec if isinstance(spec, Plan) else kernel.plan(spec)
    check_rows(plan, rows)
    gate = asyncio.Semaphore(runs_at_once)

    async def one(row: BatchRow) -> None:
        async with gate:
            if output_dir is not None:
                row.output_dir = Path(output_dir) / f"row-{row.number}"
            listener = None
            if on_event is not None:

                def listener(event: Event, row: BatchRow = row) -> None:
                    on_event(row, event)

            try:
                row.run = await kernel.arun(
                    plan,
                    row.inputs,
                    output_dir=row.output_dir,
                    on_event=listener,
                    cache=cache,
                    budget=budget,
                )
            except (ReelgraphError, OSError) as err:  # this row could not start: the rest go on
                row.error = err
            if on_done is not None:
                on_done(row)

    async with asyncio.TaskGroup() as group:
        for row in rows:
            group.create_task(one(row))
    return rows
