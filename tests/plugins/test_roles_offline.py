"""The offline roles on hand-checked briefs: director, scriptwriter, designer, narrator, reviewer, optimizer."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

import reelgraph.plugins.ingest.markdown as ingest_markdown
from reelgraph.errors import InvalidInputError, NeedsInput
from reelgraph.models import BEAT_PARTS, Brief, GateResult, Script
from reelgraph.plugins.gates.key_messages import is_covered, tokens
from reelgraph.plugins.gates.spoken_text import problems as unspeakable
from reelgraph.plugins.roles import offline
from reelgraph.plugins.roles._writer import estimate_s
from reelgraph.run.context import NodeContext

BRIEFS = Path(__file__).resolve().parents[1] / "fixtures" / "briefs"


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path / "work")


def brief(name: str, ctx: NodeContext, **overrides) -> Brief:
    return offline.load_brief(source=BRIEFS / name, document=None, overrides=overrides, ctx=ctx)


def plan(b: Brief, ctx: NodeContext, answers=None, clarify=True):
    return offline.plan_video(
        brief=b, document=None, answers=answers or {}, clarify=clarify, options={}, ctx=ctx
    )


def write(b: Brief, ctx: NodeContext, document=None, feedback=(), **options) -> Script:
    return offline.write_script(
        document=document, brief=b, plan=None, duration_s=None, key_messages=[],
        feedback=list(feedback), options=options, ctx=ctx,
    )  # fmt: skip


def said(script: Script) -> list[list[str]]:
    return [tokens(" ".join(scene.narration)) for scene in script.scenes]


# -- the director -------------------------------------------------------------------------------


def test_a_60_s_presentation_drops_the_parts_it_has_no_room_for(ctx) -> None:
    # shares 8/12/14/10/20/14/11/11 %: stakes (6 s) and proof would get under 6 s with
    # the hook at 8 % of 60 s = 4.8 s, so both go and the rest are scaled to 60 s
    p = plan(brief("trunk-based.yaml", ctx), ctx)
    assert [(x.part, x.duration_s) for x in p.parts] == [
        ("hook", 6.3), ("context", 9.5), ("problem", 11.1), ("approach", 15.8),
        ("call_to_action", 8.7), ("close", 8.6),
    ]  # fmt: skip
    assert sum(x.duration_s for x in p.parts) == pytest.approx(60.0)
    by_part = {x.part: x.key_messages for x in p.parts}
    assert by_part["problem"] == [
        "Long-lived branches hide integration problems until it is too late",
        "Small daily merges keep main releasable",
    ]
    assert by_part["approach"] == ["Feature flags let unfinished work ship safely"]
    assert not p.questions and not p.assumptions
    assert "engineering managers" in p.audience_analysis


def test_a_120_s_presentation_uses_all_eight_parts_in_order(ctx) -> None:
    p = plan(brief("trunk-based.yaml", ctx, duration_s=120), ctx)
    assert [x.part for x in p.parts] == list(BEAT_PARTS)
    assert [x.duration_s for x in p.parts] == [9.6, 14.4, 16.8, 12.0, 24.0, 16.8, 13.2, 13.2]


def test_a_thin_brief_asks_or_assumes_and_answers_fill_it(ctx) -> None:
    thin = brief("thin.yaml", ctx)
    with pytest.raises(NeedsInput) as stopped:
        plan(thin, ctx)
    assert [q["key"] for q in stopped.value.questions] == ["audience", "key_messages"]
    assumed = plan(thin, ctx, clarify=False)
    assert [a.split(":")[0] for a in assumed.assumptions] == ["audience", "key_messages"]
    assert assumed.key_messages == ["Explain the new expense policy."]
    answered = plan(
        thin,
        ctx,
        answers={
            "audience": "finance staff",
            "key_messages": "Submit receipts within 30 days; Book travel with the company card",
        },
    )
    assert answered.key_messages == [
        "Submit receipts within 30 days",
        "Book travel with the company card",
    ]
    assert "finance staff" in answered.audience_analysis and not answered.assumptions


def test_a_lesson_without_objectives_asks_for_them(ctx) -> None:
    lesson = brief("photosynthesis.yaml", ctx).model_copy(update={"learning_objectives": []})
    with pytest.raises(NeedsInput) as stopped:
        plan(lesson, ctx)
    assert [q["key"] for q in stopped.value.questions] == ["learning_objectives"]
    full = plan(brief("photosynthesis.yaml", ctx), ctx)
    assert {"context", "proof", "close"} <= {x.part for x in full.parts}  # never dropped


# -- the scriptwriter ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["trunk-based.yaml", "onboarding.json", "photosynthesis.yaml"])
def test_beats_are_timed_ordered_speakable_and_say_every_message(name: str, ctx) -> None:
    b = brief(name, ctx)
    script = write(b, ctx)
    scenes = script.scenes
    assert [s.beat_id for s in scenes] == [f"b{i:02d}" for i in range(1, len(scenes) + 1)]
    assert scenes[0].kind == "title" and scenes[-1].kind == "closing"
    ranks = [BEAT_PARTS.index(s.part) for s in scenes]
    assert ranks == sorted(ranks)
    assert sum(s.duration_s for s in scenes) == pytest.approx(b.duration_s)
    starts = [round(sum(s.duration_s for s in scenes[:i]), 1) for i in range(len(scenes))]
    assert [s.start_s for s in scenes] == pytest.approx(starts, abs=0.11)
    assert abs(estimate_s(script) - b.duration_s) <= 3.0  # sized to the target
    for message in b.key_messages:
        assert is_covered(message, said(script)), message
    for sentence in (x for s in scenes for x in s.narration):
        assert not unspeakable(sentence), sentence
    assert all(s.visual_intent for s in scenes) and script.duration_s == b.duration_s


def test_a_lesson_states_objectives_checks_understanding_and_recaps(ctx) -> None:
    script = write(brief("photosynthesis.yaml", ctx), ctx)
    by_part = {}
    for scene in script.scenes:
        by_part.setdefault(scene.part, []).extend(scene.narration)
    assert "You will be able to explain what chlorophyll does in a leaf." in by_part["context"]
    check = by_part["proof"]
    assert "Can you explain what chlorophyll does in a leaf?" in check
    assert "Pause the video and think about your answer." in check
    assert by_part["close"][0] == "Let us recap."
    assert "Finally, oxygen is released into the air as a by-product." in by_part["close"]


def test_the_source_document_supplies_sentences(ctx) -> None:
    source = BRIEFS / "password-managers.md"
    b = brief("password-managers.md", ctx)
    document = ingest_markdown.ingest_document(source=source, format=None, ctx=ctx)
    script = write(b, ctx, document=document)
    narration = [x for s in script.scenes for x in s.narration]
    body = source.read_text(encoding="utf-8")
    assert any(sentence in body for sentence in narration if len(sentence.split()) > 6)


def test_writer_acts_on_gate_feedback(ctx) -> None:
    b = brief("trunk-based.yaml", ctx)
    script = write(b, ctx, feedback=["missing key message: Code review happens within a day"])
    assert is_covered("Code review happens within a day", said(script))
    shorter = write(b, ctx, feedback=["too long: shorten by about 10 s (estimated 70 s)"])
    assert estimate_s(shorter) <= estimate_s(write(b, ctx)) - 8


def test_writer_options_are_checked(ctx) -> None:
    with pytest.raises(InvalidInputError, match="unknown offline writer option 'colour'"):
        write(brief("trunk-based.yaml", ctx), ctx, colour="red")
    with pytest.raises(InvalidInputError, match="needs a brief or a document"):
        offline.write_script(
            document=None, brief=None, plan=None, duration_s=None, key_messages=[], feedback=[],
            options={}, ctx=ctx,
        )  # fmt: skip


# -- the visual designer --------------------------------------------------------------------------------


def test_shots_map_beat_parts_to_the_library(ctx) -> None:
    b = brief("trunk-based.yaml", ctx)
    script = write(b, ctx)
    shots = offline.design_shots(
        script=script, brief=b, aspect="16:9", feedback=[], options={}, ctx=ctx
    )
    kinds = [(s.beat_id, s.shot_type) for s in shots.shots]
    assert kinds == [
        ("b01", "title_card"), ("b02", "establishing_wide"), ("b03", "medium_close_up"),
        ("b04", "diagram"), ("b05", "over_the_shoulder"), ("b06", "end_card"),
    ]  # fmt: skip
    assert [s.id for s in shots.shots] == ["s01", "s02", "s03", "s04", "s05", "s06"]
    assert [s.duration_s for s in shots.shots] == [s.duration_s for s in script.scenes]
    assert all("stock photos of people" in s.negative_prompt for s in shots.shots)
    assert "16:9 landscape frame" in shots.shots[1].prompt
    assert shots.shots[1].continuity.startswith("matches s01")
    revised = offline.design_shots(
        script=script, brief=b, aspect="9:16", feedback=["b03: use a close-up instead"],
        options={}, ctx=ctx,
    )  # fmt: skip
    assert revised.shots[2].shot_type == "close_up" and "9:16" in revised.shots[2].prompt


def test_designer_refuses_a_bad_aspect_and_a_broken_library(tmp_path: Path, ctx) -> None:
    script = write(brief("trunk-based.yaml", ctx), ctx)
    with pytest.raises(InvalidInputError, match="unknown aspect '4:3'"):
        offline.design_shots(
            script=script, brief=None, aspect="4:3", feedback=[], options={}, ctx=ctx
        )
    library = tmp_path / "shots.yaml"
    library.write_text("shots:\n  wide: {framing: wide}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"shots\.yaml: shot 'wide' lacks"):
        offline.design_shots(
            script=script, brief=None, aspect="16:9", feedback=[], options={"library": str(library)},
            ctx=ctx,
        )  # fmt: skip


# -- the narrator ------------------------------------------------------------------------------------------


def _one_scene(*sentences: str) -> Script:
    from reelgraph.models import Scene

    return Script(title="t", scenes=[Scene(index=0, title="t", narration=list(sentences))])


def test_narration_is_ssml_for_espeak_and_plain_for_piper(ctx) -> None:
    script = _one_scene("Use the CLI: it costs $5 & saves 10 ms.", "Pause the video and think.")
    espeak = offline.prepare_narration(
        script=script, voice="espeak:en-us", language=None, options={}, ctx=ctx
    )
    first, second = espeak.scenes[0].speech
    assert first == (
        '<speak>Use the <say-as interpret-as="characters">CLI</say-as>:<break time="250ms"/> '
        "it costs five dollars &amp; saves 10 milliseconds.</speak>"
    )
    assert second.endswith('<break time="800ms"/></speak>')
    for entry in espeak.scenes[0].speech:
        assert ElementTree.fromstring(entry).tag == "speak"
    assert espeak.scenes[0].narration == script.scenes[0].narration  # captions stay plain
    piper = offline.prepare_narration(
        script=script, voice="piper:en_US-joe-medium", language=None, options={}, ctx=ctx
    )
    assert (
        piper.scenes[0].speech[0] == "Use the C L I: it costs five dollars & saves 10 milliseconds."
    )
    unknown = offline.prepare_narration(
        script=script, voice=None, language=None, options={}, ctx=ctx
    )
    assert "<" not in unknown.scenes[0].speech[0]  # no engine known: no markup
    with pytest.raises(InvalidInputError, match="engine must be one of"):
        offline.prepare_narration(
            script=script, voice=None, language=None, options={"engine": "sam"}, ctx=ctx
        )


# -- the reviewer and the optimizer -----------------------------------------------------------------------------


def _review(b: Brief, script: Script, ctx, measurements=(), threshold=0.7):
    return offline.review(
        brief=b, script=script, shots=None, measurements=list(measurements), threshold=threshold,
        options={}, ctx=ctx,
    )  # fmt: skip


def test_a_good_script_passes_review(ctx) -> None:
    b = brief("trunk-based.yaml", ctx)
    verdict = _review(b, write(b, ctx), ctx)
    assert verdict.passed and not verdict.revisions
    assert {s.criterion for s in verdict.scores} == {
        "goal",
        "key_messages",
        "duration",
        "structure",
        "audience",
    }
    assert all(s.score >= 0.9 for s in verdict.scores)


def test_the_reviewer_follows_the_measurements(ctx) -> None:
    b = brief("trunk-based.yaml", ctx)
    script = write(b, ctx)
    missing = GateResult(
        gate="key_messages", passed=False, measured=0.67, threshold=1.0, unit="fraction",
        stage="video", message="not said", remedy="missing key message: X",
        details={"message": "Feature flags let unfinished work ship safely"},
    )  # fmt: skip
    verdict = _review(b, script, ctx, [missing])
    scores = {s.criterion: s.score for s in verdict.scores}
    assert scores["key_messages"] < 0.7 and not verdict.passed  # the gate wins over its own count
    assert any("missing key message: Feature flags" in r.instruction for r in verdict.revisions)
    on_time = GateResult(
        gate="duration", passed=True, measured=62.0, threshold=5.0, unit="s", stage="video",
        message="ok",
    )  # fmt: skip
    long_script = write(b, ctx, feedback=["too short: lengthen by about 30 s"])
    assert estimate_s(long_script) > 70  # the estimate says too long...
    verdict = _review(b, long_script, ctx, [on_time])
    assert {s.criterion: s.score for s in verdict.scores}["duration"] >= 0.7  # ...the video did not


def test_review_asks_for_revisions_the_optimizer_applies(ctx) -> None:
    b = brief("trunk-based.yaml", ctx)
    draft = write(b, ctx)
    # a draft that lost a key message and has its beats out of order
    scenes = [
        s.model_copy(update={"narration": s.narration[:1]}) if s.part == "approach" else s
        for s in draft.scenes
    ]
    scenes[2], scenes[3] = scenes[3], scenes[2]
    broken = draft.model_copy(update={"scenes": scenes})
    verdict = _review(b, broken, ctx, threshold=0.95)
    asks = [r.instruction for r in verdict.revisions]
    assert "missing key message: Feature flags let unfinished work ship safely" in asks
    assert "reorder the beats to the 8-part structure" in asks
    fixed = offline.optimize(
        script=broken, brief=b, feedback=[g.remedy for g in verdict.gate_results() if g.remedy],
        options={}, ctx=ctx,
    )  # fmt: skip
    assert [s.part for s in fixed.scenes] == [s.part for s in draft.scenes]
    assert [s.beat_id for s in fixed.scenes] == [f"b{i:02d}" for i in range(1, 7)]
    assert _review(b, fixed, ctx, threshold=0.95).passed
    with pytest.raises(InvalidInputError, match="threshold"):
        _review(b, draft, ctx, threshold=1.5)


def test_optimizer_shortens_lengthens_and_keeps_key_messages(ctx) -> None:
    b = brief("trunk-based.yaml", ctx, duration_s=90)
    draft = write(b, ctx)
    shorter = offline.optimize(
        script=draft, brief=b, feedback=["too long: shorten by about 12 s"], options={}, ctx=ctx
    )
    assert estimate_s(draft) - estimate_s(shorter) >= 10
    for message in b.key_messages:
        assert is_covered(message, said(shorter))
    longer = offline.optimize(
        script=draft,
        brief=b,
        feedback=["b02: too short: lengthen by about 6 s"],
        options={},
        ctx=ctx,
    )
    assert estimate_s(longer) - estimate_s(draft) >= 4
    assert offline.optimize(script=draft, brief=b, feedback=[], options={}, ctx=ctx) == draft
