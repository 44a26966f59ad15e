"""The Python builder (issue 16): the same Spec as YAML, to_yaml round trips, located errors."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from reelgraph import SpecError, Workflow, load_spec
from reelgraph.spec.model import shipped_specs
from reelgraph.spec.refs import compile_value, evaluate
from reelgraph.workflow import item

HERE = Path(__file__).resolve()


def document_to_video() -> Workflow:
    """specs/document-to-video.yaml, written with the builder (its comments left out)."""
    wf = Workflow(
        "document-to-video",
        version=1,
        description="A document becomes a narrated, captioned video (no keys, no network).",
    )
    wf.input(
        "document",
        type="file",
        description="the document to turn into a video, a file (Markdown, text in any encoding, "
        "HTML, reStructuredText, PDF, DOCX) or an https:// URL",
    )
    wf.input(
        "format",
        default=None,
        description="the document's format (markdown, text, html, rst, pdf or docx) when its "
        "suffix and content do not tell; default, detected",
    )
    wf.input(
        "aspect",
        default="16:9",
        enum=["16:9", "9:16", "1:1"],
        description="frame shape (1920x1080, 1080x1920 or 1080x1080 pixels)",
    )
    wf.input(
        "voice",
        default=None,
        description="a voice name (espeak-ng, e.g. en-gb) or a piper .onnx voice path; default, "
        "a voice for the script's language (piper when installed and it has one, else espeak-ng)",
    )
    wf.input(
        "rate_wpm",
        type="integer",
        default=140,
        description="speaking rate in words per minute (140 keeps verbatim captions under 17 "
        "characters per second)",
    )
    wf.input(
        "pause_s",
        type="number",
        default=0.75,
        description="silence after each scene's narration, in seconds",
    )
    wf.input(
        "duration_s",
        type="number",
        default=None,
        description="target video length in seconds (the duration gate allows +-5 s); default, "
        "the whole document when its narration fits in 5 minutes, else a summary of about 5 "
        "minutes from every top-level section in proportion to its length (run.json's length "
        "output says which and why, and which sections a short target left out); a target "
        "more than 5 s shorter than the shortest script (title and first sentence) stops the "
        "run before any audio (exit 2), naming that length",
    )
    wf.input(
        "full",
        type="boolean",
        default=False,
        description="narrate the whole document however long (no 5-minute summary)",
    )
    wf.input(
        "key_messages",
        type="list",
        default=[],
        description="points the narration must cover (default, the document's headings)",
    )
    wf.input(
        "language",
        default=None,
        description="the document's language as a BCP 47 tag (en, fr, de, zh, ja); default, the "
        "language the source declares, else the one detected from its prose",
    )
    wf.input(
        "music",
        type="file",
        default=None,
        description="an audio file looped under the video, faded in and out, ducked under the "
        "voice (the final mix still meets the loudness target)",
    )
    wf.input(
        "visuals",
        default="slides",
        enum=["slides", "pexels", "pixabay"],
        description="what each scene shows: slides (offline), or stock footage from Pexels or "
        "Pixabay under the scene's dimmed title (needs PEXELS_API_KEY or PIXABAY_API_KEY and pip "
        "install 'reelgraph[stock]'; a scene with no result gets its slide; every clip's author "
        "goes to credits.txt)",
    )
    wf.input(
        "captions",
        default="soft",
        enum=["soft", "burned", "both"],
        description="soft: a caption track the player can turn off; burned: the captions drawn "
        "into the picture (TikTok, Shorts and Reels ignore caption tracks); both",
    )
    wf.input(
        "caption_style",
        default="clean",
        description="burned captions' look: clean, bold-social, lower-third, or a style of your "
        "own in <reelgraph home>/caption_styles.yaml",
    )
    i = wf.inputs
    document = wf.node("document", "ingest_document", source=i.document, format=i.format)
    script = wf.node(
        "script",
        "write_script",
        provider="extractive",
        document=document,
        duration_s=i.duration_s,
        key_messages=i.key_messages,
        options={"words_per_minute": 130, "language": i.language, "full": i.full},
    ).review("script_quality", max_revisions=2)
    wf.node(
        "script_quality",
        "check_quality",
        document=document,
        script=script,
        gates=["duration", "key_messages", "spoken_text"],
        thresholds={"duration": {"words_per_minute": 130}},
        targets={"duration_s": i.duration_s, "key_messages": i.key_messages},
    )
    slides = wf.node(
        "slides",
        "render_shot",
        provider=i.visuals,
        scene=item,
        aspect=i.aspect,
        options={"language": script.language},
    ).map(script.scenes)
    wf.node("shots_quality", "check_quality", visuals=slides, gates=["accessibility"])
    credits = wf.node(
        "credits", "check_quality", script=script, visuals=slides, gates=["credits"]
    ).when("inputs.visuals != 'slides'")
    voice = wf.node(
        "voice", "synthesize_speech", sentences=[], voice=i.voice, language=script.language
    )
    narration = (
        wf.node(
            "narration",
            "synthesize_speech",
            sentences=item.narration,
            voice=i.voice,
            rate_wpm=i.rate_wpm,
            language=script.language,
        )
        .map(script.scenes)
        .needs(voice)
    )
    video = wf.node(
        "video",
        "assemble_video",
        provider="ffmpeg",
        script=script,
        visuals=slides,
        narrations=narration,
        pause_s=i.pause_s,
        options={
            "music": i.music,
            "captions": i.captions,
            "caption_style": i.caption_style,
            "target_s": i.duration_s,
        },
    )
    wf.node(
        "video_quality",
        "check_quality",
        document=document,
        script=script,
        visuals=slides,
        narrations=narration,
        video=video,
        targets={
            "duration_s": i.duration_s,
            "key_messages": i.key_messages,
            "aspect": i.aspect,
        },
        gates=["duration", "key_messages", "spoken_text", "captions", "loudness", "conformance"],
    )
    wf.node(
        "frames_quality", "check_quality", video=video, gates=["black_silence", "accessibility"]
    )
    wf.output("video", video.path)
    wf.output("captions_srt", video.srt_path)
    wf.output("captions_vtt", video["vtt_path"])
    wf.output("chapters_vtt", video.chapters_vtt_path)
    wf.output("chapters_txt", video.chapters_txt_path)
    wf.output("burned_captions", video.burned_captions_path)
    wf.output("thumbnail", video.thumbnail_path)
    wf.output("target_s", script.duration_s)
    wf.output("length", script.length)
    wf.output("credits", credits[0].details.credits_txt)
    return wf


def feedback() -> Workflow:
    """specs/feedback.yaml: providers chosen by an input (``provider=wf.inputs.llm``)."""
    wf = Workflow(
        "feedback",
        version=1,
        description="Scores a student's work against an assessment's key and rubric and "
        "writes feedback (offline by default).",
    )
    wf.input(
        "work",
        type="file",
        description='the student\'s answers, a text or Markdown file, one per item starting "1.", '
        '"q01:" or "Question 1:"',
    )
    wf.input(
        "assessment",
        type="file",
        default=None,
        description="the assessment.json written by `reelgraph run assessment` (answer key and "
        "rubric); the offline analyst needs it, a language model can do without",
    )
    wf.input(
        "student",
        default="the student",
        description="the student's name, as the feedback addresses them",
    )
    wf.input(
        "audience",
        default="student",
        enum=["student", "parent", "teacher"],
        description="who the feedback is for",
    )
    wf.input(
        "llm",
        default="offline",
        description="who writes - offline (rules, no key), openai or anthropic (their API key in "
        "the environment)",
    )
    wf.input(
        "model",
        default=None,
        description="the vendor's model name (e.g. gpt-4o-mini, claude-haiku-4-5); default, the "
        "vendor's default",
    )
    i = wf.inputs
    options = {"model": i.model}
    analysis = wf.node(
        "analysis",
        "analyse_performance",
        provider=i.llm,
        work=i.work,
        assessment=i.assessment,
        student=i.student,
        options=options,
    )
    composed = wf.node(
        "feedback",
        "compose_feedback",
        provider=i.llm,
        analysis=analysis,
        audience=i.audience,
        options=options,
    )
    analysis_files = wf.node(
        "analysis_files", "render_document", provider="report", document=analysis, name="analysis"
    )
    feedback_files = wf.node(
        "feedback_files", "render_document", provider="report", document=composed, name="feedback"
    )
    wf.output("feedback_md", feedback_files.markdown_path)
    wf.output("feedback_json", feedback_files.json_path)
    wf.output("analysis_md", analysis_files.markdown_path)
    wf.output("analysis_json", analysis_files.json_path)
    return wf


# -- the same Spec ------------------------------------------------------------------


@pytest.mark.parametrize("build", [document_to_video, feedback])
def test_builder_makes_the_spec_the_yaml_does(build) -> None:
    built = build().build()
    shipped = load_spec(built.name)
    # a failure here means specs/NAME.yaml changed: bring the builder above up to date
    assert built.model_dump(by_alias=True) == shipped.model_dump(by_alias=True)
    assert built == shipped
    assert built.path is None and shipped.path is not None  # where it came from is not compared
    # each input required or not alike (it depends on what was set, not on the value)
    assert {n: d.required for n, d in built.inputs.items()} == {
        n: d.required for n, d in shipped.inputs.items()
    }


def test_a_changed_builder_is_not_the_yaml() -> None:
    wf = document_to_video()
    wf.budget(max_cost_usd=1.0)
    assert wf.build(validate=False) != load_spec("document-to-video")


@pytest.mark.parametrize("name", list(shipped_specs()))
def test_to_yaml_round_trips_every_shipped_spec(name: str, tmp_path: Path) -> None:
    spec = load_spec(name)
    text = spec.to_yaml()
    target = tmp_path / f"{name}.yaml"
    target.write_text(text, encoding="utf-8")
    again = load_spec(target)
    assert again == spec
    assert again.model_dump(by_alias=True) == spec.model_dump(by_alias=True)
    assert again.to_yaml() == text  # stable
    # what was left at its default is left out, as in the hand-written file
    written = yaml.safe_load(spec.path.read_text(encoding="utf-8"))
    assert yaml.safe_load(text).keys() == written.keys()


def test_an_input_without_default_is_not_one_defaulting_to_none() -> None:
    required, optional = Workflow("x"), Workflow("x")
    required.input("a")
    optional.input("a", default=None)
    for wf in (required, optional):
        wf.node("n", "ingest_document", source=wf.inputs.a)
    assert required.build(validate=False) != optional.build(validate=False)


def test_builder_specs_round_trip_through_yaml(tmp_path: Path) -> None:
    spec = document_to_video().build(validate=False)
    target = tmp_path / "d2v.yaml"
    target.write_text(spec.to_yaml(), encoding="utf-8")
    assert load_spec(target) == spec


# -- references and literals --------------------------------------------------------


def test_references_are_objects_and_text_is_literal() -> None:
    wf = Workflow("refs")
    doc = wf.input("n", type="integer")
    assert str(doc) == "$inputs.n" and str(wf.inputs["n"]) == "$inputs.n"
    node = wf.node("a", "ingest_document", source="$HOME/price is $5", format=None)
    assert str(node) == "$a"
    assert str(node.sections[0].title) == "$a.sections.0.title"
    assert str(node["sections"]) == "$a.sections"
    assert str(item.narration) == "$item.narration" and wf.item is item
    with pytest.raises(KeyError, match="not a field name"):
        node["a.b"]
    with pytest.raises(AttributeError):
        node.__deepcopy__  # noqa: B018 - dunder probes are not fields
    spec = wf.build(validate=False)
    written = spec.nodes[0].with_["source"]
    assert written == "$$HOME/price is $5"  # escaped: a Python string is never a reference
    assert evaluate(compile_value(written), {}) == "$HOME/price is $5"


def test_values_a_spec_cannot_hold_fail_at_the_call() -> None:
    wf = Workflow("bad")
    with pytest.raises(TypeError, match="node 'a': argument 'source'.*not set"):
        wf.node("a", "ingest_document", source={1, 2})
    with pytest.raises(TypeError, match="map\\(\\) takes a reference"):
        wf.node("b", "render_shot", scene=item).map("$script.scenes")  # type: ignore[arg-type]


# -- located errors -----------------------------------------------------------------


def test_errors_are_located_at_the_line_that_added_the_node() -> None:
    wf = Workflow("located")
    wf.input("document", type="file")
    line_doc = inspect.currentframe().f_lineno + 1
    document = wf.node("document", "ingest_document", source=wf.inputs.documnt)
    line_script = inspect.currentframe().f_lineno + 1
    script = wf.node("script", "write_scrpt", document=document)
    line_slides = inspect.currentframe().f_lineno + 2
    wf.node("slides", "render_shot", provider="slides", scene=item.titel).map(script.scenes)
    line_out = inspect.currentframe().f_lineno + 1
    wf.output("video", document.pth)
    with pytest.raises(SpecError) as caught:
        wf.build()
    by_node = {(p.node, p.field): p for p in caught.value.problems}
    assert by_node["document", "with.source"].file == f"{HERE}:{line_doc}"
    assert "did you mean '$inputs.document'?" in str(by_node["document", "with.source"])
    hook = by_node["script", "hook"]
    assert hook.file == f"{HERE}:{line_script}"
    assert hook.message == "unknown hook 'write_scrpt'" and "'write_script'" in hook.hint
    assert by_node[None, "outputs.video"].file == f"{HERE}:{line_out}"
    assert "has no field 'pth'" in str(caught.value)
    assert f"{HERE}:{line_slides}" not in str(caught.value)  # slides itself is fine


def test_item_fields_are_checked_against_the_mapped_list() -> None:
    wf = Workflow("items")
    wf.input("document", type="file")
    document = wf.node("document", "ingest_document", source=wf.inputs.document)
    script = wf.node("script", "write_script", provider="extractive", document=document)
    line = inspect.currentframe().f_lineno + 1
    wf.node("slides", "render_shot", provider="slides", scene=item.titel).map(script.scenes)
    with pytest.raises(SpecError) as caught:
        wf.build()
    (problem,) = caught.value.problems
    assert problem.file == f"{HERE}:{line}" and problem.node == "slides"
    assert "did you mean '$item.title'?" in str(problem)


def test_the_same_message_as_yaml_for_the_same_mistake(tmp_path: Path) -> None:
    wf = Workflow("same")
    wf.input("document", type="file")
    wf.node("document", "ingest_document", source=wf.inputs.document, fromat="markdown")
    with pytest.raises(SpecError) as built:
        wf.build()
    target = tmp_path / "same.yaml"
    target.write_text(wf.build(validate=False).to_yaml(), encoding="utf-8")
    from reelgraph import Kernel

    with pytest.raises(SpecError) as loaded:
        Kernel(home=tmp_path / "home").plan(target)
    strip = lambda problems: [(p.message, p.node, p.field, p.hint) for p in problems]  # noqa: E731
    assert strip(built.value.problems) == strip(loaded.value.problems)
    assert loaded.value.problems[0].file == str(target)
    assert built.value.problems[0].file.startswith(f"{HERE}:")


def test_schema_problems_are_located_too() -> None:
    wf = Workflow("schema")
    line = inspect.currentframe().f_lineno + 1
    wf.node("bad id", "ingest_document", source="x").retry(max_attempts=0)
    with pytest.raises(SpecError) as caught:
        wf.build(validate=False)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"id", "retry.max_attempts"}
    assert {p.file for p in caught.value.problems} == {f"{HERE}:{line}"}
