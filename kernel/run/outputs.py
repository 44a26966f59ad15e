"""A finished run's outputs: resolved from node outputs, published into a folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reelgraph.errors import ReelgraphError
from reelgraph.observe.secrets import redact
from reelgraph.plan.graph import Plan
from reelgraph.spec.refs import parse_ref, resolve_path
from reelgraph.store.faults import StorageError, storage_fault

__all__ = ["publish_outputs", "resolve_outputs"]


def resolve_outputs(
    plan: Plan,
    scope: dict[str, Any],
    *,
    partial: bool = False,
    skipped: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The spec's outputs resolved against node outputs; with ``partial``, those that exist.

    Outputs of ``skipped`` nodes are left out.
    """
    if plan.spec.outputs:
        out = {}
        for name, text in plan.spec.outputs.items():
            ref = parse_ref(text)
            assert ref is not None and not isinstance(ref, str)
            if ref.root not in scope and (partial or ref.root in skipped):
                continue  # an output of a skipped node does not exist
            try:
                out[name] = resolve_path(scope[ref.root], ref.path)
            except LookupError as err:
                raise ReelgraphError(f"outputs.{name}: {text}: {err}") from err
        return out
    return {n: scope[n] for n in plan.order if not plan.nodes[n].dependents and n in scope}


def publish_outputs(outputs: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Copy file outputs into ``output_dir`` under their file names, atomically.

    Each file is copied to a temporary name in ``output_dir`` and renamed
    over its target, so a half-written file never sits under a final name.
    An output that is a model (a script, a shot list, a review) is written
    as ``<output name>.json`` the same way (pydantic's JSON, indented,
    secrets redacted as in ``run.json``).

    Raises:
        StorageError: the folder is full, read-only or cannot be made.
    """
    published = {}
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for name, value in outputs.items():
            if isinstance(value, Path) and value.is_file():
                target = output_dir / value.name
                temp = output_dir / f".{value.name}.{secrets.token_hex(4)}.part"
                try:
                    shutil.copyfile(value, temp)
                    os.replace(temp, target)
                finally:
                    with contextlib.suppress(OSError):
                        temp.unlink(missing_ok=True)
                published[name] = target
            elif isinstance(value, BaseModel):
                target = output_dir / f"{name}.json"
                temp = output_dir / f".{target.name}.{secrets.token_hex(4)}.part"
                try:
                    temp.write_text(
                        redact(value.model_dump_json(indent=2)) + "\n", encoding="utf-8"
                    )
                    os.replace(temp, target)
                finally:
                    with contextlib.suppress(OSError):
                        temp.unlink(missing_ok=True)
                published[name] = target
    except OSError as err:
        fault = storage_fault(err, output_dir)
        if fault is None:
            raise
        # copyfile's error names the source; what failed is writing into output_dir
        raise StorageError(output_dir, fault.kind) from err
    return published
