"""The ``reelgraph`` command line.

Heavy modules (pydantic, networkx, the scheduler) are imported inside the
commands so ``reelgraph --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reelgraph import __version__
from reelgraph.cli._exits import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_STORAGE,
    fail,
    fail_with,
    options,
    stderr,
)
from reelgraph.cli.batch import batch
from reelgraph.cli.run_commands import answer, fork, plan_or_exit, resume, run
from reelgraph.cli.running import write_json
from reelgraph.cli.tools import tools_app

app = typer.Typer(
    name="reelgraph",
    help=(
        "Build AI video pipelines from YAML specs and plugins.\n\n"
        "Example: turn a Markdown file into a narrated, captioned MP4, offline:\n\n"
        "    reelgraph run document-to-video -i document=README.md -o out"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: rich help costs ~200 ms of imports
    pretty_exceptions_enable=False,
)

app.add_typer(tools_app, name="tools")
app.command("batch")(batch)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reelgraph {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    log_format: Annotated[
        str, typer.Option("--log-format", help="Log format on stderr: console or json.")
    ] = "console",
    log_level: Annotated[
        str, typer.Option("--log-level", help="Lowest log level: debug, info, warning, error.")
    ] = "warning",
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback behind a one-line error.")
    ] = False,
) -> None:
    """Build AI video pipelines from YAML specs and plugins."""
    from reelgraph.observe.logs import configure_logging

    options.debug = debug

    if log_format not in ("console", "json"):
        fail(f"--log-format must be console or json, not {log_format!r}")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        fail(f"--log-level must be debug, info, warning or error, not {log_level!r}")
    configure_logging(log_format, log_level)


def _kernel(concurrency: int | None = None) -> Any:
    from reelgraph.kernel import DEFAULT_CONCURRENCY, Kernel

    return Kernel(concurrency=concurrency or DEFAULT_CONCURRENCY)


app.command()(run)
app.command()(resume)
app.command()(answer)
app.command()(fork)


@app.command()
def diff(
    run_a: Annotated[str, typer.Argument(help="A run id (or a unique prefix).")],
    run_b: Annotated[str, typer.Argument(help="Another run id (or a unique prefix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the difference as JSON.")] = False,
) -> None:
    """Compare two runs: inputs that differ, nodes recomputed or reused, seconds, cost, gates.

    Example:

        reelgraph diff 20261130-101500-3fa2c1 20261130-104000-9b1e07 --json
    """
    from reelgraph.cli.lineage import diff_runs, print_diff
    from reelgraph.errors import ReelgraphError

    try:
        data = diff_runs(_kernel(), run_a, run_b)
    except ReelgraphError as err:
        fail_with(err)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        print_diff(data)


@app.command()
def plan(
    spec: Annotated[str, typer.Argument(help="A spec file, or the name of a shipped spec.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    last: Annotated[
        int, typer.Option("--last", min=1, help="Estimate from this many recent complete runs.")
    ] = 20,
) -> None:
    """Validate a spec and print its execution order; exit 2 when it is invalid.

    With history in the run store (earlier complete runs of a spec of this
    name), also the estimated seconds and US dollars per node (medians) and the
    critical path, before anything runs.

    Example:

        reelgraph plan document-to-video
    """
    from reelgraph.cli.stats import plan_estimate, print_estimate
    from reelgraph.errors import SpecError

    kernel = _kernel()
    try:
        resolved = kernel.plan(spec)
    except SpecError as err:
        if as_json:
            problems = [
                {
                    "message": p.message,
                    "file": p.file,
                    "node": p.node,
                    "field": p.field,
                    "hint": p.hint,
                }
                for p in err.problems
            ]
            typer.echo(json.dumps({"spec": spec, "valid": False, "problems": problems}, indent=2))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        fail(str(err))
    if as_json:
        data = {
            "spec": resolved.spec.name,
            "valid": True,
            "order": resolved.order,
            "generations": resolved.generations(),
            "inputs": {
                name: {"type": decl.type, "required": decl.required, "default": decl.default}
                for name, decl in resolved.spec.inputs.items()
            },
            "problems": [],
            "estimate": plan_estimate(kernel, resolved, last),
        }
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    from rich.console import Console

    from reelgraph.cli.display import plan_table

    console = Console()
    console.print(plan_table(resolved))
    for name, decl in resolved.spec.inputs.items():
        default = "required" if decl.required else f"default {decl.default!r}"
        console.print(f"  input [bold]{name}[/] ({decl.type}, {default}) {decl.description}")
    console.print("[green]valid[/]")
    print_estimate(console, plan_estimate(kernel, resolved, last), kernel.home)


@app.command()
def graph(
    spec: Annotated[str, typer.Argument(help="A spec file, or the name of a shipped spec.")],
) -> None:
    """Print a spec's DAG as a Mermaid flowchart (paste it into any Mermaid viewer).

    Example:

        reelgraph graph document-to-video > dag.mmd
    """
    from reelgraph.cli.display import mermaid

    typer.echo(mermaid(plan_or_exit(_kernel(), spec)), nl=False)


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Print the plugins as JSON.")] = False,
) -> None:
    """List installed plugins: name (the provider a spec names), version, package, hooks.

    Example:

        REELGRAPH_DISABLE_PLUGINS=html reelgraph plugins --json
    """
    infos = _kernel().plugins()
    if as_json:
        typer.echo(json.dumps([info.to_dict() for info in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="reelgraph plugins")
    for column in ("name", "version", "package", "hooks"):
        table.add_column(column)
    for info in infos:
        hooks = ", ".join(info.hooks) if not info.error else f"[red]broken: {info.error}[/]"
        table.add_row(info.name, info.version or "-", info.package or "-", hooks)
    Console().print(table)


@app.command()
def runs(
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 50,
) -> None:
    """List runs, newest first: id, spec, status, started, duration, cost.

    Example:

        reelgraph runs --limit 5
    """
    from reelgraph.cli.inspect import runs_command

    runs_command(_kernel(), as_json=as_json, limit=limit)


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="The run id (or a unique prefix of it).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Show a run: status, inputs, outputs and every node's status, attempts and timing.

    Example:

        reelgraph show 20261130-101500-3fa2c1 --json
    """
    from reelgraph.cli.inspect import show_command
    from reelgraph.errors import ReelgraphError

    try:
        show_command(_kernel(), run_id, as_json=as_json)
    except ReelgraphError as err:
        fail_with(err)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    spec: Annotated[str | None, typer.Option("--spec", help="Only runs of this spec.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only runs started since: 30m, 12h, 7d, 2w or 2026-12-01."),
    ] = None,
    last: Annotated[
        int, typer.Option("--last", min=1, help="Recent complete runs per spec for trends.")
    ] = 20,
) -> None:
    """Where the time and money went, from the run store of REELGRAPH_HOME.

    Per hook and provider: calls, success rate, p50/p95 seconds of a successful
    attempt, retries (and how many retried calls succeeded), fallbacks taken,
    US dollars. Per spec: runs by status, median duration and cost and their
    trend per run, quality gate verdicts, and the slowest nodes on the critical
    path. `reelgraph plan SPEC` estimates a run from the same history.

    Examples:

        reelgraph stats

        reelgraph stats --spec document-to-video --since 7d --json
    """
    from reelgraph.cli.stats import stats_command

    stats_command(_kernel(), as_json=as_json, spec=spec, since=since, last=last)


@app.command()
def gc(
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Remove runs started longer ago: 30d, 12h, 90m, 2w."),
    ] = None,
    keep_last: Annotated[
        int | None, typer.Option("--keep-last", min=0, help="Always keep the newest N runs.")
    ] = None,
    statuses: Annotated[
        list[str] | None,
        typer.Option("--status", help="Only remove runs with this status; repeat for several."),
    ] = None,
    memo: Annotated[
        bool, typer.Option("--memo", help="Expire cache entries older than --older-than too.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List what would go and the bytes freed; change nothing."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Remove old runs and the artifacts nothing kept references, then compact the store.

    Without --older-than, --keep-last or --status no run is removed, only
    unreferenced artifacts. Cache entries outlive their runs (and keep their
    artifacts) unless --memo is given. A run another live process is
    executing is never removed.

    Example:

        reelgraph gc --older-than 30d --keep-last 10 --dry-run
    """
    from reelgraph.cli.maintenance import gc_command
    from reelgraph.errors import ReelgraphError

    try:
        gc_command(
            _kernel(),
            older_than=older_than,
            keep_last=keep_last,
            statuses=statuses,
            memo=memo,
            dry_run=dry_run,
            as_json=as_json,
        )
    except (ReelgraphError, OSError) as err:  # a file gc cannot delete: a storage fault
        fail_with(err)


@app.command()
def doctor(
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="The output folder runs will write to.")
    ] = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check what a run needs: folders, free space, ffmpeg, espeak-ng, fonts, extras, store.

    Prints one line per check (ok, info, warn or fail) and exits 1 when any fails.

    Example:

        reelgraph doctor -o out --json
    """
    from reelgraph.cli.doctor import doctor_command

    raise typer.Exit(doctor_command(_kernel(), output=output_dir, as_json=as_json))


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to FILE (atomically), not stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of spec files, so editors complete and check specs.

    Example:

        reelgraph schema --output spec.schema.json

    then make this the first line of a spec (YAML language server, as in
    VS Code's YAML extension):

        # yaml-language-server: $schema=spec.schema.json

    The same schema ships as reelgraph/specs/spec.schema.json.
    """
    data = _spec_schema()
    if output is None:
        typer.echo(json.dumps(data, indent=2))
        return
    try:
        write_json(output, data)
    except OSError as err:
        fail(f"cannot write {output}: {err}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to bind.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="REELGRAPH_SERVER_TOKEN",
            show_envvar=True,
            help="Bearer token every request must carry; required off loopback.",
        ),
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=0, help="Largest upload, in MiB.")
    ] = 50.0,
    log_level: Annotated[str, typer.Option("--server-log-level", help="uvicorn's log level.")] = (
        "info"
    ),
) -> None:
    """Serve the HTTP API (OpenAPI page at /docs); needs pip install 'reelgraph[server]'.

    Example:

        reelgraph serve --port 8765

    Binding anything but loopback needs a token (--token or REELGRAPH_SERVER_TOKEN);
    without one the command exits 2.
    """
    # contrib is imported only here: the base install and --help never import fastapi
    from reelgraph.contrib.server.cli import ServeError
    from reelgraph.contrib.server.cli import serve as serve_api

    try:
        serve_api(host, port, token, max_upload_mb=max_upload_mb, log_level=log_level)
    except ServeError as err:
        fail(str(err))


def _spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of spec files, generated from ``Spec``."""
    from reelgraph.spec.model import Spec

    generated = Spec.model_json_schema(by_alias=True)
    generated["properties"].pop("path", None)  # where the spec was loaded from, not YAML
    generated.pop("title", None)
    generated.pop("description", None)
    defs = generated["$defs"]
    # on_error takes one fallback or a list of them (NodeSpec._one_or_many)
    many = defs["NodeSpec"]["properties"]["on_error"]
    defs["NodeSpec"]["properties"]["on_error"] = {
        "description": many.pop("description", ""),
        "anyOf": [{"$ref": "#/$defs/FallbackSpec"}, many],
        "default": many.pop("default", []),
    }
    # ConcurrencySpec._positive: every per-provider limit is at least 1
    defs["ConcurrencySpec"]["properties"]["providers"]["additionalProperties"]["minimum"] = 1
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reelgraph spec",
        "description": (
            "A reelgraph workflow spec: typed inputs, nodes that each call one hook, "
            "and outputs. Check one with `reelgraph plan SPEC`."
        ),
        **generated,
    }


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        stderr().print("[yellow]cancelled[/]")
        sys.exit(130)
    except Exception as err:
        import traceback

        from reelgraph.observe.secrets import redact
        from reelgraph.store.faults import storage_fault

        fault = storage_fault(err)
        if options.debug or fault is None:
            # an unexpected error: the traceback, with any API key in it redacted
            sys.stderr.write(redact(traceback.format_exc()))
        if fault is not None:
            from rich.markup import escape

            stderr().print(f"[bold red]error:[/] {escape(redact(str(fault)))}", soft_wrap=True)
            sys.exit(EXIT_STORAGE)
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
