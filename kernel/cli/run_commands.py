"""``reelgraph run``, ``resume``, ``answer`` and ``fork``: the commands that start or
continue a run (registered on the app by :mod:`reelgraph.cli.main`, in this order).

Their shared options are declared once in :mod:`reelgraph.cli._options`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from reelgraph.cli._exits import fail, fail_with, spec_error_text, stderr
from reelgraph.cli._options import (
    AsJson,
    Concurrency,
    Executor,
    Force,
    MaxCost,
    MaxDuration,
    NoCacheUnfinished,
    PublishDir,
    Scheduler,
    SecretInputs,
    Trace,
    Workers,
    budget,
    no_cache_option,
    output_dir_option,
)
from reelgraph.cli.batch import make_kernel
from reelgraph.cli.running import drive, finish, parse_pairs, tracing

__all__ = ["answer", "fork", "plan_or_exit", "resume", "run"]


def plan_or_exit(kernel: Any, spec: str) -> Any:
    from reelgraph.errors import SpecError

    try:
        return kernel.plan(spec)
    except SpecError as err:
        fail(spec_error_text(err))


def run(
    spec: Annotated[str, typer.Argument(help="A spec file, or the name of a shipped spec.")],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="An input as NAME=VALUE; repeat for several."),
    ] = None,
    output_dir: Annotated[Path, output_dir_option("Where to write results and run.json.")] = Path(
        "out"
    ),
    as_json: AsJson = False,
    trace: Trace = False,
    concurrency: Concurrency = None,
    no_cache: Annotated[
        bool, no_cache_option("Run every node, even when a cached result exists.")
    ] = False,
    max_cost_usd: MaxCost = None,
    max_duration_s: MaxDuration = None,
    executor: Executor = "asyncio",
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Run a spec and write its outputs into OUTDIR.

    Example:

        reelgraph run document-to-video -i document=README.md -o out

    writes out/video.mp4, out/video.srt, out/video.vtt, out/quality.json and
    out/run.json. File outputs appear in OUTDIR only when the run succeeds,
    or when it ends with status failed_quality (a quality gate failed: exit
    code 3), so you can inspect them. The run id is
    printed first: if the run crashes or you press Ctrl-C, continue it with
    `reelgraph resume RUN_ID`. Results already paid for are reused from the
    cache unless --no-cache is given.

    With a budget (--max-cost-usd 5, or `budget:` in the spec) a node that
    would take the run past it is not started; the run ends over_budget
    (exit code 4) and `reelgraph resume RUN_ID --max-cost-usd 10` continues it.

    When a node asks clarifying questions (a brief leaves its audience open),
    the run stops needs_input (exit code 7) and prints them with the command
    that answers them: `reelgraph answer RUN_ID -a audience="new engineers"`.

    Exit codes: 0 succeeded, 1 a node failed, 2 bad input, 3 a quality gate
    failed, 4 over budget, 5 the run is held by another process, 6 a storage
    fault (disk full, folder read-only), 7 needs input, 130 cancelled.
    """
    from reelgraph.errors import InputError, SpecError

    provider = tracing(trace)
    kernel = make_kernel(concurrency, executor, scheduler, workers)
    plan = plan_or_exit(kernel, spec)
    given = parse_pairs(inputs or [], "-i", "document=README.md")
    try:
        from reelgraph.spec.inputs import bind_inputs

        # the inputs may choose providers (provider: $inputs.llm): validate that choice too
        plan = kernel.plan(plan.spec, bind_inputs(plan.spec, given))
    except (InputError, SpecError) as err:
        fail(spec_error_text(err))
    from reelgraph.kernel import new_run_id

    run_id = new_run_id()
    console = stderr()
    if not as_json:
        console.print(f"run [bold]{run_id}[/] · spec {plan.spec.name} · output {output_dir}")

    def start(on_event: Any) -> Any:
        return kernel.arun(
            plan,
            given,
            output_dir=output_dir,
            run_id=run_id,
            on_event=on_event,
            cache=not no_cache,
            budget=budget(max_cost_usd, max_duration_s),
        )

    try:
        result = drive(start, plan, run_id, console, quiet=as_json, provider=provider)
    finally:
        kernel.close()  # a LocalCluster the dask executor started stops here
    finish(result, output_dir, console, as_json)


def resume(
    run_id: Annotated[str, typer.Argument(help="The run id (or a unique prefix of it).")],
    output_dir: PublishDir = None,
    as_json: AsJson = False,
    trace: Trace = False,
    no_cache: NoCacheUnfinished = False,
    max_cost_usd: MaxCost = None,
    max_duration_s: MaxDuration = None,
    inputs: SecretInputs = None,
    force: Force = False,
    concurrency: Concurrency = None,
    executor: Executor = "asyncio",
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Continue a run that crashed, failed or was cancelled, under the same id.

    Nodes that finished are reused, not run again; the rest run now. The
    budget is the one the run started with; raise it to continue a run that
    stopped over_budget (costs already spent count, and the raised budget is
    kept for later resumes).

    One process executes a run at a time. When another live process holds
    the run, resume exits with status 5 and says which process; a run whose
    process is gone (killed, crashed) is taken over.

    Example:

        reelgraph resume 20261130-101500-3fa2c1 --max-cost-usd 10
    """

    provider = tracing(trace)
    kernel = make_kernel(concurrency, executor, scheduler, workers)
    given = parse_pairs(inputs or [], "-i", "api_key=VALUE")
    row, plan = _stored_run(kernel, run_id, given)
    target = output_dir or Path(row.output_dir or "out")
    console = stderr()
    if not as_json:
        console.print(f"resume [bold]{row.id}[/] · spec {row.spec} · output {target}")

    def start(on_event: Any) -> Any:
        return kernel.aresume(
            row.id,
            output_dir=target,
            on_event=on_event,
            cache=not no_cache,
            budget=budget(max_cost_usd, max_duration_s),
            inputs=given,
            force=force,
        )

    result = drive(start, plan, row.id, console, quiet=as_json, provider=provider)
    finish(result, target, console, as_json)


def _stored_run(
    kernel: Any, run_id: str, given: dict[str, str], answers: dict[str, str] | None = None
) -> tuple[Any, Any]:
    """The stored run and its plan, checked before anything runs (exit 2 with one line).

    With ``answers``, they are checked against the questions the run asked.
    """
    from reelgraph.errors import ReelgraphError, SpecError
    from reelgraph.plan.graph import build_plan
    from reelgraph.plan.providers import chooses_providers
    from reelgraph.spec.inputs import bind_inputs
    from reelgraph.spec.stored import resume_inputs, stored_spec

    try:
        row = kernel.find_run(run_id)
        spec = stored_spec(row)
        stored = row.inputs
        if answers is not None:
            from reelgraph.run.questions import merge_answers

            stored, _ = merge_answers(
                run_id=row.id,
                status=row.status,
                spec=spec,
                questions=row.questions,
                inputs=row.inputs,
                given=answers,
            )
        plan = build_plan(spec, kernel.registry)
        # a moved or deleted input file, a secret not given again: one clear line
        bound = bind_inputs(plan.spec, resume_inputs(plan.spec, stored, given))
        if chooses_providers(plan.spec):  # the stored inputs choose the providers again
            plan = build_plan(plan.spec, kernel.registry, bound)
    except SpecError as err:
        fail(spec_error_text(err))
    except ReelgraphError as err:
        fail_with(err)
    return row, plan


def answer(
    run_id: Annotated[str, typer.Argument(help="The run id (or a unique prefix of it).")],
    answers: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            "-a",
            help="An answer as KEY=ANSWER, KEY as the question listed it; repeat for several.",
        ),
    ] = None,
    output_dir: PublishDir = None,
    as_json: AsJson = False,
    trace: Trace = False,
    no_cache: NoCacheUnfinished = False,
    max_cost_usd: MaxCost = None,
    max_duration_s: MaxDuration = None,
    inputs: SecretInputs = None,
    force: Force = False,
    concurrency: Concurrency = None,
    executor: Executor = "asyncio",
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Answer the questions of a run that stopped needs_input (exit 7), and resume it.

    The answers are stored with the run and merged into its `answers` input;
    the node that asked runs again with them, and nothing that finished runs
    again. A key no question asked is an error naming the keys asked (exit 2).
    A node may ask again (new questions, or those left unanswered): the run
    then stops needs_input once more, and you answer again.
    `reelgraph show RUN_ID` lists the questions.

    Example:

        reelgraph answer 20261130-101500-3fa2c1 -a audience="new engineers" -a key_messages="one; two"
    """
    provider = tracing(trace)
    kernel = make_kernel(concurrency, executor, scheduler, workers)
    given = parse_pairs(inputs or [], "-i", "api_key=VALUE")
    replies = parse_pairs(answers or [], "-a", "audience=engineers")
    row, plan = _stored_run(kernel, run_id, given, replies)
    target = output_dir or Path(row.output_dir or "out")
    console = stderr()
    if not as_json:
        keys = ", ".join(replies)
        console.print(f"answer [bold]{row.id}[/] ({keys}) · spec {row.spec} · output {target}")

    def start(on_event: Any) -> Any:
        return kernel.aanswer(
            row.id,
            replies,
            output_dir=target,
            on_event=on_event,
            cache=not no_cache,
            budget=budget(max_cost_usd, max_duration_s),
            inputs=given,
            force=force,
        )

    result = drive(start, plan, row.id, console, quiet=as_json, provider=provider)
    finish(result, target, console, as_json)


def fork(
    run_id: Annotated[str, typer.Argument(help="The parent run's id (or a unique prefix of it).")],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i", help="An input to change, as NAME=VALUE; repeat for several."
        ),
    ] = None,
    output_dir: Annotated[Path, output_dir_option("Where to write results and run.json.")] = Path(
        "out"
    ),
    as_json: AsJson = False,
    trace: Trace = False,
    no_cache: Annotated[
        bool, no_cache_option("Run changed nodes even when a cached result exists.")
    ] = False,
    max_cost_usd: MaxCost = None,
    max_duration_s: MaxDuration = None,
    concurrency: Concurrency = None,
    executor: Executor = "asyncio",
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Start a new run of a stored run's spec with some inputs changed, reusing the rest.

    Every node whose arguments come out equal to the parent's (the same
    inputs, equal upstream outputs, the same provider) takes the parent's
    output without running, even when the parent ran with --no-cache; what
    depends on a changed input runs again. `reelgraph show` lists a run's
    parent and forks; `reelgraph diff PARENT FORK` compares them. Exit codes
    as for `reelgraph run`.

    Example:

        reelgraph fork 20261130-101500-3fa2c1 -i voice=en-gb -o out-en-gb
    """
    from reelgraph.cli.lineage import fork_command

    fork_command(
        make_kernel(concurrency, executor, scheduler, workers),
        run_id,
        parse_pairs(inputs or [], "-i", "voice=en-gb"),
        output_dir=output_dir,
        as_json=as_json,
        cache=not no_cache,
        budget=budget(max_cost_usd, max_duration_s),
        provider=tracing(trace),
    )
