"""Loading briefs: YAML, JSON, Markdown front matter, a document alone; errors; shipped schemas."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

import reelgraph.plugins.ingest.markdown as ingest_markdown
from reelgraph.errors import InvalidInputError
from reelgraph.models import Brief
from reelgraph.plugins.roles import offline
from reelgraph.plugins.roles._schemas import SCHEMAS, schema_text
from reelgraph.run.context import NodeContext

BRIEFS = Path(__file__).resolve().parents[1] / "fixtures" / "briefs"
DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path / "work")


def load(source: Path | None, ctx: NodeContext, parsed=None, **overrides) -> Brief:
    return offline.load_brief(source=source, document=parsed, overrides=overrides, ctx=ctx)


def test_yaml_brief(ctx) -> None:
    brief = load(BRIEFS / "trunk-based.yaml", ctx)
    assert brief.title == "Trunk-based development"
    assert brief.audience == "engineering managers" and brief.duration_s == 60
    assert brief.key_messages[1] == "Small daily merges keep main releasable"
    assert brief.constraints == ["no stock photos of people"]
    assert brief.document == str(BRIEFS / "trunk-based.yaml")  # its own source material


def test_json_brief(ctx) -> None:
    brief = load(BRIEFS / "onboarding.json", ctx)
    assert brief.audience == "new support agents" and brief.duration_s == 75
    assert len(brief.key_messages) == 3 and brief.tone == "friendly"


def test_markdown_front_matter_brief_and_its_body_as_the_document(ctx) -> None:
    source = BRIEFS / "password-managers.md"
    brief = load(source, ctx)
    assert brief.title == "Why we use a password manager"
    assert brief.audience == "office staff without a technical background"
    assert brief.document == str(source)
    # the body is a document: the markdown provider reads it (front matter left out),
    # and the offline provider leaves a brief with a body to it
    assert offline.ingest_document(source=source, format=None, ctx=ctx) is None
    document = ingest_markdown.ingest_document(source=source, format=None, ctx=ctx)
    assert document.title == brief.title
    assert [s.heading for s in document.sections][1:] == [
        "Reused passwords",
        "How the password manager helps",
    ]


def test_a_brief_without_a_body_is_read_as_its_own_document(ctx) -> None:
    document = offline.ingest_document(source=BRIEFS / "trunk-based.yaml", format=None, ctx=ctx)
    assert document.title == "Trunk-based development"
    assert document.sections[0].blocks[0].text.startswith("Convince the team")
    assert [s.heading for s in document.sections[1:]][0].startswith("Long-lived branches")
    # anything that is not a brief is left to the other ingest providers
    assert offline.ingest_document(source=DOCS / "guide.md", format=None, ctx=ctx) is None
    assert offline.ingest_document(source=DOCS / "notes.txt", format=None, ctx=ctx) is None


def test_a_named_document_is_resolved_beside_the_brief(tmp_path: Path, ctx) -> None:
    (tmp_path / "talk.md").write_text("# Talk\n\nHello there.\n", encoding="utf-8")
    source = tmp_path / "brief.yaml"
    source.write_text("title: T\ngoal: Say hello.\ndocument: talk.md\n", encoding="utf-8")
    assert load(source, ctx).document == str((tmp_path / "talk.md").resolve())
    assert load(source, ctx, duration_s=90).duration_s == 90  # overrides win
    assert load(source, ctx, duration_s=None).duration_s == 60  # None is no override


def test_a_brief_derived_from_a_document_alone(ctx) -> None:
    document = ingest_markdown.ingest_document(source=DOCS / "guide.md", format=None, ctx=ctx)
    brief = load(None, ctx, parsed=document)
    assert brief.title == document.title
    first = next(b.text for s in document.sections for b in s.blocks if b.kind == "paragraph")
    assert first.startswith(brief.goal.rstrip("."))
    headings = [
        s.heading for s in document.sections if s.level >= 1 and s.heading != document.title
    ]
    assert brief.key_messages == headings[:5]
    assert brief.document == document.source
    # before the document is parsed, its path alone gives a title from the file name
    early = load(None, ctx, document=str(DOCS / "guide.md"))
    assert early.title == "Guide" and early.document == str(DOCS / "guide.md")


def test_neither_brief_nor_document_says_what_to_pass(ctx) -> None:
    with pytest.raises(InvalidInputError, match=r"-i brief=FILE.*-i document=FILE"):
        load(None, ctx)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "title: [unclosed\n", r"bad\.yaml: not valid YAML at line \d+"),
        ("bad.json", '{"title": "x",}', r"bad\.json: not valid JSON at line 1"),
        ("fm.md", "---\ntitle: [x\n---\nBody.\n", r"fm\.md: the front matter is not valid YAML"),
        ("list.yaml", "- a\n- b\n", r"list\.yaml: a brief must be a mapping"),
        (
            "plain.md",
            "# Just a document\n\nText.\n",
            r"plain\.md: a Markdown brief needs YAML front matter",
        ),
        ("short.yaml", "title: T\ngoal: G\nduration_s: -5\n", r"short\.yaml: field duration_s: "),
        ("nogoal.yaml", "title: T\n", r"nogoal\.yaml: field goal: Field required"),
        (
            "typo.yaml",
            "title: T\ngoal: G\naudiance: x\n",
            r"typo\.yaml: unknown field\(s\) \['audiance'\]",
        ),
        (
            "aspect.json",
            '{"title": "T", "goal": "G", "aspect": "4:3"}',
            r"aspect\.json: field aspect",
        ),
    ],
)
def test_a_bad_brief_is_one_line_naming_the_file_and_field(
    tmp_path: Path, ctx, name: str, text: str, expected: str
) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=expected) as err:
        load(source, ctx)
    assert "\n" not in str(err.value)


def test_a_missing_brief_file_is_named(tmp_path: Path, ctx) -> None:
    with pytest.raises(InvalidInputError, match="missing.yaml"):
        load(tmp_path / "missing.yaml", ctx)


# -- the shipped schemas ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_shipped_schema_is_current(name: str) -> None:
    shipped = (resources.files("reelgraph.specs") / name).read_text(encoding="utf-8")
    # regenerate with: python -m reelgraph.plugins.roles._schemas specs
    assert shipped == schema_text(name)
    jsonschema.Draft202012Validator.check_schema(json.loads(shipped))


def test_fixture_briefs_validate_against_the_brief_schema() -> None:
    schema = json.loads((resources.files("reelgraph.specs") / "brief.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for path in BRIEFS.iterdir():
        if path.suffix == ".md":
            import frontmatter

            data = dict(frontmatter.loads(path.read_text(encoding="utf-8")).metadata)
        else:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert not list(validator.iter_errors(data)), path.name
    wrong = {"title": "T", "goal": "G", "duration_s": "long"}
    assert list(validator.iter_errors(wrong))


def test_script_schema_names_the_eight_parts_in_order() -> None:
    schema = json.loads((resources.files("reelgraph.specs") / "script.schema.json").read_text())
    part = schema["$defs"]["Scene"]["properties"]["part"]["anyOf"][0]
    assert part["enum"] == [
        "hook", "context", "problem", "stakes", "approach", "proof", "call_to_action", "close",
    ]  # fmt: skip
