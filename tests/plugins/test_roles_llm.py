"""The LLM role logic, driven by a test vendor whose ``structured`` answers from a script.

The vendor is a real :class:`LLMRoles` subclass (what ``openai`` and
``anthropic`` are): only ``structured`` is replaced, by one that records
every request and returns the next canned answer for its role. So these
tests exercise the prompts, the checks beyond the schema, the repair call
and what the hooks build from a usable answer.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from pydantic import BaseModel

from reelgraph.errors import InvalidInputError, NeedsInput
from reelgraph.models import BEAT_PARTS, Brief, CriterionScore, GateResult, Question, Script
from reelgraph.plugins.roles._llm_models import (
    Beat,
    Beats,
    Plan,
    PlannedPart,
    PlannedShot,
    SceneSpeech,
    Shots,
    Speech,
    Verdict,
)
from reelgraph.plugins.roles.llm import LLMRoles, StructuredRequest
from reelgraph.run.context import NodeContext

BRIEF = Brief(
    title="Trunk-based development",
    goal="Convince the team to merge small changes to main every day.",
    audience="engineering managers",
    key_messages=["Small daily merges keep main releasable", "Feature flags hide unfinished work"],
    duration_s=60,
)


class ScriptedVendor(LLMRoles):
    """A vendor that answers each role from a queue of canned answers, and records requests."""

    reelgraph_name = "scripted"

    def __init__(self, answers: dict[str, list[BaseModel]]) -> None:
        self.answers = {role: list(queue) for role, queue in answers.items()}
        self.requests: dict[str, list[StructuredRequest]] = defaultdict(list)

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        self.requests[request.role].append(request)
        return self.answers[request.role].pop(0)


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def _plan(durations: list[float], *, questions: list[Question] | None = None) -> Plan:
    parts = ["hook", "problem", "approach", "close"]
    placed = {"problem": [BRIEF.key_messages[0]], "approach": [BRIEF.key_messages[1]]}
    return Plan(
        audience_analysis="Managers who weigh risk; they need the why first.",
        parts=[
            PlannedPart(part=p, purpose=f"the {p}", duration_s=d, key_messages=placed.get(p, []))
            for p, d in zip(parts, durations, strict=True)
        ],
        key_messages=list(BRIEF.key_messages),
        questions=questions or [],
        assumptions=[],
    )


def _beats(
    durations: list[float], parts: list[str] | None = None, *, say_all: bool = True
) -> Beats:
    parts = parts or ["hook", "problem", "approach", "close"]
    lines = {
        "hook": ["Trunk-based development."],
        "problem": ["Small daily merges keep main releasable."],
        "approach": [
            "Feature flags hide unfinished work." if say_all else "Flags help.",
            "Turn them on when the work is done.",
        ],
        "close": ["Thank you for watching."],
    }
    return Beats(
        beats=[
            Beat(
                part=p,
                on_screen_text=p.title(),
                bullets=[f"point on {p}"],
                narration=lines[p],
                duration_s=d,
                key_messages=[],
                visual_intent=f"the {p}",
            )
            for p, d in zip(parts, durations, strict=True)
        ]
    )


# -- the director ---------------------------------------------------------------------------


def test_plan_prompt_states_the_role_structure_and_brief_and_durations_fit_exactly(ctx) -> None:
    vendor = ScriptedVendor({"director": [_plan([8, 20, 22, 12])]})  # 62 s: within +-5
    plan = vendor.plan_video(
        brief=BRIEF, document=None, answers={}, clarify=True, options={"model": "m-1"}, ctx=ctx
    )
    (request,) = vendor.requests["director"]
    assert request.output is Plan and request.model == "m-1"
    assert "director" in request.system and all(p in request.system for p in BEAT_PARTS)
    assert "60 seconds" in request.system and BRIEF.goal in request.system
    assert '"title": "Trunk-based development"' in request.user  # the brief, as JSON
    assert [p.part for p in plan.parts] == ["hook", "problem", "approach", "close"]
    assert sum(p.duration_s for p in plan.parts) == pytest.approx(60.0)  # scaled by construction
    assert plan.title == BRIEF.title and plan.duration_s == 60


def test_a_plan_off_target_gets_one_repair_call_carrying_the_problems(ctx) -> None:
    vendor = ScriptedVendor({"director": [_plan([30, 40, 40, 30]), _plan([10, 20, 20, 10])]})
    plan = vendor.plan_video(
        brief=BRIEF, document=None, answers={}, clarify=True, options={}, ctx=ctx
    )
    first, repair = vendor.requests["director"]
    assert "140 s" in repair.user and "60 s" in repair.user  # the problem, in words
    assert repair.user.startswith(first.user)
    assert sum(p.duration_s for p in plan.parts) == pytest.approx(60.0)


def test_a_plan_still_wrong_after_the_repair_is_invalid_input(ctx) -> None:
    wrong = _plan([10, 20, 20, 10])
    wrong.parts.reverse()  # close before hook
    vendor = ScriptedVendor({"director": [wrong, wrong]})
    with pytest.raises(InvalidInputError, match="after a repair"):
        vendor.plan_video(brief=BRIEF, document=None, answers={}, clarify=True, options={}, ctx=ctx)
    assert len(vendor.requests["director"]) == 2


def test_questions_stop_the_run_unless_answered_or_told_to_assume(ctx) -> None:
    asked = Question(key="audience", question="Who watches?", assumption="managers")
    vendor = ScriptedVendor({"director": [_plan([10, 20, 20, 10], questions=[asked])] * 3})
    with pytest.raises(NeedsInput) as stopped:
        vendor.plan_video(brief=BRIEF, document=None, answers={}, clarify=True, options={}, ctx=ctx)
    assert stopped.value.questions[0]["key"] == "audience"
    answered = vendor.plan_video(
        brief=BRIEF, document=None, answers={"audience": "CTOs"}, clarify=True, options={}, ctx=ctx
    )
    assert answered.answers == {"audience": "CTOs"} and not answered.assumptions
    assumed = vendor.plan_video(
        brief=BRIEF, document=None, answers={}, clarify=False, options={}, ctx=ctx
    )
    assert assumed.assumptions == ["audience: managers"]
    assert "Ask nothing" in vendor.requests["director"][-1].system


# -- the scriptwriter and the optimizer -------------------------------------------------------------


def test_script_gets_ids_kinds_and_start_times_by_construction(ctx) -> None:
    vendor = ScriptedVendor({"scriptwriter": [_beats([6, 20, 24, 12])]})  # 62 s
    script = vendor.write_script(
        document=None, brief=BRIEF, plan=None, duration_s=None, key_messages=[], feedback=[],
        options={}, ctx=ctx,
    )  # fmt: skip
    assert [s.beat_id for s in script.scenes] == ["b01", "b02", "b03", "b04"]
    assert [s.kind for s in script.scenes] == ["title", "content", "content", "closing"]
    assert [s.start_s for s in script.scenes] == [0.0, 5.8, 25.2, 48.4]
    assert sum(s.duration_s for s in script.scenes) == pytest.approx(60.0)
    assert script.scenes[0].bullets == [] and script.scenes[1].bullets == ["point on problem"]


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (_beats([6, 20, 24, 12], ["hook", "approach", "problem", "close"]), "comes after"),
        (_beats([6, 20, 24, 12], say_all=False), "never says the key message"),
        (_beats([6, 20, 24, 40]), "add up to 90 s"),
    ],
)
def test_beats_that_break_a_rule_are_sent_back_once_with_the_problem(
    first: Beats, expected: str, ctx
) -> None:
    vendor = ScriptedVendor({"scriptwriter": [first, _beats([6, 20, 22, 12])]})
    script = vendor.write_script(
        document=None, brief=BRIEF, plan=None, duration_s=None, key_messages=[], feedback=[],
        options={}, ctx=ctx,
    )  # fmt: skip
    assert len(vendor.requests["scriptwriter"]) == 2
    assert expected in vendor.requests["scriptwriter"][1].user
    assert [s.part for s in script.scenes] == ["hook", "problem", "approach", "close"]


def test_unspeakable_narration_is_a_problem_for_the_model(ctx) -> None:
    bad = _beats([6, 20, 22, 12])
    bad.beats[1].narration.append("See https://example.com/docs for more.")
    vendor = ScriptedVendor({"scriptwriter": [bad, bad]})
    with pytest.raises(InvalidInputError, match="cannot be read aloud"):
        vendor.write_script(
            document=None, brief=BRIEF, plan=None, duration_s=None, key_messages=[],
            feedback=[], options={}, ctx=ctx,
        )  # fmt: skip


def test_optimize_without_revisions_returns_the_draft_without_a_call(ctx) -> None:
    draft = Script(title="x", scenes=[], duration_s=60)
    vendor = ScriptedVendor({})
    assert vendor.optimize(script=draft, brief=BRIEF, feedback=[], options={}, ctx=ctx) is draft
    assert not vendor.requests


def test_optimize_sends_the_draft_and_revisions(ctx) -> None:
    vendor = ScriptedVendor(
        {"scriptwriter": [_beats([6, 20, 22, 12])], "optimizer": [_beats([6, 20, 22, 12])]}
    )
    draft = vendor.write_script(
        document=None, brief=BRIEF, plan=None, duration_s=None, key_messages=[], feedback=[],
        options={}, ctx=ctx,
    )  # fmt: skip
    revised = vendor.optimize(
        script=draft, brief=BRIEF, feedback=["b03: too long: shorten by about 4 s"], options={},
        ctx=ctx,
    )  # fmt: skip
    (request,) = vendor.requests["optimizer"]
    assert "shorten by about 4 s" in request.user and '"beat_id": "b03"' in request.user
    assert sum(s.duration_s for s in revised.scenes) == pytest.approx(60.0)


# -- the visual designer, the narrator, the reviewer ----------------------------------------------------


def _script(ctx) -> Script:
    vendor = ScriptedVendor({"scriptwriter": [_beats([6, 20, 22, 12])]})
    return vendor.write_script(
        document=None, brief=BRIEF, plan=None, duration_s=None, key_messages=[], feedback=[],
        options={}, ctx=ctx,
    )  # fmt: skip


def _shot(index: int, shot_type: str = "medium", seconds: float = 5) -> PlannedShot:
    return PlannedShot(
        scene_index=index, shot_type=shot_type, framing="f", camera_move="static", lighting="soft",
        subject="s", continuity="c", prompt="p", negative_prompt="n", storyboard_frame="b",
        complexity="low", duration_s=seconds, mode="slide",
    )  # fmt: skip


def test_shots_come_from_the_library_cover_every_scene_and_fill_it(ctx) -> None:
    script = _script(ctx)
    wrong = Shots(shots=[_shot(0, "drone_orbit"), _shot(1), _shot(2)])
    right = Shots(
        shots=[_shot(0, "title_card"), _shot(1), _shot(2), _shot(2), _shot(3, "end_card")]
    )
    vendor = ScriptedVendor({"visual_designer": [wrong, right]})
    shots = vendor.design_shots(
        script=script, brief=BRIEF, aspect="9:16", feedback=[], options={}, ctx=ctx
    )
    repair = vendor.requests["visual_designer"][1].user
    assert "'drone_orbit' is not in the shot library" in repair and "[3] have no shot" in repair
    assert [s.id for s in shots.shots] == ["s01", "s02", "s03", "s04", "s05"]
    assert shots.aspect == "9:16" and shots.shots[2].beat_id == "b03"
    for scene in script.scenes:
        mine = [s.duration_s for s in shots.shots if s.scene_index == scene.index]
        assert sum(mine) == pytest.approx(scene.duration_s, abs=0.05)
    with pytest.raises(InvalidInputError, match="unknown aspect"):
        vendor.design_shots(
            script=script, brief=BRIEF, aspect="4:3", feedback=[], options={}, ctx=ctx
        )


def test_narration_for_espeak_must_be_well_formed_ssml_one_entry_per_sentence(ctx) -> None:
    script = _script(ctx)
    counts = [len(s.narration) for s in script.scenes]
    broken = Speech(
        scenes=[SceneSpeech(sentences=["<speak>Fish & chips</speak>"] * n) for n in counts]
    )
    good = Speech(
        scenes=[
            SceneSpeech(sentences=[f"<speak>{t}</speak>" for t in s.narration])
            for s in script.scenes
        ]
    )
    vendor = ScriptedVendor({"narrator": [broken, good]})
    narrated = vendor.prepare_narration(
        script=script, voice="espeak:en-us", language=None, options={}, ctx=ctx
    )
    assert "not well-formed SSML" in vendor.requests["narrator"][1].user
    assert "SSML" in vendor.requests["narrator"][0].system
    assert [s.speech for s in narrated.scenes] == [
        [f"<speak>{t}</speak>" for t in s.narration] for s in script.scenes
    ]
    assert [s.narration for s in narrated.scenes] == [s.narration for s in script.scenes]


def test_narration_for_piper_is_plain_text(ctx) -> None:
    script = _script(ctx)
    marked = Speech(
        scenes=[
            SceneSpeech(sentences=[f"<speak>{t}</speak>" for t in s.narration])
            for s in script.scenes
        ]
    )
    vendor = ScriptedVendor({"narrator": [marked, marked]})
    with pytest.raises(InvalidInputError, match="plain text only"):
        vendor.prepare_narration(
            script=script, voice="piper:en_US-joe-medium", language=None, options={}, ctx=ctx
        )


def _verdict(scores: dict[str, float]) -> Verdict:
    return Verdict(
        scores=[
            CriterionScore(criterion=c, score=s, reason=f"{c} reason") for c, s in scores.items()
        ],
        revisions=[],
    )


def test_the_reviewer_never_overrules_a_measurement(ctx) -> None:
    script = _script(ctx)
    glowing = _verdict(
        {c: 1.0 for c in ("goal", "key_messages", "duration", "structure", "audience")}
    )
    failed = GateResult(
        gate="duration", passed=False, measured=71.0, threshold=5.0, unit="s", stage="video",
        message="video lasts 71 s", remedy="too long: shorten by about 11 s",
    )  # fmt: skip
    vendor = ScriptedVendor({"reviewer": [glowing]})
    verdict = vendor.review(
        brief=BRIEF, script=script, shots=None, measurements=[failed], threshold=0.7, options={},
        ctx=ctx,
    )  # fmt: skip
    by = {s.criterion: s.score for s in verdict.scores}
    assert by["duration"] < 0.7 and by["goal"] == 1.0
    assert not verdict.passed and verdict.revisions[0].instruction.startswith("too long")
    assert any(r.blocking for r in verdict.gate_results())


def test_a_review_missing_a_criterion_is_repaired_and_a_bad_threshold_refused(ctx) -> None:
    script = _script(ctx)
    partial = _verdict({"goal": 0.9})
    full = _verdict({c: 0.8 for c in ("goal", "key_messages", "duration", "structure", "audience")})
    vendor = ScriptedVendor({"reviewer": [partial, full]})
    verdict = vendor.review(
        brief=BRIEF, script=script, shots=None, measurements=[], threshold=0.7, options={}, ctx=ctx
    )
    assert "score the criterion 'duration'" in vendor.requests["reviewer"][1].user
    assert verdict.passed and verdict.score == pytest.approx(0.8)
    with pytest.raises(InvalidInputError, match="threshold"):
        vendor.review(
            brief=BRIEF,
            script=script,
            shots=None,
            measurements=[],
            threshold=3,
            options={},
            ctx=ctx,
        )


def test_vendor_plugins_inherit_every_role_and_education_hook() -> None:
    from reelgraph._markers import PROJECT

    impls = {n for n in dir(LLMRoles) if hasattr(getattr(LLMRoles, n), f"{PROJECT}_impl")}
    roles = {
        "plan_video",
        "write_script",
        "design_shots",
        "prepare_narration",
        "review",
        "optimize",
    }
    assert roles <= impls
    assert "outline_lesson" in impls  # from EducationRoles
