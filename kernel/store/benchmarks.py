"""What the run store knows of each clip provider: benchmark rows and measured figures.

Two readers and one writer over the run store (whichever is configured:
``<home>/reelgraph.db`` or ``REELGRAPH_STORE``'s, :mod:`reelgraph.store.runs`
and :mod:`reelgraph.store.backends`), vendor-free (a provider and a model are
whatever the plugin is called and was asked for):

- :func:`add_benchmarks` writes the rows of one ``reelgraph tools
  benchmark`` (table ``benchmarks``, migration 6): per case of the suite the
  run that made it, latency (s), cost (USD), success and what PyAV decoded
  from the delivered clip (duration s, pixels, fps, frames);
- :func:`read_benchmarks` reads them back, newest first;
- :func:`clip_measurements` learns from *every* run, benchmarks included:
  per provider and model, the attempts of a hook's nodes (default
  ``generate_clip``), how many succeeded, the median seconds of a
  successful attempt, and US dollars per second of clip paid for.

The model of an ordinary run's attempt is read from its node's cost details:
a clip provider reports each clip as ``"<provider> <model> <seconds> s
(<shot>)"`` (``plugins/vendors/_clips.py``, ``ClipVendor._submitted``). A
node whose details name one model lends it to all that provider's attempts
in the node; otherwise (no cost reported, e.g. the offline ``slides``, or
several models) the model is ``None``: the figures are the provider's.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from reelgraph.store.runs import RunStore, upsert_sql

__all__ = [
    "BenchmarkRow",
    "ToolMeasure",
    "add_benchmarks",
    "clip_measurements",
    "read_benchmarks",
]

#: a clip provider's cost detail: "<provider> <model> <seconds> s (<shot id>)"
_CLIP_DETAIL = re.compile(r"^(?P<provider>\S+) (?P<model>\S+) (?P<seconds>\d+(?:\.\d+)?) s \(")


@dataclass(frozen=True, slots=True)
class BenchmarkRow:
    """One case of one benchmark (a row of table ``benchmarks``).

    Units: seconds (``requested_s``, ``latency_s``, ``duration_s``), pixels,
    frames per second, US dollars. Properties are ``None`` when no clip was
    delivered; ``decodable`` is ``True`` when PyAV decoded every frame.
    ``status`` is ``succeeded``, ``failed`` or ``skipped`` (not started: the
    budget).
    """

    bench_id: str
    case_id: str
    run_id: str | None
    provider: str
    model: str | None
    mode: str
    aspect: str
    requested_s: float
    status: str
    latency_s: float | None = None
    attempts: int = 0
    cost_usd: float = 0.0
    duration_s: float | None = None
    width_px: int | None = None
    height_px: int | None = None
    fps: float | None = None
    frames: int | None = None
    decodable: bool | None = None
    error: str | None = None
    created_at: float = 0.0


_COLUMNS = [f.name for f in fields(BenchmarkRow)]


def add_benchmarks(store: RunStore, rows: list[BenchmarkRow]) -> None:
    """Store ``rows`` in one transaction (a row with the same bench and case is replaced).

    Raises:
        reelgraph.store.runs.StoreError: the store cannot be written.
    """
    sql = upsert_sql("benchmarks", _COLUMNS, key=("bench_id", "case_id"))
    values = [tuple(getattr(r, c) for c in _COLUMNS) for r in rows]

    def body(db: sqlite3.Connection) -> None:
        db.executemany(sql, values)

    store._write("benchmarks", body)


#: runs one read-only query: ``query(sql, params) -> rows``
_Query = Callable[[str, Sequence[Any]], list[Any]]


@contextlib.contextmanager
def _reading(source: RunStore | Path) -> Iterator[_Query | None]:
    """Queries on ``source``: a run store (any backend), or a SQLite file opened
    read-only (no migration); ``None`` when that file does not exist yet."""
    if isinstance(source, RunStore):
        yield lambda sql, params: source._read("read clip measurements", sql, tuple(params))
        return
    if not Path(source).is_file():
        yield None
        return
    con = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        yield lambda sql, params: con.execute(sql, params).fetchall()
    finally:
        con.close()


def read_benchmarks(
    source: RunStore | Path, provider: str | None = None, model: str | None = None
) -> list[BenchmarkRow]:
    """Benchmark rows, newest first, of ``provider`` (and ``model``) or all.

    Args:
        source: the run store (``Kernel.store``: SQLite or a server's), or a
            SQLite file, read read-only.

    Returns ``[]`` for a store without benchmarks (or a file of an older schema).

    Raises:
        StoreError: the run store cannot be read.
        sqlite3.Error: the SQLite file cannot be read.
    """
    with _reading(source) as query:
        if query is None:
            return []
        if not isinstance(source, RunStore):  # a file: maybe from before migration 6
            known = query(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'benchmarks'", ()
            )
            if not known:
                return []
        sql = f"SELECT {', '.join(_COLUMNS)} FROM benchmarks WHERE 1 = 1"
        params: list[Any] = []
        if provider is not None:
            sql += " AND provider = ?"
            params.append(provider)
        if model is not None:
            sql += " AND model = ?"
            params.append(model)
        rows = query(sql + " ORDER BY created_at DESC, case_id", params)
    out = []
    for row in rows:
        data = dict(zip(_COLUMNS, row, strict=True))
        if data["decodable"] is not None:
            data["decodable"] = bool(data["decodable"])
        out.append(BenchmarkRow(**data))
    return out


@dataclass(slots=True)
class ToolMeasure:
    """What the store measured of one provider's model (``model`` ``None``: any model).

    Attributes:
        attempts, succeeded: finished attempts of the hook's nodes, and how
            many succeeded.
        seconds: each successful attempt's wall seconds.
        billed_s, cost_usd: seconds of clip paid for and US dollars spent
            (from cost details that name the clip's seconds).
        runs: distinct runs seen.
    """

    provider: str
    model: str | None
    attempts: int = 0
    succeeded: int = 0
    seconds: list[float] | None = None
    billed_s: float = 0.0
    cost_usd: float = 0.0
    runs: int = 0

    @property
    def success_rate(self) -> float | None:
        """Succeeded / attempts, ``None`` before any attempt."""
        return self.succeeded / self.attempts if self.attempts else None

    @property
    def median_s(self) -> float | None:
        """Median wall seconds of a successful attempt, ``None`` before one."""
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def usd_per_s(self) -> float | None:
        """US dollars per second of clip paid for, ``None`` without a priced clip."""
        return self.cost_usd / self.billed_s if self.billed_s > 0 else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (rounded), without the raw seconds."""
        data = asdict(self)
        data.pop("seconds")
        rate, median, per_s = self.success_rate, self.median_s, self.usd_per_s
        data["success_rate"] = None if rate is None else round(rate, 3)
        data["median_s"] = None if median is None else round(median, 3)
        data["usd_per_s"] = None if per_s is None else round(per_s, 6)
        data["billed_s"] = round(self.billed_s, 3)
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


def clip_measurements(source: RunStore | Path, hook: str = "generate_clip") -> list[ToolMeasure]:
    """Per provider and model, what every stored run of ``hook`` measured (see the module).

    The provider of an attempt is the one that ran it (a fallback's, if the
    node fell back), else the node's. Cancelled attempts and those that asked
    a question are not counted; any other end but ``succeeded`` is a failure.

    Args:
        source: the run store (``Kernel.store``: SQLite or a server's), or a
            SQLite file, read read-only (``[]`` when it does not exist).

    Raises:
        StoreError: the run store cannot be read.
        sqlite3.Error: the SQLite file cannot be read.
    """
    with _reading(source) as query:
        if query is None:
            return []
        attempts = query(
            "SELECT a.run_id, a.node_id, COALESCE(a.provider, n.provider), a.status,"
            " COALESCE(a.seconds, a.ended_at - a.started_at)"
            " FROM attempts a JOIN nodes n ON a.run_id = n.run_id AND a.node_id = n.node_id"
            " WHERE n.hook = ? AND a.ended_at IS NOT NULL"
            " AND a.status NOT IN ('cancelled', 'needs_input', 'running')"
            " AND COALESCE(a.provider, n.provider) IS NOT NULL",
            (hook,),
        )
        costs = query(
            "SELECT c.run_id, c.node_id, c.amount_usd, c.detail FROM costs c"
            " JOIN nodes n ON c.run_id = n.run_id AND c.node_id = n.node_id WHERE n.hook = ?",
            (hook,),
        )
    models: dict[tuple[str, str, str], set[str]] = {}
    found: dict[tuple[str, str | None], ToolMeasure] = {}
    for run_id, node_id, usd, detail in costs:
        match = _CLIP_DETAIL.match(detail or "")
        if match is None:
            continue
        provider, model = match["provider"], match["model"]
        models.setdefault((run_id, node_id, provider), set()).add(model)
        measure = found.setdefault((provider, model), ToolMeasure(provider, model, seconds=[]))
        measure.billed_s += float(match["seconds"])
        measure.cost_usd += float(usd)
    runs: dict[tuple[str, str | None], set[str]] = {}
    for run_id, node_id, provider, status, took in attempts:
        named = models.get((run_id, node_id, provider), set())
        model = next(iter(named)) if len(named) == 1 else None
        measure = found.setdefault((provider, model), ToolMeasure(provider, model, seconds=[]))
        measure.attempts += 1
        runs.setdefault((provider, model), set()).add(run_id)
        if status == "succeeded":
            measure.succeeded += 1
            assert measure.seconds is not None
            measure.seconds.append(max(0.0, float(took or 0.0)))
    for key, measure in found.items():
        measure.runs = len(runs.get(key, ()))
    return sorted(found.values(), key=lambda m: (m.provider, m.model or ""))
