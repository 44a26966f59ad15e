"""The ``spoken_text`` gate: its detection table on real text, both stages, and the
review loop of the shipped spec removing a flagged sentence."""

from __future__ import annotations

import email
import site
from datetime import timedelta
from pathlib import Path

import pytest
import srt
import yaml

import reelgraph.plugins.gates.spoken_text as gate
from reelgraph import Kernel
from reelgraph.errors import InvalidInputError
from reelgraph.models import Scene, Script, Video
from reelgraph.run.context import NodeContext

SPEC = Path(__file__).resolve().parents[2] / "specs" / "document-to-video.yaml"


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


# Sentences quoted from the long descriptions (METADATA) of installed packages
# and from /usr/share/doc READMEs; each is short and quoted for testing only
# (pytest, rich, orjson, httpx, pydantic, jsonschema: MIT; attrs: MIT; GNU
# coreutils README: GPL-3.0+, verbatim copies permitted).
PROSE = [
    "Rich works with Linux, macOS and Windows.",  # rich
    "True color / emoji works with new Windows Terminal, classic terminal is limited to 16 colors.",
    "Python 3.10+ or PyPy3.",  # pytest
    "Rich plugin architecture, with over 1300+ external plugins and thriving community.",
    "Can run unittest (or trial) test suites out of the box.",
    "It distributes amd64 wheels for Linux, and arm7 wheels for macOS.",  # orjson (shortened)
    "Determine if the outgoing request should log as HTTP/1.1 or HTTP/2.",  # httpcore
    "Precommit image: pre-commit.ci status.",  # the alt text of a jsonschema badge
    "Be aware that the mere presence of these dependencies \u2013 or even the specification"
    " of format checks in a schema \u2013 do not activate format checks (as per the specification).",
    "A known problem exists when compiling on HPUX on both hppa and ia64 in 64-bit mode"
    " (that is, +DD64) on HP-UX 11.0, 11.11, and 11.23.",  # coreutils
    "The ls, dir, and vdir commands are all separate executables.",  # coreutils
    "See LICENSE and NOTICE.txt for more information.",  # aws-xray-sdk: a file name reads fine
    "Built with C++ and C#, e.g. for Node.js apps on I/O-bound servers.",
    "Chardet used our 477-file corpus when developing its early 7.x model weights.",
]
MARKUP = [
    ("========== jsonschema.", "markup: heading underline"),  # jsonschema README title
    ("PyPI image: PyPI version:target.", "markup: field-list leftover"),
    (".. image:: https://img.shields.io/pypi/v/pytest.svg", "markup: reStructuredText directive"),
    (".. |PyPI| image:: https://img.shields.io/pypi/v/jsonschema.svg", "url: URL"),
    (":target: https://pypi.org/project/jsonschema/", "markup: reStructuredText role or field"),
    ("|PyPI| |Pythons| |CI| |ReadTheDocs| |Precommit| |Zenodo|", "markup: substitution"),
    ("Open Collective_ is an online funding platform.", "markup: reference underscore"),
    ("See more details in the pytest collective_.", "markup: reference underscore"),
    ('<p align="center">', "markup: HTML tag"),
    ("| Library | Version |", "markup: substitution reference or table pipe"),
    ("Read the [docs](https://x.example/docs).", "markup: Markdown link or image"),
    ("Use **bold** text.", "markup: bold or underline markers"),
    ("Call ``validate`` first.", "markup: backticks"),
    ("Please see https://docs.pytest.org/en/stable/.", "url: URL"),
    ("contact our community coordinators at numpy-team@googlegroups.com.", "email: e-mail"),
    ("You will need to fix the system /usr/include/inttypes.h header file.", "path: absolute"),
    ("Simply remove all mention of it from src/Makefile.", "path: relative path"),
    ("Open C:\\Users\\me\\app.ini in an editor.", "path: Windows path"),
    ("Add await to async semaphore release() coroutine.", "code: call"),  # httpcore
    ("Add proxy_auth argument to HTTPProxy.", "code: snake_case name"),  # httpcore
    ("Use getElementById to find it.", "code: camelCase name"),
    ("Decrease import time by delaying importing of urllib.request.", "code: dotted name"),
    ("CLI with opt --normalize fail when using full path for files", "code: command-line flag"),
    ("$ pip install jsonschema", "code: shell prompt"),
    (">>> from jsonschema import validate", "code: shell prompt"),
    ("Support aiohttp >= 2.3.", "code: operator"),  # aws-xray-sdk
    ("Extend the capability of explain=True when isolating.", "code: operator"),
    ('schema = {"type": "object"}', "code: braces"),
    ("Several updates to the documentation by @Viicos.", "markup: @mention"),  # pydantic
    ("pip install responses.", "code: install command"),  # responses
    ("To compile Bash, type./configure', then make'.", "path: home or relative path"),  # bash
]


@pytest.mark.parametrize("sentence", PROSE)
def test_real_prose_passes(sentence: str) -> None:
    assert gate.problems(sentence) == []


@pytest.mark.parametrize(("sentence", "reason"), MARKUP)
def test_real_markup_urls_paths_and_code_are_flagged(sentence: str, reason: str) -> None:
    reasons = gate.problems(sentence)
    assert any(r.startswith(reason) for r in reasons), reasons


def _metadata_bodies() -> list[str]:
    bodies = []
    for meta in Path(site.getsitepackages()[0]).glob("*.dist-info/METADATA"):
        message = email.message_from_string(meta.read_text("utf-8", "replace"))
        if "markdown" in (message.get("Description-Content-Type") or "").lower():
            bodies.append(str(message.get_payload() or ""))
    return bodies


def test_detection_on_installed_readmes() -> None:
    """reStructuredText explicit markup lines and Markdown table rows of every
    installed package's long description are all flagged (measured: 100 %)."""
    from markdown_it import MarkdownIt

    bodies = _metadata_bodies()
    if not bodies:
        pytest.skip("no installed package has a Markdown long description")
    rows = [
        line.strip()
        for body in bodies
        for line in body.split("\n")
        if line.strip().startswith("|") and line.strip().endswith("|")
    ]
    html = [
        line.strip()
        for body in bodies
        for tok in MarkdownIt("commonmark").parse(body)
        if tok.type == "html_block"
        for line in tok.content.split("\n")
        if line.strip().startswith("<") and line.strip().endswith(">")
    ]
    assert rows and html
    assert [r for r in rows if not gate.problems(r)] == []
    assert len([h for h in html if gate.problems(h)]) / len(html) > 0.97


# -- the gate ------------------------------------------------------------------


def _check(ctx: NodeContext, **kwargs) -> list | None:
    args = {"script": None, "video": None, "gates": None, "thresholds": {}}
    args.update(kwargs)
    return gate.check_quality(ctx=ctx, **args)


def _script(*narrations: list[str]) -> Script:
    scenes = [Scene(index=i, title=f"S{i}", narration=n) for i, n in enumerate(narrations)]
    return Script(title="T", scenes=scenes)


def test_script_stage_one_result_per_offending_sentence(ctx) -> None:
    script = _script(
        ["jsonschema is available on PyPI.", "PyPI image: PyPI version:target."],
        ["Please see https://docs.pytest.org/en/stable/.", "Thanks to all contributors."],
    )
    results = _check(ctx, script=script)
    assert [r.passed for r in results] == [False, False]
    assert [r.remedy for r in results] == [
        "drop sentence: PyPI image: PyPI version:target.",
        "drop sentence: Please see https://docs.pytest.org/en/stable/.",
    ]
    first = results[0]
    assert first.stage == "script" and first.severity == "error" and first.measured == 2.0
    assert first.details["scene"] == 0
    assert first.details["reasons"] == ["markup: field-list leftover (version:target.)"]
    assert [o["sentence"] for o in first.details["offending"]] == [
        "PyPI image: PyPI version:target.",
        "Please see https://docs.pytest.org/en/stable/.",
    ]


def test_clean_script_passes_and_threshold_overrides(ctx) -> None:
    [ok] = _check(ctx, script=_script(["Rich works with Linux, macOS and Windows."]))
    assert ok.passed and ok.measured == 0.0 and ok.remedy == ""
    bad = _script(["Use **bold** text."])
    [allowed] = _check(ctx, script=bad, thresholds={"spoken_text": {"max_sentences": 1}})
    assert allowed.passed
    with pytest.raises(InvalidInputError, match="max_sentences"):
        _check(ctx, script=bad, thresholds={"spoken_text": {"max_sentences": -1}})
    assert _check(ctx, script=bad, gates=["duration"]) is None
    assert _check(ctx) is None


def test_video_stage_reads_captions_across_cues(ctx, tmp_path) -> None:
    cues = [
        ("Rich works with Linux,", 0.0, 1.5),
        ("macOS and Windows.", 1.5, 3.0),
        ("The docs are at", 3.0, 4.0),
        ("https://rich.readthedocs.io/en/latest/.", 4.0, 5.5),
    ]
    subtitles = [
        srt.Subtitle(i + 1, timedelta(seconds=a), timedelta(seconds=b), text)
        for i, (text, a, b) in enumerate(cues)
    ]
    path = tmp_path / "video.srt"
    path.write_text(srt.compose(subtitles), "utf-8")
    video = Video(
        path=tmp_path / "video.mp4", srt_path=path, duration_s=6, width_px=16, height_px=16, fps=1
    )
    [result] = _check(ctx, video=video)
    assert not result.passed and result.stage == "video"
    assert result.details["cue"] == 3
    assert result.remedy == "drop sentence: The docs are at https://rich.readthedocs.io/en/latest/."
    missing = video.model_copy(update={"srt_path": tmp_path / "none.srt"})
    with pytest.raises(InvalidInputError, match="none.srt"):
        _check(ctx, video=missing)


# -- the shipped spec's review loop ---------------------------------------------


def test_shipped_spec_review_loop_drops_the_flagged_sentence(tmp_path) -> None:
    """The script and script_quality nodes of specs/document-to-video.yaml, as
    shipped (gates, review loop), with the writer's own screening turned off:
    the gate flags the sentence, its remedy goes back as feedback, and the
    writer's revision leaves the sentence out."""
    spec = yaml.safe_load(SPEC.read_text("utf-8"))
    nodes = {node["id"]: node for node in spec["nodes"]}
    assert "spoken_text" in nodes["script_quality"]["with"]["gates"]
    assert "spoken_text" in nodes["video_quality"]["with"]["gates"]
    assert nodes["script"]["review"]["gate"] == "script_quality"
    nodes["script"]["with"]["options"]["drop_unspeakable"] = False
    spec["nodes"] = [nodes["document"], nodes["script"], nodes["script_quality"]]
    spec["outputs"] = {"script": "$script"}
    doc = tmp_path / "guide.md"
    doc.write_text(
        "# Tiny guide\n\nThe tool sorts files by date. It also prunes old ones.\n\n"
        "## Setup\n\nEdit /etc/tiny/tiny.conf before anything else. Settings live in one place.\n"
        "Backups are kept for a week.\n",
        "utf-8",
    )
    run = Kernel(home=tmp_path / "home").run(spec, inputs={"document": doc})
    assert run.status == "succeeded", run.error
    [revision] = run.revisions
    assert revision["feedback"] == ["drop sentence: Edit /etc/tiny/tiny.conf before anything else."]
    script = run.nodes["script"].output if hasattr(run.nodes["script"], "output") else None
    narrated = [s for scene in _final_script(run, script).scenes for s in scene.narration]
    assert not [s for s in narrated if "tiny.conf" in s]
    assert "Settings live in one place." in narrated


def _final_script(run, script) -> Script:
    if isinstance(script, Script):
        return script
    value = run.outputs["script"]
    return value if isinstance(value, Script) else Script.model_validate(value)
