"""Clarifying questions: a node asks (NeedsInput), the run stops needs_input, answers resume it.

Real run store (SQLite in a temporary home), real scheduler; the plugins are
small test plugins that count their calls, so "nothing finished runs again"
is measured, not assumed. The CLI half runs ``reelgraph`` as a subprocess with
the in-tree offline director (its thin brief leaves the audience open).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reelgraph import InputError, Kernel, NeedsInput, NodeError, ReelgraphError, hookimpl
from reelgraph.hookspecs import defaults, hookspec
from reelgraph.observe.secrets import register_secret

FIXTURES = Path(__file__).parent.parent / "fixtures"


class Specs:
    @staticmethod
    @hookspec(firstresult=True)
    @defaults(answers={})
    def direct(topic, answers, ctx):
        """Plan ``topic``; may ask clarifying questions."""

    @staticmethod
    @hookspec(firstresult=True)
    def work(value, ctx):
        """Some work that costs time (and, in real life, money)."""


AUDIENCE = {
    "key": "audience",
    "question": "Who watches?",
    "why": "no audience",
    "assumption": "all",
}
TONE = {"key": "tone", "question": "Formal or casual?", "assumption": "casual"}


class Director:
    """Asks for the audience; once answered, asks for the tone when ``second_round``."""

    reelgraph_name = "director"

    def __init__(self, *, second_round: bool = False, questions: list | None = None) -> None:
        self.second_round = second_round
        self.questions = questions
        self.seen: list[dict] = []

    @hookimpl
    def direct(self, topic, answers, ctx):
        self.seen.append(dict(answers))
        if self.questions is not None:
            raise NeedsInput("malformed", self.questions)
        if "audience" not in answers:
            raise NeedsInput("who is it for?", [AUDIENCE])
        if self.second_round and "tone" not in answers:
            raise NeedsInput("what tone?", [TONE])
        return f"{topic} for {answers['audience']}" + (
            f", {answers['tone']}" if "tone" in answers else ""
        )


class Worker:
    reelgraph_name = "worker"

    def __init__(self) -> None:
        self.calls: list[int] = []

    @hookimpl
    async def work(self, value, ctx):
        self.calls.append(value)
        await asyncio.sleep(0.02)
        return value + 1


class Backup:
    """A fallback director that must never be asked to stand in for a question."""

    reelgraph_name = "backup"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def direct(self, topic, answers, ctx):
        self.calls += 1
        return "made up"


def spec(**plan_node) -> dict:
    """plan (asks) -> after; side runs alongside, independent of plan; both feed 'after'."""
    return {
        "name": "asking",
        "inputs": {
            "topic": {"default": "cats"},
            "answers": {"type": "object", "default": {}},
        },
        "nodes": [
            {
                "id": "plan",
                "hook": "direct",
                "provider": "director",
                "with": {"topic": "$inputs.topic", "answers": "$inputs.answers"},
            }
            | plan_node,
            {"id": "side", "hook": "work", "provider": "worker", "with": {"value": 1}},
            {"id": "side2", "hook": "work", "provider": "worker", "with": {"value": "$side"}},
            {
                "id": "after",
                "hook": "work",
                "provider": "worker",
                "with": {"value": "$side2"},
                "needs": ["plan"],
            },
        ],
        "outputs": {"plan": "$plan", "after": "$after"},
    }


def kernel(home: Path, *plugins: object) -> Kernel:
    return Kernel(plugins=list(plugins), entry_points=False, hookspecs=[Specs], home=home)


def test_a_question_stops_the_run_and_the_other_branch_finishes(tmp_path: Path) -> None:
    director, worker = Director(), Worker()
    k = kernel(tmp_path, director, worker)
    events: list = []
    run = k.run(spec(), on_event=events.append)

    assert run.status == "needs_input"
    assert run.questions == [{**AUDIENCE, "node": "plan"}]
    assert isinstance(run.error, NodeError) and isinstance(run.error.cause, NeedsInput)
    statuses = {n: r.status for n, r in run.nodes.items()}
    assert statuses == {
        "plan": "needs_input",
        "side": "succeeded",
        "side2": "succeeded",  # the independent branch ran to its end
        "after": "pending",  # depends on plan: never started
    }
    assert worker.calls == [1, 2]
    [asked] = [e for e in events if e.type == "node.needs_input"]
    assert asked.node_id == "plan" and asked.data["questions"] == run.questions
    assert run.to_dict()["questions"] == run.questions
    with pytest.raises(NodeError, match="NeedsInput: who is it for"):
        run.raise_for_status()

    row = k.store.get_run(run.id)
    assert (row.status, row.questions, row.answers) == ("needs_input", run.questions, None)
    stored = [e for e in k.store.get_events(run.id) if e[1] == "node.needs_input"]
    assert stored and stored[0][3]["questions"] == run.questions
    assert {n.node_id: n.status for n in k.store.get_nodes(run.id)}["plan"] == "needs_input"
    k.close()


def test_questions_are_never_retried_nor_handed_to_a_fallback(tmp_path: Path) -> None:
    director, backup = Director(), Backup()
    k = kernel(tmp_path, director, backup, Worker())
    run = k.run(
        spec(
            retry={"max_attempts": 3, "initial_s": 0.01, "jitter_s": 0},
            on_error=[{"provider": "backup"}],
        )
    )
    assert run.status == "needs_input"
    assert len(director.seen) == 1 and backup.calls == 0
    assert run.nodes["plan"].attempts == 1 and run.nodes["plan"].fallback is None
    k.close()


def test_answer_resumes_and_nothing_finished_runs_again(tmp_path: Path) -> None:
    director, worker = Director(), Worker()
    k = kernel(tmp_path, director, worker)
    first = k.run(spec())
    events: list = []

    run = k.answer(first.id, {"audience": " new staff "}, on_event=events.append)

    assert run.status == "succeeded", run.error
    assert run.id == first.id
    assert run.outputs == {"plan": "cats for new staff", "after": 4}
    assert director.seen == [{}, {"audience": "new staff"}]
    assert worker.calls == [1, 2, 3]  # side and side2 reused; only 'after' ran
    assert run.nodes["side"].cached and run.nodes["side2"].cached
    answered = [e for e in events if e.type == "run.answered"]
    assert [e.data for e in answered] == [{"answers": {"audience": "new staff"}}]
    row = k.store.get_run(run.id)
    assert row.status == "succeeded"
    assert row.answers == {"audience": "new staff"}
    assert row.inputs == {"topic": "cats", "answers": {"audience": "new staff"}}
    assert "run.answered" in [e[1] for e in k.store.get_events(run.id)]
    k.close()


def test_answering_twice_when_the_node_asks_again(tmp_path: Path) -> None:
    director = Director(second_round=True)
    k = kernel(tmp_path, director, Worker())
    first = k.run(spec())
    second = k.answer(first.id, {"audience": "kids"})

    assert second.status == "needs_input"
    assert second.questions == [{**TONE, "why": "", "node": "plan"}]
    assert k.store.get_run(first.id).questions == second.questions

    done = k.answer(first.id, {"tone": "casual"})
    assert done.status == "succeeded", done.error
    assert done.outputs["plan"] == "cats for kids, casual"
    assert director.seen[-1] == {"audience": "kids", "tone": "casual"}
    assert k.store.get_run(first.id).answers == {"audience": "kids", "tone": "casual"}
    # the first answer cannot be given to the second round's question list
    with pytest.raises(ReelgraphError, match="not waiting for answers"):
        k.answer(first.id, {"tone": "formal"})
    k.close()


def test_a_key_nobody_asked_names_the_keys_asked_and_nothing_runs(tmp_path: Path) -> None:
    director, worker = Director(), Worker()
    k = kernel(tmp_path, director, worker)
    first = k.run(spec())
    with pytest.raises(InputError) as info:
        k.answer(first.id, {"audiance": "kids"})
    problem = info.value.problems[0]
    assert problem.field == "answers.audiance"
    assert "no question asked 'audiance'" in str(problem)
    assert "did you mean 'audience'? the questions asked: audience" in str(problem)
    for bad in ({}, {"audience": "  "}):
        with pytest.raises(InputError):
            k.answer(first.id, bad)
    assert len(director.seen) == 1 and worker.calls == [1, 2]
    row = k.store.get_run(first.id)
    assert (row.status, row.answers) == ("needs_input", None)
    k.close()


def test_a_spec_without_an_answers_input_cannot_take_answers(tmp_path: Path) -> None:
    data = spec()
    del data["inputs"]["answers"]
    data["nodes"][0]["with"] = {"topic": "$inputs.topic"}
    k = kernel(tmp_path, Director(), Worker())
    run = k.run(data)
    assert run.status == "needs_input"
    with pytest.raises(InputError, match="declares no object input 'answers'"):
        k.answer(run.id, {"audience": "kids"})
    k.close()


def test_answers_need_the_run_store(tmp_path: Path) -> None:
    """An ephemeral run (and the scheduler's fast path) stops needs_input too."""
    k = Kernel(plugins=[Director(), Worker()], entry_points=False, hookspecs=[Specs], persist=False)
    run = k.run(spec())
    assert run.status == "needs_input" and run.questions[0]["key"] == "audience"
    with pytest.raises(ReelgraphError, match="needs the run store"):
        k.answer(run.id, {"audience": "kids"})


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([], "carried no questions"),
        ([{"question": "no key?"}], "key None is not"),
        ([{"key": "Audience", "question": "?"}], "key 'Audience' is not"),
        ([{"key": "audience"}], "has no question text"),
        ([AUDIENCE, AUDIENCE], "asks 'audience' twice"),
    ],
)
def test_questions_nobody_could_answer_fail_the_node(
    tmp_path: Path, questions: list, message: str
) -> None:
    k = kernel(tmp_path, Director(questions=questions), Worker())
    run = k.run(spec())
    assert run.status == "failed"
    assert run.nodes["plan"].status == "failed"
    assert message in str(run.error)
    k.close()


def test_secrets_in_questions_are_redacted(tmp_path: Path) -> None:
    key = "acme-" + secrets.token_hex(16)
    register_secret(key, name="inputs.api_key")
    leaky = {"key": "audience", "question": f"Who may use {key}?", "assumption": "all"}
    k = kernel(tmp_path, Director(questions=[leaky]), Worker())
    run = k.run(spec())
    assert run.status == "needs_input"
    assert run.questions[0]["question"] == "Who may use [REDACTED:inputs.api_key]?"
    k.close()
    with sqlite3.connect(tmp_path / "reelgraph.db") as db:
        rows = db.execute("SELECT questions FROM runs").fetchall()
        events = db.execute("SELECT data FROM events").fetchall()
    assert key not in repr(rows) + repr(events)


class PricedWorker(Worker):
    """Worker whose calls are estimated at $10 each (the budget below allows $1)."""

    @hookimpl
    def estimate_cost(self, hook, provider, arguments):
        return 10.0 if hook == "work" else None


def test_questions_come_before_a_budget_stop_which_shows_again_on_answer(tmp_path: Path) -> None:
    worker = PricedWorker()
    k = kernel(tmp_path, Director(), worker)
    data = spec() | {"budget": {"max_cost_usd": 1.0}}
    run = k.run(data)
    assert run.status == "needs_input"
    assert run.nodes["side"].status == "blocked" and worker.calls == []
    stopped = k.answer(run.id, {"audience": "kids"})
    assert stopped.status == "over_budget"  # the plan ran; the work still costs too much
    assert stopped.nodes["plan"].status == "succeeded"
    done = k.resume(run.id, budget={"max_cost_usd": 100.0})
    assert done.status == "succeeded", done.error
    assert done.outputs["plan"] == "cats for kids" and done.nodes["plan"].cached
    k.close()


def test_spans_show_the_questions_without_an_error_status(tmp_path: Path) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    k = Kernel(
        plugins=[Director(), Worker()],
        entry_points=False,
        hookspecs=[Specs],
        home=tmp_path,
        tracer_provider=provider,
    )
    run = k.run(spec())
    k.close()
    assert run.status == "needs_input"
    spans = {s.name: s for s in memory.get_finished_spans()}
    node, whole = spans["node plan"], spans["run asking"]
    assert node.attributes["reelgraph.node.status"] == "needs_input"
    assert node.status.status_code != StatusCode.ERROR
    assert [e.attributes["reelgraph.questions"] for e in node.events] == [("audience",)]
    assert whole.attributes["reelgraph.run.status"] == "needs_input"
    assert whole.attributes["reelgraph.questions"] == ("audience",)
    assert whole.status.status_code != StatusCode.ERROR
    attempts = {
        a.status for a in Kernel(home=tmp_path, entry_points=False).store.get_attempts(run.id)
    }
    assert attempts == {"needs_input", "succeeded"}


# -- the command line ----------------------------------------------------------------------

CLI = [sys.executable, "-m", "reelgraph.cli"]
ASK_SPEC = """\
name: ask
inputs:
  brief: {type: file}
  answers: {type: object, default: {}}
nodes:
  - {id: brief, hook: load_brief, provider: offline, with: {source: $inputs.brief}}
  - id: plan
    hook: plan_video
    provider: offline
    with: {brief: $brief, answers: $inputs.answers}
outputs:
  plan: $plan
"""


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REELGRAPH_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_run_stops_with_exit_7_prints_questions_and_answer_resumes(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    spec_file = tmp_path / "ask.yaml"
    spec_file.write_text(ASK_SPEC)
    brief = FIXTURES / "briefs" / "thin.yaml"  # names no audience and no key messages

    asked = _cli(home, "run", str(spec_file), "-i", f"brief={brief}", "-o", str(out))

    assert asked.returncode == 7, asked.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "needs_input"
    keys = [q["key"] for q in record["questions"]]
    assert keys and "audience" in keys
    run_id = record["id"]
    command = f"reelgraph answer {run_id} " + " ".join(f"-a {key}=..." for key in keys)
    assert command in asked.stderr
    assert record["questions"][0]["question"] in asked.stderr

    shown = json.loads(_cli(home, "show", run_id, "--json").stdout)
    assert shown["status"] == "needs_input" and shown["questions"] == record["questions"]
    table = _cli(home, "show", run_id)
    assert "answer with: reelgraph answer" in table.stdout and "open" in table.stdout

    wrong = _cli(home, "answer", run_id, "-a", "audiance=new staff")
    assert wrong.returncode == 2
    assert "no question asked 'audiance'" in wrong.stderr
    assert f"the questions asked: {', '.join(keys)}" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert _cli(home, "answer", run_id, "-a", "audience").returncode == 2  # not KEY=ANSWER

    answers = {"audience": "new staff who file expenses", "key_messages": "receipts in 30 days"}
    args = [arg for key in keys for arg in ("-a", f"{key}={answers.get(key, 'yes')}")]
    done = _cli(home, "answer", run_id, *args, "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["id"] == run_id
    nodes = {n["id"]: n for n in result["nodes"]}
    assert nodes["brief"]["cached"] and not nodes["plan"]["cached"]  # only the director ran
    assert "new staff who file expenses" in result["outputs"]["plan"]["audience_analysis"]
    shown = json.loads(_cli(home, "show", run_id, "--json").stdout)
    assert shown["answers"]["audience"] == "new staff who file expenses"
    listed = json.loads(_cli(home, "runs", "--json").stdout)
    assert [r["status"] for r in listed if r["id"] == run_id] == ["succeeded"]
