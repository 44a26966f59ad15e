"""``reelgraph gc`` and ``reelgraph doctor``: a store that looks after itself.

``gc`` prints what :mod:`reelgraph.store.gc` plans or removed. ``doctor``'s
checks are in :mod:`reelgraph.cli.doctor`, re-exported here.
"""

from __future__ import annotations

import json
from typing import Any

from reelgraph.cli.doctor import (  # noqa: F401  re-exported
    DEV_EXTRAS,
    TYPICAL_RENDER_BYTES,
    Check,
    _size,
    check_environment,
    check_extras,
    check_ffmpeg,
    check_free_space,
    check_leases,
    check_plugins,
    check_schema,
    check_server_store,
    check_store,
    declared_extras,
    doctor_checks,
    doctor_command,
)

__all__ = [
    "DEV_EXTRAS",
    "TYPICAL_RENDER_BYTES",
    "Check",
    "declared_extras",
    "doctor_checks",
    "doctor_command",
    "gc_command",
]

# -- gc ---------------------------------------------------------------------------


def _recent(count: int) -> str:
    return f"{count} unreferenced kept: newer than a live run's start" if count else ""


def gc_command(
    kernel: Any,
    *,
    older_than: str | None,
    keep_last: int | None,
    statuses: list[str] | None,
    memo: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Plan gc under the options given, print it; unless ``dry_run``, apply it and print that.

    Raises:
        InvalidInputError: a bad ``--older-than``, ``--status`` or ``--memo`` use.
        StoreError: the store cannot be read or written.
    """
    from reelgraph.store.gc import GcPolicy, apply_gc, parse_age, plan_gc

    policy = GcPolicy(
        older_than_s=None if older_than is None else parse_age(older_than),
        keep_last=keep_last,
        statuses=frozenset(statuses) if statuses else None,
        memo=memo,
    )
    runs_dir = kernel.home / "runs"
    plan = plan_gc(kernel.store, kernel.artifacts, runs_dir, policy)
    if dry_run:
        data = {"dry_run": True, **plan.to_dict()}
        rows = [
            ("runs removed", str(len(plan.runs)), f"{plan.kept_runs} kept"),
            ("memo entries removed", str(len(plan.memo_keys)), ""),
            ("artifacts removed", str(len(plan.artifacts)), _recent(plan.recent)),
            ("bytes freed (artifacts)", _size(plan.bytes), f"{_size(plan.disk_bytes)} on disk"),
            ("bytes freed (run folders)", _size(plan.run_dir_bytes), ""),
        ]
        if plan.remote:  # REELGRAPH_ARTIFACTS=s3://...: the objects there
            rows.append(("remote objects removed", str(len(plan.remote)), _size(plan.remote_bytes)))
        protected = plan.protected
        title = f"gc --dry-run in {kernel.home} (nothing changed)"
    else:
        result = apply_gc(kernel.store, kernel.artifacts, runs_dir, plan)
        data = {"dry_run": False, **result.to_dict()}
        rows = [
            ("runs removed", str(len(result.runs)), f"{plan.kept_runs} kept"),
            ("memo entries removed", str(result.memo_entries), ""),
            ("artifacts removed", str(result.artifacts), _recent(plan.recent)),
            ("bytes freed (artifacts)", _size(result.bytes), f"{_size(result.disk_bytes)} on disk"),
            ("bytes freed (run folders)", _size(result.run_dir_bytes), ""),
            (
                "run store",
                _size(result.store_bytes_after),
                result.vacuum_error or f"was {_size(result.store_bytes_before)} before VACUUM",
            ),
        ]
        if result.remote_artifacts:
            rows.append(
                ("remote objects removed", str(result.remote_artifacts), _size(result.remote_bytes))
            )
        protected = result.protected
        title = f"gc in {kernel.home}"
    if as_json:
        print(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("what")
    table.add_column("amount", justify="right")
    table.add_column("note")
    for row in rows:
        table.add_row(*row)
    console = Console()
    console.print(table)
    if dry_run:
        for run in plan.runs:
            console.print(f"  would remove run {run.id} ({run.status})")
    for run in protected:
        console.print(f"  kept run {run.id}: {run.reason}")
