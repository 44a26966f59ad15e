"""``reelgraph tools``: the video tool catalog the solver chooses from.

The catalog is whatever the installed plugins answer to the ``tool_catalog``
hook (the ``solver`` plugin ships one, with the user's tools file applied;
a third-party provider brings its own entries), merged by
:meth:`reelgraph.models.ToolCatalog.from_answers`. The kernel holds no tool
data. Only ``typer`` is imported at module level: ``reelgraph --help``
stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from reelgraph.models import ToolCatalog, ToolEntry

__all__ = ["learned_stats", "load_catalog", "tools_app"]

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
    if as_json:
        typer.echo(json.dumps(data, indent=2))
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
    for key, value in figures.items():
        console.print(f"  {key:16} {escape(str(value))}")
        source = tool.sources.get(key)
        if source is not None:
            console.print(
                f"  {'':16} [dim]{escape(source.url)} ({source.date}, {source.basis})[/]",
                soft_wrap=True,
            )
    for label, items in (("best for", tool.best_for), ("limitations", tool.limitations)):
        if items:
            console.print(f"  {label:16} {escape('; '.join(items))}")


def learned_stats(db_path: Path) -> list[dict[str, Any]]:
    """What the run store has seen of each provider, read-only, per hook and provider.

    Attempts of nodes that pinned a provider: how many, how many succeeded,
    median and longest seconds per attempt, US dollars spent and per success.

    Raises:
        sqlite3.Error: the store cannot be read (the caller reports it).
    """
    import sqlite3
    import statistics

    if not db_path.is_file():
        return []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        attempts = con.execute(
            "SELECT n.hook, n.provider, a.status, a.ended_at - a.started_at"
            " FROM attempts a JOIN nodes n ON a.run_id = n.run_id AND a.node_id = n.node_id"
            " WHERE n.provider IS NOT NULL AND a.ended_at IS NOT NULL"
        ).fetchall()
        spent = con.execute(
            "SELECT hook, provider, COUNT(DISTINCT run_id), SUM(cost_usd) FROM nodes"
            " WHERE provider IS NOT NULL GROUP BY hook, provider"
        ).fetchall()
    finally:
        con.close()
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
) -> None:
    """What past runs measured, per hook and provider: success rate, seconds, US dollars.

    Read from the run store (read-only): attempts of nodes that named a
    provider. A vendor's real latency and success rate, next to what the
    catalog claims.

    Example:

        reelgraph tools stats --hook plan_production
    """
    import sqlite3

    from reelgraph.kernel import default_home

    try:
        rows = learned_stats(default_home() / "reelgraph.db")
    except sqlite3.Error as err:
        _fail(f"run store: {err}")
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
