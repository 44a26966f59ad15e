"""Issue 18's long-document case: a saved encyclopedia page at the default length (slow).

The corpus's Wikipedia article "New Zealand" (tests/corpus/html/
wikipedia-new-zealand.en.html: about 8,300 words of prose, an hour of narration
in full) is rendered the way a user runs it, ``reelgraph run document-to-video
-i document=PAGE -o OUT`` with no length given. The video must come out at
about 5 minutes (the default target, ``_summary.DEFAULT_TARGET_S``), take
sentences from every top-level section of the article, write at least three
chapters in YouTube's form (the first at 0:00), and pass every gate.

Run: ``python -m pytest -m slow tests/pipeline/test_encyclopedia.py`` (about
4 minutes of wall time on the 2-core machine at a load of 10-15).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from reelgraph.plugins.ingest.html import parse_html
from reelgraph.plugins.writers._summary import DEFAULT_TARGET_S, top_sections
from tests.corpus.corpus import HERE, CaseResult, documents, run_case

pytestmark = pytest.mark.slow

ARTICLE = "html/wikipedia-new-zealand.en.html"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[dict, CaseResult, Path]:
    entry = next(e for e in documents() if e["file"] == ARTICLE)
    work = tmp_path_factory.mktemp("encyclopedia")
    return entry, run_case(entry, work), work


def test_the_article_renders_at_about_five_minutes_and_passes_every_gate(rendered) -> None:
    entry, result, _ = rendered
    assert result.exit == 0, result.stderr_tail
    assert result.video_s is not None
    assert 0.8 * DEFAULT_TARGET_S <= result.video_s <= 1.1 * DEFAULT_TARGET_S, result.video_s
    assert not result.failing, result.failing
    missing = set(entry["required_gates"]) - result.gate_names()
    assert not missing, f"gates that did not run: {sorted(missing)}"


def test_the_summary_is_chosen_and_recorded(rendered) -> None:
    _, result, work = rendered
    record = json.loads((work / "out" / "run.json").read_text(encoding="utf-8"))
    reason = json.dumps(record)
    found = re.search(r"the full narration would take about (\d+) s", reason)
    assert found, "run.json does not record why the length was chosen"
    assert int(found.group(1)) > 30 * 60  # the whole article: well over half an hour


def test_every_top_level_section_is_narrated(rendered) -> None:
    _, _, work = rendered
    page = HERE / ARTICLE
    document = parse_html(page.read_text(encoding="utf-8"), page)
    groups = top_sections(document)
    top_of = {
        s.heading: document.sections[g].heading
        for s, g in zip(document.sections, groups, strict=True)
    }
    tops = {document.sections[g].heading for g in groups}
    with contextlib.closing(sqlite3.connect(work / "home" / "reelgraph.db")) as db:
        (output,) = db.execute("SELECT output FROM nodes WHERE node_id = 'script'").fetchone()
    scenes = json.loads(output)["data"]["scenes"]
    narrated = {top_of[s["section"]] for s in scenes if s.get("section") and s["narration"]}
    narrated.add(document.title)  # the title scene reads the lead
    assert tops == narrated, f"not narrated: {sorted(tops - narrated)}"
    assert len(tops) == 8  # the lead and Etymology ... Culture


def test_chapters_in_youtubes_form(rendered) -> None:
    _, _, work = rendered
    lines = (work / "out" / "chapters.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 3
    assert lines[0].startswith("0:00 ")
    starts = [
        int(m) * 60 + int(s)
        for m, s in (re.match(r"(\d+):(\d\d) ", line).groups() for line in lines)
    ]
    assert all(b - a >= 10 for a, b in zip(starts, starts[1:], strict=False))
    # chapter titles are the article's headings, not page furniture
    assert not any(
        word in " ".join(lines) for word in ("References", "Citations", "[edit]", "See also")
    )
