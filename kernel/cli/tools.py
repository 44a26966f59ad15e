"""``reelgraph tools``: the video tool catalog the solver chooses from.

The catalog is whatever the installed plugins answer to the ``tool_catalog``
hook (the ``solver`` plugin ships one, with the user's tools file applied;
a third-party provider brings its own entries), merged by
:meth:`reelgraph.models.ToolCatalog.from_answers`. The kernel holds no tool
data. Only ``typer`` is imported at module level: ``reelgraph --help``
stays fast.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from reelgraph.models import ToolCatalog, ToolEntry
    from reelgraph.store.runs import RunStore

__all__ = ["DEFAULT_MAX_COST_USD", "learned_stats", "load_catalog", "tools_app"]

#: ``tools benchmark --max-cost-usd`` default, US dollars: the default suite
#: (3 clips of 4 s, billed at most 5 s each) on the dearest catalog tool (Veo 3
#: with audio, $0.40/s per tools.yaml) costs $4.80; this leaves room for one retry
DEFAULT_MAX_COST_USD = 6.0

tools_app = typer.Typer(
    name="tools",
    help=(
        "The video tools the solver chooses from: vendor, modes, durations, price, "
        "latency, quality, and the source of every figure.\n\n"
        "Example:\n\n    reelgraph tools list\n\n    reelgraph tools show veo-3.1-fast --json"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _fail(message: str) -> NoReturn:
    """One line on stderr (keys redacted, brackets escaped for rich), exit status 2."""
    from rich.console import Console
    from rich.markup import escape

    from reelgraph.observe.secrets import redact

    Console(stderr=True, highlight=False).print(
        f"[bold red]error:[/] {escape(redact(message))}", soft_wrap=True
    )
    raise typer.Exit(2)


@contextlib.contextmanager
def _run_store() -> Iterator[RunStore | Path | None]:
    """The configured run store (``REELGRAPH_STORE``, else ``<home>/reelgraph.db``),
    closed afterwards; ``None`` before the first run. One that cannot be opened exits 2.

    A SQLite store is its file, which the readers open read-only: a reader
    never migrates it, nor checkpoints its write-ahead log into it."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.kernel import Kernel
    from reelgraph.store.backends import sqlite_file

    kernel = Kernel(entry_points=False)
    path = sqlite_file(kernel.store_url, kernel.home)
    try:
        if path is not None:
            yield path if path.is_file() else None
            return
        try:
            store = kernel.existing_store()
        except ReelgraphError as err:
            _fail(str(err))
        yield store
    finally:
        kernel.close()


def load_catalog() -> ToolCatalog:
    """Every installed plugin's ``tool_catalog`` answer, merged; a bad entry exits 2."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.kernel import Kernel
    from reelgraph.models import ToolCatalog

    registry = Kernel().registry.load()
    try:
        return ToolCatalog.from_answers(registry.pm.hook.tool_catalog(ctx=None))
    except (ValueError, ReelgraphError) as err:
        _fail(f"tool catalog: {err}")


def _durations(tool: ToolEntry) -> str:
    if not tool.durations_s:
        return "any"
    values = sorted(tool.durations_s)
    steps = {b - a for a, b in zip(values, values[1:], strict=False)}
    if len(values) > 3 and steps == {1}:
        return f"{values[0]:g}-{values[-1]:g}"
    return ", ".join(f"{d:g}" for d in values)


@tools_app.command("list")
def list_tools(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON.")] = False,
) -> None:
    """List the tools: provider, model, modes, clip lengths, price, latency, quality.

    Example:

        reelgraph tools list --json
    """
    catalog = load_catalog()
    if as_json:
        typer.echo(json.dumps(catalog.model_dump(mode="json")["tools"], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="reelgraph tools (US dollars per second of clip)")
    table.add_column("name", no_wrap=True)
    for column in ("modes", "seconds", "aspects", "audio"):
        table.add_column(column)
    for column in ("$/s", "latency s", "lanes", "quality"):
        table.add_column(column, justify="right")
    for t in catalog.tools:
        modes = {"slide": "slide", "text_to_video": "t2v", "image_to_video": "i2v"}
        table.add_row(
            t.name,
            " ".join(modes[m] for m in t.modes),
            _durations(t),
            " ".join(t.aspects),
            "yes" if t.native_audio else "-",
            f"{t.price_usd_per_s:.4g}",
            f"{t.latency_s:g}",
            str(t.concurrency),
            str(t.quality_tier),
        )
    Console().print(table)


@tools_app.command("show")
def show_tool(
    name: Annotated[str, typer.Argument(help="The tool's name (see `reelgraph tools list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the entry as JSON.")] = False,
) -> None:
    """Show one tool with every figure and where it comes from.

    Example:

        reelgraph tools show runway-gen4-turbo
    """
    catalog = load_catalog()
    tool = catalog.get(name)
    if tool is None:
        import difflib

        close = difflib.get_close_matches(name, [t.name for t in catalog.tools], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (see `reelgraph tools list`)"
        _fail(f"no tool {name!r} in the catalog{hint}")
    data: dict[str, Any] = tool.model_dump(mode="json")
    measured = _measured(catalog, tool)
    if as_json:
        typer.echo(json.dumps({**data, "measured": measured}, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    console.print(f"[bold]{escape(tool.name)}[/]: {escape(tool.vendor)} {escape(tool.model)}")
    figures = {
        "provider": tool.provider,
        "modes": ", ".join(tool.modes),
        "durations_s": _durations(tool),
        "resolutions": ", ".join(tool.resolutions),
        "aspects": ", ".join(tool.aspects),
        "native_audio": "yes" if tool.native_audio else "no",
        "price_usd_per_s": f"${tool.price_usd_per_s:.4g} per second"
        + (
            f" ({tool.credits_per_s:g} credits x ${tool.usd_per_credit:g})"
            if tool.credits_per_s is not None and tool.usd_per_credit is not None
            else ""
        ),
        "latency_s": f"{tool.latency_s:g} s per clip",
        "concurrency": f"{tool.concurrency} at once",
        "quality_tier": f"{tool.quality_tier} of 5",
    }
    beside = _beside(measured)
    for key, value in figures.items():
        console.print(f"  {key:16} {escape(str(value))}")
        if key in beside:
            console.print(f"  {'':16} [green]measured: {escape(beside[key])}[/]", soft_wrap=True)
        source = tool.sources.get(key)
        if source is not None:
            console.print(
                f"  {'':16} [dim]{escape(source.url)} ({source.date}, {source.basis})[/]",
                soft_wrap=True,
            )
    for label, items in (("best for", tool.best_for), ("limitations", tool.limitations)):
        if items:
            console.print(f"  {label:16} {escape('; '.join(items))}")
    if "success_rate" in beside:
        console.print(f"  {'success_rate':16} [green]measured: {escape(beside['success_rate'])}[/]")
    if "benchmark" in beside:
        console.print(f"  {'benchmark':16} [green]{escape(beside['benchmark'])}[/]")
    if not beside:
        console.print(
            "  [dim]nothing measured yet: figures are the catalog's claims "
            f"(reelgraph tools benchmark {escape(tool.provider)})[/]"
        )


def _measured(catalog: ToolCatalog, tool: ToolEntry) -> dict[str, Any]:
    """What the run store measured of ``tool`` (``{}`` before anything): runs and benchmarks."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.plugins.production.measured import apply_measurements, measure_for
    from reelgraph.store.benchmarks import clip_measurements, read_benchmarks

    with _run_store() as store:
        if store is None:
            return {}
        try:
            measures = clip_measurements(store)
            bench = read_benchmarks(store, provider=tool.provider, model=tool.model)
        except ReelgraphError as err:
            _fail(str(err))
    measure = measure_for(tool, catalog, measures)
    if measure is None and not bench:
        return {}
    out: dict[str, Any] = {}
    if measure is not None:
        from reelgraph.models import ToolCatalog

        single = ToolCatalog(tools=[tool])
        _, figures = apply_measurements(single, [measure])
        out["runs"] = measure.as_dict()
        out["solver"] = figures[0].model_dump(mode="json")
    if bench:
        done = [b for b in bench if b.status != "skipped"]
        out["benchmark"] = {
            "clips": len(done),
            "succeeded": sum(b.status == "succeeded" for b in done),
            "decodable": sum(bool(b.decodable) for b in done),
            "last_bench_id": bench[0].bench_id,
            "durations_s": [b.duration_s for b in done if b.duration_s is not None],
        }
    return out


def _beside(measured: dict[str, Any]) -> dict[str, str]:
    """One line per measured figure, for `tools show`."""
    lines: dict[str, str] = {}
    runs = measured.get("runs")
    basis = (measured.get("solver") or {}).get("basis", {})
    if runs:
        tail = f"over {runs['runs']} runs"
        if basis.get("price_usd_per_s") == "measured":
            lines["price_usd_per_s"] = (
                f"${runs['usd_per_s']:.4g} per second (${runs['cost_usd']:.2f} for "
                f"{runs['billed_s']:g} s of clips) {tail}"
            )
        if runs["median_s"] is not None:
            used = "" if basis.get("latency_s") == "measured" else " (too few clips to plan with)"
            lines["latency_s"] = (
                f"median {runs['median_s']:g} s of {runs['succeeded']} successful clips {tail}{used}"
            )
        if runs["success_rate"] is not None:
            note = (measured.get("solver") or {}).get("note") or ""
            lines["success_rate"] = (
                f"{runs['success_rate']:.0%} ({runs['succeeded']} of {runs['attempts']} attempts)"
                + (f"; {note}" if note else "")
            )
    bench = measured.get("benchmark")
    if bench:
        lines["benchmark"] = (
            f"{bench['succeeded']} of {bench['clips']} clips succeeded, {bench['decodable']} "
            f"decodable (last: {bench['last_bench_id']})"
        )
    return lines


def learned_stats(store: RunStore | Path | None) -> list[dict[str, Any]]:
    """What the run store has seen of each provider, per hook and provider.

    Attempts of nodes that pinned a provider: how many, how many succeeded,
    median and longest seconds per attempt, US dollars spent and per success.

    Args:
        store: the run store (any backend: ``Kernel.existing_store()``), or
            a SQLite file read read-only; ``None``: none yet, no rows.

    Raises:
        StoreError: the store cannot be read (the caller reports it).
    """
    import statistics

    from reelgraph.store.benchmarks import _reading

    if store is None:
        return []
    with _reading(store) as query:
        if query is None:
            return []
        attempts = query(
            "SELECT n.hook, n.provider, a.status, a.ended_at - a.started_at"
            " FROM attempts a JOIN nodes n ON a.run_id = n.run_id AND a.node_id = n.node_id"
            " WHERE n.provider IS NOT NULL AND a.ended_at IS NOT NULL",
            (),
        )
        spent = query(
            "SELECT hook, provider, COUNT(DISTINCT run_id), SUM(cost_usd) FROM nodes"
            " WHERE provider IS NOT NULL GROUP BY hook, provider",
            (),
        )
    seconds: dict[tuple[str, str], list[float]] = {}
    succeeded: dict[tuple[str, str], int] = {}
    for hook, provider, status, took in attempts:
        seconds.setdefault((hook, provider), []).append(max(0.0, float(took)))
        succeeded[hook, provider] = succeeded.get((hook, provider), 0) + (status == "succeeded")
    out = []
    for hook, provider, runs, cost in spent:
        times = seconds.get((hook, provider), [])
        wins = succeeded.get((hook, provider), 0)
        out.append(
            {
                "hook": hook,
                "provider": provider,
                "runs": runs,
                "attempts": len(times),
                "succeeded": wins,
                "success_rate": round(wins / len(times), 3) if times else None,
                "median_s": round(statistics.median(times), 3) if times else None,
                "max_s": round(max(times), 3) if times else None,
                "cost_usd": round(cost or 0.0, 6),
                "usd_per_success": round((cost or 0.0) / wins, 6) if wins else None,
            }
        )
    return sorted(out, key=lambda r: (r["hook"], r["provider"]))


@tools_app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    hook: Annotated[str | None, typer.Option("--hook", help="Only this hook.")] = None,
    clips: Annotated[
        bool,
        typer.Option("--clips", help="Clip providers per model, as the solver reads them."),
    ] = False,
) -> None:
    """What past runs measured, per hook and provider: success rate, seconds, US dollars.

    Read from the configured run store (REELGRAPH_STORE, else the home's;
    nothing is written): attempts of nodes that named a provider. A vendor's
    real latency and success rate, next to what the catalog claims.

    Example:

        reelgraph tools stats --hook plan_production
    """
    from reelgraph.errors import ReelgraphError

    if clips:
        _clip_stats(as_json)
        return
    with _run_store() as store:
        try:
            rows = learned_stats(store)
        except ReelgraphError as err:
            _fail(str(err))
    if hook:
        rows = [r for r in rows if r["hook"] == hook]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="reelgraph tools stats (from the run store)")
    for column in ("hook", "provider"):
        table.add_column(column, no_wrap=True)
    for column in ("runs", "attempts", "success", "median s", "max s", "USD", "USD/success"):
        table.add_column(column, justify="right")
    for r in rows:
        rate = "-" if r["success_rate"] is None else f"{r['success_rate']:.0%}"
        table.add_row(
            r["hook"],
            r["provider"],
            str(r["runs"]),
            str(r["attempts"]),
            rate,
            "-" if r["median_s"] is None else f"{r['median_s']:.2f}",
            "-" if r["max_s"] is None else f"{r['max_s']:.2f}",
            f"{r['cost_usd']:.2f}",
            "-" if r["usd_per_success"] is None else f"{r['usd_per_success']:.4f}",
        )
    Console().print(table)


def _clip_stats(as_json: bool) -> None:
    """``tools stats --clips``: per clip provider and model, what the solver plans with."""
    from reelgraph.errors import ReelgraphError
    from reelgraph.store.benchmarks import clip_measurements

    with _run_store() as store:
        try:
            rows = [] if store is None else [m.as_dict() for m in clip_measurements(store)]
        except ReelgraphError as err:
            _fail(str(err))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="reelgraph tools stats --clips (generate_clip, from the run store)")
    for column in ("provider", "model"):
        table.add_column(column, no_wrap=True)
    for column in ("runs", "attempts", "success", "median s", "clip s paid", "USD", "USD/s"):
        table.add_column(column, justify="right")
    for r in rows:
        rate = "-" if r["success_rate"] is None else f"{r['success_rate']:.0%}"
        table.add_row(
            r["provider"], r["model"] or "(any)", str(r["runs"]), str(r["attempts"]), rate,
            "-" if r["median_s"] is None else f"{r['median_s']:.2f}",
            f"{r['billed_s']:g}", f"{r['cost_usd']:.2f}",
            "-" if r["usd_per_s"] is None else f"{r['usd_per_s']:.4f}",
        )  # fmt: skip
    Console().print(table)


def _options(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as provider options (a value is read as JSON when it parses)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--option {pair!r}: expected KEY=VALUE, e.g. --option poll_s=2")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


@tools_app.command("benchmark")
def benchmark(
    provider: Annotated[str, typer.Argument(help="The clip provider, e.g. slides or runway.")],
    model: Annotated[
        str | None,
        typer.Option("--model", help="The model (default: the provider's cheapest catalog tool)."),
    ] = None,
    prompts: Annotated[
        int, typer.Option("--prompts", min=1, help="How many cases of the suite to make.")
    ] = 3,
    max_cost_usd: Annotated[
        float,
        typer.Option("--max-cost-usd", min=0, help="Stop before spending more (US dollars)."),
    ] = DEFAULT_MAX_COST_USD,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before paying.")] = False,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="A provider option KEY=VALUE (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Make a small fixed suite of clips with one provider and record what they measured.

    Each case (text- and image-to-video, 4 s, the tool's aspects in turn)
    runs through the kernel as a one-node run: budgets, retries and the
    journal apply, and the run store keeps its nodes, attempts and costs plus
    one benchmark row (latency s, cost USD, success, decoded duration, size,
    fps). The solver then plans with the measured figures (`tools show`).
    Before anything is paid for, the estimated cost is printed and confirmed
    (unless --yes); a case that would pass --max-cost-usd is skipped.

    Example:

        reelgraph tools benchmark runway --model gen4_turbo --prompts 2 --yes
    """
    from rich.console import Console

    from reelgraph.errors import ReelgraphError
    from reelgraph.kernel import Kernel, new_run_id
    from reelgraph.plugins.production.benchmark import estimate_usd, plan_cases, summarise

    catalog = load_catalog()
    options = _options(option or [])
    kernel = Kernel()
    bench_id = "bench-" + new_run_id()
    err = Console(stderr=True, highlight=False)
    try:
        tool, planned = plan_cases(
            catalog, provider, model, prompts, kernel.home / "benchmarks" / bench_id
        )
        for case in planned:
            case.estimate_usd = estimate_usd(
                kernel, tool.provider, case, {"model": tool.model, **options}
            )
    except ReelgraphError as error:
        _fail(str(error))
    total = sum(c.estimate_usd or 0.0 for c in planned)
    cases = ", ".join(f"{c.shot.mode.replace('_', '-')} {c.aspect}" for c in planned)
    err.print(
        f"benchmark {tool.name} ({tool.provider} {tool.model}): {len(planned)} clips ({cases}); "
        f"estimated ${total:.2f}, at most ${max_cost_usd:.2f} (--max-cost-usd)",
        soft_wrap=True,
    )
    if total > max_cost_usd:
        err.print("[yellow]cases past --max-cost-usd will be skipped[/]")
    if total > 0 and not yes:
        typer.confirm("submit them?", abort=True, err=True)
    rows = _run_with_progress(kernel, tool, planned, bench_id, max_cost_usd, options, err)
    summary = summarise(rows)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "bench_id": bench_id,
                    "tool": tool.name,
                    "provider": tool.provider,
                    "model": tool.model,
                    "summary": summary,
                    "clips": [_row_dict(r) for r in rows],
                },
                indent=2,
            )
        )
    else:
        _print_rows(bench_id, tool.name, rows, summary)
    if not summary["succeeded"]:
        raise typer.Exit(1)


def _run_with_progress(
    kernel: Any,
    tool: ToolEntry,
    planned: list[Any],
    bench_id: str,
    max_cost_usd: float,
    options: dict[str, Any],
    console: Any,
) -> list[Any]:
    """Run the cases under a progress bar (on stderr); a store error exits 2."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from reelgraph.plugins.production.benchmark import run_benchmark
    from reelgraph.store.runs import StoreError

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task(f"benchmark {tool.name}", total=len(planned))

        def advance(case: Any, row: Any) -> None:
            bar.update(task, advance=1, description=f"{case.case.id}: {row.status}")

        try:
            return run_benchmark(
                kernel, tool, planned, bench_id=bench_id, max_cost_usd=max_cost_usd,
                options=options, on_case=advance,
            )  # fmt: skip
        except StoreError as error:
            _fail(f"run store: {error}")


def _row_dict(row: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(row)


def _print_rows(bench_id: str, name: str, rows: list[Any], summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"reelgraph tools benchmark {name} ({bench_id})")
    table.add_column("case")
    for column in ("mode", "aspect", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("latency s", "tries", "USD", "clip s", "size", "fps", "ok"):
        table.add_column(column, justify="right", no_wrap=True)

    def num(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    for r in rows:
        size = f"{r.width_px}x{r.height_px}" if r.width_px else "-"
        decodes = "-" if r.decodable is None else ("yes" if r.decodable else "NO")  # decodable
        table.add_row(
            r.case_id, {"text_to_video": "t2v", "image_to_video": "i2v"}.get(r.mode, r.mode),
            r.aspect, r.status,
            num(r.latency_s, ".2f"), str(r.attempts), f"{r.cost_usd:.2f}",
            num(r.duration_s, ".2f"), size, num(r.fps, "g"), decodes,
        )  # fmt: skip
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: rich's 80 columns would cut the figures
        console = Console(highlight=False, width=130)
    console.print(table)
    rate = summary["success_rate"]
    console.print(
        f"{summary['succeeded']} of {summary['clips']} clips succeeded"
        + ("" if rate is None else f" ({rate:.0%})")
        + f", {summary['skipped']} skipped; ${summary['cost_usd']:.2f} spent"
        + (
            ""
            if summary["median_latency_s"] is None
            else f"; median latency {summary['median_latency_s']:.2f} s"
        )
    )
    for r in rows:
        if r.error:
            from rich.markup import escape

            console.print(f"  [red]{escape(r.case_id)}[/]: {escape(r.error)}", soft_wrap=True)
