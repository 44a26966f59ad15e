"""The shipped presentation spec with ``-i llm=openai``: every role through the real SDK and the fake server.

The fake server answers each role from its request, as a model would: the
director plans the brief's parts, the scriptwriter writes beats sized to the
plan at 130 words a minute that say every key message, the designer picks
library shots, the narrator wraps each sentence for its engine, the reviewer
scores every criterion. The answers are canned (deterministic) but built from
what the role was sent, so they pass the roles' checks.

Figures (requests, tokens, cost, kernel seconds per LLM call) print with ``-s``::

    python -m pytest -m slow -s tests/plugins/test_vendor_openai_presentation.py
"""

from __future__ import annotations

import json
import secrets
import statistics
from html import escape
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reelgraph import Kernel
from reelgraph.models import BEAT_PARTS
from reelgraph.plugins.roles._llm_checks import REQUIRED_CRITERIA
from reelgraph.plugins.vendors._pricing import cost_usd, load_prices
from tests.fakes.openai_server import FakeOpenAI, Step

BRIEF = Path(__file__).parents[1] / "fixtures" / "briefs" / "trunk-based.yaml"
WPM = 130
PAUSE_S = 0.75
FILLER = [
    "Every team that ships software feels this every week.",
    "The cost grows quietly until a release day makes it plain.",
    "Engineers spend whole afternoons untangling work that drifted apart.",
    "A shared habit turns that risk into a routine you barely notice.",
    "Reviews stay short when each change is small and easy to read.",
    "The build tells you within minutes whether main still works.",
    "Nobody has to wait for a big merge before they can move on.",
    "Managers get a clear picture of progress from the main line itself.",
]


def _payload(body: dict) -> dict:
    """The JSON the role sent as its user message (a rule repair appends text after it)."""
    text = body["messages"][1]["content"]
    return json.JSONDecoder().raw_decode(text)[0]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def plan_answer(body: dict) -> dict:
    brief = _payload(body)["brief"]
    parts = ["hook", "problem", "approach", "proof", "close"]
    weights = [0.15, 0.2, 0.3, 0.2, 0.15]
    middle = ["problem", "approach", "proof"]
    placed: dict[str, list[str]] = {p: [] for p in parts}
    for i, message in enumerate(brief["key_messages"]):
        placed[middle[i % len(middle)]].append(message)
    return {
        "audience_analysis": f"{brief['audience']} who need the reason first and the how second.",
        "parts": [
            {
                "part": p,
                "purpose": f"the {p.replace('_', ' ')}",
                "duration_s": round(brief["duration_s"] * w, 1),
                "key_messages": placed[p],
            }
            for p, w in zip(parts, weights, strict=True)
        ],
        "key_messages": brief["key_messages"],
        "questions": [],
        "assumptions": [],
    }


def beats_answer(body: dict) -> dict:
    payload = _payload(body)
    if "draft" in payload:  # the optimizer: the draft's beats, unchanged
        return {"beats": [_beat_of(scene) for scene in payload["draft"]["scenes"]]}
    brief, plan = payload["brief"], payload["plan"]
    beats, filler = [], iter(FILLER * 8)
    for index, part in enumerate(plan["parts"]):
        words_wanted = max(3, round((part["duration_s"] - PAUSE_S) * WPM / 60))
        narration = [_sentence(brief["title"])] if index == 0 else []
        narration += [_sentence(m) for m in part["key_messages"]]
        if part["part"] == "close":
            narration.append("Thank you for watching.")
        while sum(len(s.split()) for s in narration) < words_wanted - 4:
            narration.insert(len(narration) - (part["part"] == "close"), next(filler))
        beats.append(
            {
                "part": part["part"],
                "on_screen_text": brief["title"] if index == 0 else part["purpose"].title(),
                "bullets": [m for m in part["key_messages"]][:6] or [part["purpose"]],
                "narration": narration,
                "duration_s": part["duration_s"],
                "key_messages": part["key_messages"],
                "visual_intent": f"show {part['purpose']}",
            }
        )
    return {"beats": beats}


def _beat_of(scene: dict) -> dict:
    return {
        "part": scene["part"],
        "on_screen_text": scene["title"],
        "bullets": scene["bullets"] or [scene["title"]],
        "narration": scene["narration"],
        "duration_s": scene["duration_s"],
        "key_messages": scene["key_messages"],
        "visual_intent": scene["visual_intent"] or scene["title"],
    }


def shots_answer(body: dict) -> dict:
    scenes = _payload(body)["script"]["scenes"]
    last = len(scenes) - 1
    return {
        "shots": [
            {
                "scene_index": scene["index"],
                "shot_type": "title_card" if i == 0 else "end_card" if i == last else "diagram",
                "framing": "centred, generous margins",
                "camera_move": "static",
                "lighting": "flat, high contrast",
                "subject": scene["title"],
                "continuity": "same palette and type on every slide",
                "prompt": f"a clean slide: {scene['title']}",
                "negative_prompt": "no stock photos of people",
                "storyboard_frame": f"the heading {scene['title']!r} over the bullets",
                "complexity": "low",
                "duration_s": scene["duration_s"],
                "mode": "slide",
            }
            for i, scene in enumerate(scenes)
        ]
    }


def speech_answer(body: dict) -> dict:
    payload = _payload(body)
    wrap = (
        (lambda s: f"<speak>{escape(s, quote=False)}</speak>")
        if payload["engine"] == "espeak"
        else (lambda s: s)
    )
    return {"scenes": [{"sentences": [wrap(s) for s in scene]} for scene in payload["scenes"]]}


def verdict_answer(body: dict) -> dict:
    return {
        "scores": [
            {"criterion": c, "score": 0.9, "reason": f"the {c.replace('_', ' ')} fits the brief"}
            for c in REQUIRED_CRITERIA
        ],
        "revisions": [],
    }


ANSWERS = {
    "Plan": plan_answer,
    "Beats": beats_answer,
    "Shots": shots_answer,
    "Speech": speech_answer,
    "Verdict": verdict_answer,
}


@pytest.fixture
def key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(36)


@pytest.fixture
def server(key, monkeypatch):
    fake = FakeOpenAI(key, ANSWERS)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    yield fake
    fake.close()


def run_presentation(tmp_path: Path, server: FakeOpenAI):
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    kernel = Kernel(tracer_provider=tracer_provider)
    run = kernel.run(
        "presentation",
        inputs={"brief": str(BRIEF), "llm": "openai"},
        output_dir=tmp_path / "out",
    )
    return kernel, run, spans.get_finished_spans()


def figures(run, spans, server: FakeOpenAI) -> dict:
    """Requests, tokens, cost, and the kernel's seconds around each LLM call."""
    price = load_prices("openai")["gpt-4o-mini"]
    answered = [r for r in server.completions if r.status == 200]
    tokens_in = sum(r.response["usage"]["prompt_tokens"] for r in answered)
    tokens_out = sum(r.response["usage"]["completion_tokens"] for r in answered)
    overheads, by_node = [], {}
    for span in spans:
        requests = [e for e in span.events if e.name == "gen_ai.request"]
        if requests and span.name.startswith("chat "):
            seconds = (span.end_time - span.start_time) / 1e9
            overheads.append(seconds - sum(e.attributes["duration_s"] for e in requests))
            node = f"{span.attributes['reelgraph.node.id']}#{span.attributes['reelgraph.attempt']}"
            by_node[node] = round(overheads[-1], 4)
    llm_nodes = [n for n in run.nodes.values() if n.provider == "openai"]
    return {
        "status": run.status,
        "requests": len(server.completions),
        "by_schema": {
            name: sum(r.schema_name == name for r in server.completions) for name in ANSWERS
        },
        "statuses": [r.status for r in server.completions],
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "cost_usd": cost_usd(price, tokens_in, 0, tokens_out),
        "recorded_cost_usd": sum(n.cost_usd for n in llm_nodes),
        "llm_attempts": len(overheads),
        "overhead_s_median": statistics.median(overheads) if overheads else None,
        "overhead_s_max": max(overheads) if overheads else None,
        "overhead_s_by_attempt": by_node,
    }


@pytest.mark.slow
def test_presentation_with_llm_openai_against_the_fake_server(tmp_path, server, capsys):
    kernel, run, spans = run_presentation(tmp_path, server)
    found = figures(run, spans, server)
    with capsys.disabled():
        print("\npresentation -i llm=openai (fake server):", json.dumps(found, indent=1))
    llm_nodes = {n.id: n for n in run.nodes.values() if n.provider == "openai"}
    assert set(llm_nodes) >= {
        "plan",
        "draft",
        "script",
        "script_review",
        "shots",
        "narrated",
        "review",
    }
    assert all(n.status == "succeeded" for n in llm_nodes.values()), run.error
    assert run.status in ("succeeded", "failed_quality"), run.error
    # one request per role call: the answers pass the checks and validate
    assert found["by_schema"]["Plan"] == 1 and found["by_schema"]["Shots"] == 1
    assert found["by_schema"]["Speech"] == 1
    assert found["requests"] == sum(found["by_schema"].values())
    assert found["recorded_cost_usd"] == pytest.approx(found["cost_usd"])
    assert kernel.store.get_run_cost(run.id) == pytest.approx(found["cost_usd"])
    script = json.loads(json.dumps(run.outputs["script"].model_dump(mode="json")))
    assert [s["part"] for s in script["scenes"]] == [
        p for p in BEAT_PARTS if p in {"hook", "problem", "approach", "proof", "close"}
    ]


@pytest.mark.slow
def test_presentation_with_one_429_and_one_malformed_answer(tmp_path, server, capsys):
    server.queue(Step.rate_limited(retry_after_s=0.5), Step(content='{"audience_analysis": "cut'))
    kernel, run, spans = run_presentation(tmp_path, server)
    found = figures(run, spans, server)
    with capsys.disabled():
        print("\npresentation, one 429 + one malformed answer:", json.dumps(found, indent=1))
    assert run.nodes["plan"].status == "succeeded" and run.nodes["plan"].attempts == 2
    # the 429 (attempt 1), then the malformed answer and its repair turn (attempt 2)
    assert found["statuses"][:3] == [429, 200, 200]
    assert found["by_schema"]["Plan"] == 3
    repair = server.completions[2].body["messages"]
    assert repair[-2]["role"] == "assistant" and "not valid JSON" in repair[-1]["content"]
    assert found["recorded_cost_usd"] == pytest.approx(found["cost_usd"])


def test_a_budget_below_the_directors_estimate_stops_the_run_before_any_request(tmp_path, server):
    run = Kernel().run(
        "presentation",
        inputs={"brief": str(BRIEF), "llm": "openai"},
        budget={"max_cost_usd": 0.0001},
        output_dir=tmp_path / "out",
    )
    assert run.status == "over_budget"
    assert run.nodes["plan"].status != "succeeded"
    assert server.requests == []
    assert "plan" in str(run.error)
