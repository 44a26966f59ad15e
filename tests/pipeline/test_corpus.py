"""The document-to-video job on every real document of tests/corpus (slow: about 30-45 min).

Each case runs the CLI exactly as a user would,
``python -m reelgraph.cli run document-to-video -i document=FILE -o OUT``,
on one document of ``tests/corpus/MANIFEST.yaml`` (real READMEs, PyPI long
descriptions, HTML manual chapters, PDFs, DOCX and non-UTF-8 text in eight
languages, none written by the project), with a fresh ``REELGRAPH_HOME`` so
nothing comes from the memo cache. It must exit 0 (or, where the manifest
gives ``expect``, exit with that status and message: a language no installed
speech engine speaks), and its ``quality.json`` must hold every gate the
manifest's ``required_gates`` names, each one passed.

    python -m pytest -m slow tests/pipeline/test_corpus.py
    python -m pytest -m slow tests/pipeline/test_corpus.py -k "ja or zh"

With ``REELGRAPH_CORPUS_JSON=FILE`` set, each case's result is also added to
FILE, which ``python bench/corpus_table.py --from-json FILE`` prints as the
corpus table (one run of the renders serves both).
"""

from __future__ import annotations

import os
from pathlib import Path

import langcodes
import pytest

from tests.corpus.corpus import CaseResult, documents, record, run_case

pytestmark = pytest.mark.slow

CASES = documents()


@pytest.fixture(scope="module", params=CASES, ids=[entry["file"] for entry in CASES])
def case(request, tmp_path_factory) -> tuple[dict, CaseResult]:
    """One cold CLI render of one corpus document, shared by the checks below."""
    entry = request.param
    work = tmp_path_factory.mktemp(entry["file"].replace("/", "_"))
    result = run_case(entry, work)
    if os.environ.get("REELGRAPH_CORPUS_JSON"):
        record(result, Path(os.environ["REELGRAPH_CORPUS_JSON"]))
    return entry, result


def test_exit_status(case) -> None:
    entry, result = case
    expect = entry.get("expect") or {"exit": 0}
    assert result.exit == expect["exit"], (
        f"{entry['file']}: exit {result.exit}, expected {expect['exit']}\n{result.stderr_tail}"
    )
    if expect["exit"] == 0:
        assert result.status == "succeeded", result.stderr_tail
    else:
        assert expect["message"] in result.stderr_tail


def test_every_required_gate_ran_and_every_gate_passed(case) -> None:
    entry, result = case
    if (entry.get("expect") or {"exit": 0})["exit"] != 0:
        pytest.skip(f"{entry['file']} is expected to stop before the gates run")
    assert result.gates, f"{entry['file']}: no quality.json gates\n{result.stderr_tail}"
    missing = [name for name in entry["required_gates"] if name not in result.gate_names()]
    assert not missing, f"{entry['file']}: quality.json lacks the gates {missing}"
    failing = [f"{name}: {message}" for name, passed, message in result.gates if not passed]
    assert not failing, f"{entry['file']}: failing gates:\n" + "\n".join(failing)


def test_script_language_is_the_documents(case) -> None:
    entry, result = case
    if result.script_language is None:
        pytest.skip(f"{entry['file']}: the run stopped before a script was written")
    spoken = langcodes.Language.get(result.script_language).language
    assert spoken == entry["language"], (
        f"{entry['file']}: the script was written as {result.script_language!r}, "
        f"but the document is {entry['language']!r}"
    )
