"""The ``spoken_text`` quality gate: is everything said aloud plain speech?

A speech engine reads what it is given: ``**``, ``:target:``, a URL, a path or
``load_config()`` become noise the listener cannot use. This gate reads every
sentence that will be (or was) spoken and fails on those that still hold:

- **markup** -- Markdown, reStructuredText or HTML syntax: ``**``/``__``,
  backticks, ``*emphasis*``, rST roles (``:class:``), directives
  (``.. image::``, ``::``), field-list leftovers (``version:target``),
  substitutions (``|PyPI|``), reference underscores (``Docs_``), HTML tags,
  heading underlines (``===``, ``---``), Markdown links and images
  (``[text](url)``, ``![alt]``), headings (``## ``), table pipes and
  ``@mentions``;
- **url** -- ``http://``, ``ftp://``, ``www.`` or a bare domain under a common
  top-level domain (``pypi.org``, ``github.com/x``); **email** addresses;
- **path** -- absolute or home paths with two or more parts
  (``/usr/share/doc``, ``~/.config``), Windows paths (``C:\\Users``) and
  relative paths ending in a file name (``src/foo.py``, ``./run.sh``); a bare
  file name (``setup.py``, ``README.md``) is read fine and passes;
- **code** -- calls (``name()``, ``os.path.join(``), ``snake_case`` names,
  ``camelCase`` names, lower-case dotted names (``asyncio.run``), command-line
  flags (``--verbose``, ``-v``), a shell prompt (``$ cmd``, ``>>>``),
  ``$VARIABLES``, install commands (``pip install x``), ``import``/``from x
  import y`` statements and lower-case keywords opening a line (``def``,
  ``return``), operators
  (``==``, ``!=``, ``=>``, ``->``, ``<=``, ``&&``, ``||``, ``+=``, ``x=1``)
  and braces.

Precise rather than paranoid: "C++", "C#", "e.g.", "3.11", "Node.js", "I/O",
"and/or", "macOS", "iPhone", "pre-commit", "$5" and "10:30" pass. Measured on
the METADATA long descriptions of the packages installed here (December
2026, ~200): of 1,896 sentences from Markdown paragraphs holding only text,
119 are flagged, 113 of them rightly (changelog identifiers, pasted URLs,
reStructuredText in a Markdown file, @mentions) and 6 wrongly by hand count
("pdfminer.six" three times, "async.io", "mypy(c)", "jusText"): 0.3 % false
positives. Detected: 1,124 of 1,124 reStructuredText markup lines
(directives, fields, underlines, substitutions), 540 of 543 Markdown table
rows and HTML lines, 3,044 of 3,582 code-block lines (85 %; the rest read as
words: ``options:``, ``class User:``, ``return "token"``).

Stages: with a ``video``, the captions (the cues of ``Video.srt_path``, joined
and split into sentences, so a sentence spanning cues is read whole) --
stage ``video``; else, with a ``script``, every ``Scene.narration`` sentence
-- stage ``script``. Returns ``None`` with neither.

Result: when nothing is flagged, one passing result. Otherwise one failing
result per offending sentence (severity ``error``), its remedy exactly
``drop sentence: <the sentence>``: the review loop passes each failing
result's remedy as one feedback item and the ``extractive`` writer drops that
sentence on revision. ``measured`` = the number of offending sentences,
``threshold`` = ``max_sentences``; ``details`` names the sentence, its scene
(or cue), the reasons, and every offending sentence with its reasons.

Thresholds (``thresholds["spoken_text"]``):
    max_sentences: 0 -- nothing unspeakable is ever narrated (issue 11, a
        project choice: the pipeline controls its narration).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.models import GateResult, Script, Video
from reelgraph.plugins._text import split_sentences
from reelgraph.plugins.gates._common import gate_selected, resolve_thresholds

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULTS", "REMEDY_PREFIX", "check_quality", "problems"]

GATE = "spoken_text"
#: Every failing result's remedy starts with this; the writer reads the rest.
REMEDY_PREFIX = "drop sentence: "

#: Default thresholds; source in the module docstring.
DEFAULTS: dict[str, float] = {"max_sentences": 0.0}
_LIMITS: dict[str, tuple[float, float]] = {"max_sentences": (0.0, 1e6)}

# Each pattern names what it finds; the first capture (or the whole match) is
# shown in the reason. Order: markup, url/email, path, code.
_TLD = r"(?:com|org|net|io|dev|edu|gov|info|co\.uk|readthedocs\.io)"
_FILE_EXT = r"(?:py|pyi|rs|go|c|h|cc|cpp|hpp|java|rb|sh|md|rst|txt|toml|ya?ml|json|cfg|ini|lock|html|css|in|diff|patch|orig)"
_CHECKS: list[tuple[str, str, re.Pattern[str]]] = [
    ("markup", "bold or underline markers", re.compile(r"\*\*|(?<!\w)__(?=\w)|(?<=\w)__(?!\w)")),
    ("markup", "backticks", re.compile(r"`")),
    ("markup", "asterisk", re.compile(r"(?<!\d\s)(?<!\d)\*(?!\s?\d)")),
    ("markup", "reStructuredText role or field", re.compile(r"(?<![\w:/]):[a-z][\w+.-]*:")),
    (
        "markup",
        "reStructuredText directive",
        re.compile(
            r"(?:^|\s)\.\.\s+(?:[\w-]+::?(?!\w)|\||_|\[)|\.\.\s+[a-z][\w-]*::?(?=\s|$)"
            r"|^\.\.\s+(?!(?:and|or|but|so|then)\b)|[\w|]::(?!\w)"
        ),
    ),
    ("markup", "field-list leftover", re.compile(r"\b[a-z]{2,}:[a-z]{3,}\b(?!/)")),
    ("markup", "substitution reference or table pipe", re.compile(r"\|")),
    ("markup", "reference underscore", re.compile(r"(?<=[A-Za-z0-9`])_{1,2}(?=[\s.,;:!?)]|$)")),
    ("markup", "HTML tag", re.compile(r"<!--|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")),
    (
        "markup",
        "heading underline",
        re.compile(r"(?:^|\s)(?:={3,}|-{3,}|~{3,}|\^{3,}|\+{3,}|#{3,})(?=\s|$|[.,:])"),
    ),
    ("markup", "Markdown link or image", re.compile(r"\]\(|\]\[|!\[|\[[ xX]\]")),
    ("markup", "Markdown heading", re.compile(r"(?:^|\s)#{1,6}\s")),
    ("markup", "@mention", re.compile(r"(?<![\w.@])@[A-Za-z0-9][\w-]*(?![\w@-]|\.\w)")),
    ("url", "URL", re.compile(r"\b(?:https?|ftp|file|ssh|git)://|\bwww\.\w|\bmailto:", re.I)),
    (
        "url",
        "domain name",
        re.compile(rf"\b[a-z0-9][\w-]*(?:\.[\w-]+)*\.{_TLD}(?:/\S*)?(?![\w.])"),
    ),
    ("email", "e-mail address", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "path",
        "absolute path",
        re.compile(
            r"(?<![\w/.])(?:~|\.{1,2})?/(?:[\w.+-]+/)+[\w.+-]*"
            r"|(?<![\w/])/(?:usr|etc|var|opt|tmp|bin|dev|home|lib|proc|srv|sys)\b"
        ),
    ),
    (
        "path",
        "home or relative path",
        re.compile(r"(?<!\w)(?:~|\.{1,2})/[\w.+-]|(?<=[a-z])\./[\w.+-]"),
    ),
    ("path", "Windows path", re.compile(r"\b[A-Za-z]:\\|\\\\\w")),
    (
        "path",
        "relative path",
        re.compile(
            rf"\b[\w.+-]+/[\w./+-]*\.{_FILE_EXT}\b"
            r"|\b(?:src|lib|docs?|tests?|bin|man|include|build|dist|scripts|examples)/[\w.+-]*"
        ),
    ),
    (
        "code",
        "call",
        re.compile(
            r"\b[A-Za-z_][\w.]*\((?:\)|[^()\s]*[=,'\"][^()]*\))"
            r"|\b[A-Za-z_]\w*\.[A-Za-z_]\w*\("
            r"|\b[a-z_][\w.]*\((?!s\)|es\)|ies\))[a-z_]\w*\)"
        ),
    ),
    ("code", "snake_case name", re.compile(r"\b(?![a-z]*\d+_\d+\b)[A-Za-z0-9]+_[A-Za-z0-9_]+\b")),
    ("code", "camelCase name", re.compile(r"\b[a-z]{2,}[A-Z][a-z]+\w*")),
    (
        "code",
        "dotted name",
        re.compile(
            rf"(?<![\w.])[a-z_][a-z0-9_]+\.(?!(?:js|io|ci|ai|app|{_FILE_EXT})\b)"
            r"[a-z_][a-z0-9_]+\b(?!\.\w)"
        ),
    ),
    (
        "code",
        "command-line flag",
        re.compile(r"(?<![\w-])--[a-z][\w-]*|(?<![\w-])-[A-Za-z](?=\s|$|[,.;)])"),
    ),
    ("code", "shell prompt or variable", re.compile(r"(?:^|\s)\$\s+\w|>>>|\$\{|\$[A-Z_]{2,}\b")),
    (
        "code",
        "import statement",
        re.compile(r"\bfrom\s+[\w.]+\s+import\s+\w|^import\s+[a-z_][\w.]*(?:\s+as\s+\w+)?[.;]?$"),
    ),
    (
        "code",
        "operator",
        re.compile(
            r"==|!=|=>|->|<=|>=|&&|\+=|-=|\w::\w|(?<=[\w)\]'\"])=(?=[\w(\['\"])|\w\s=\s[\w'\"(\[]"
        ),
    ),
    ("code", "braces", re.compile(r"[{}]")),
    (
        "code",
        "install command",
        re.compile(
            r"\b(?:pip3?|pipx|uv pip|npm|yarn|apt|apt-get|brew|conda|cargo|gem) install\s+\S"
        ),
    ),
    (
        "code",
        "statement",
        re.compile(
            r"^(?:def|class|return|elif|lambda|async def|await|raise|yield|const|let|var|"
            r"function|fn|pub fn|print)\s+\w"
        ),
    ),
]


def problems(sentence: str) -> list[str]:
    """Why ``sentence`` is not plain speech: ``["markup: backticks (`)", ...]``, or ``[]``.

    One reason per kind of problem found, each ``"<category>: <what> (<the
    text found>)"`` with category ``markup``, ``url``, ``email``, ``path`` or
    ``code`` (see the module docstring for what each covers).
    """
    reasons: list[str] = []
    seen: set[str] = set()
    for category, what, pattern in _CHECKS:
        match = pattern.search(sentence)
        if match is None or what in seen:
            continue
        seen.add(what)
        reasons.append(f"{category}: {what} ({_excerpt(sentence, match)})")
    return reasons


def _excerpt(sentence: str, match: re.Match[str]) -> str:
    """The whitespace-delimited text around ``match`` (at most 60 characters)."""
    start = sentence.rfind(" ", 0, match.start()) + 1
    end = sentence.find(" ", match.end())
    text = sentence[start : end if end != -1 else len(sentence)].strip()
    return text if len(text) <= 60 else text[:59] + "\u2026"


@hookimpl
def check_quality(
    script: Script | None,
    video: Video | None,
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Check that narration (or, with a video, its captions) holds no markup, URL, path or code.

    Default: ``max_sentences`` 0. Returns ``None`` without a script or video.
    """
    if not gate_selected(GATE, gates) or (script is None and video is None):
        return None
    limits = resolve_thresholds(GATE, DEFAULTS, _LIMITS, thresholds)
    if video is not None:
        stage, where, sentences = "video", "cue", _caption_sentences(video)
    else:
        assert script is not None
        stage, where = "script", "scene"
        sentences = [(s.index, text) for s in script.scenes for text in s.narration]
    offending = [
        {where: at, "sentence": text, "reasons": reasons}
        for at, text in sentences
        if (reasons := problems(text))
    ]
    common = {
        "gate": GATE,
        "severity": "error",
        "measured": float(len(offending)),
        "threshold": limits["max_sentences"],
        "unit": "sentences",
        "stage": stage,
    }
    ctx.log.info("spoken text gate", stage=stage, sentences=len(sentences), flagged=len(offending))
    source = "captions" if stage == "video" else "narration"
    if len(offending) <= limits["max_sentences"]:
        message = f"{source}: {len(sentences)} sentences, {len(offending)} with markup, URLs, paths or code"
        details = {"sentences": len(sentences), "offending": offending}
        return [GateResult(passed=True, message=message, details=details, **common)]
    return [
        GateResult(
            passed=False,
            message=f"{source} {where} {item[where]} reads markup, a URL, a path or code "
            f"({'; '.join(item['reasons'])}): {item['sentence']!r}",
            remedy=REMEDY_PREFIX + item["sentence"],
            details={**item, "sentences": len(sentences), "offending": offending},
            **common,
        )
        for item in offending
    ]


def _caption_sentences(video: Video) -> list[tuple[int, str]]:
    """``(first cue index, sentence)`` for the captions' text, split into sentences.

    Raises:
        InvalidInputError: the SRT file is missing or does not parse.
    """
    from reelgraph.errors import InvalidInputError
    from reelgraph.plugins.gates.captions import read_srt

    path = Path(video.srt_path) if video.srt_path else None
    if path is None or not path.is_file():
        raise InvalidInputError(
            f"gate {GATE!r}: no SRT captions to check ({video.srt_path or 'none given'}); "
            "assemble the video with captions (the ffmpeg assembler writes them)"
        )
    try:
        cues = read_srt(path)
    except (ValueError, OSError) as err:
        raise InvalidInputError(
            f"gate {GATE!r}: cannot read {path}: {err}; re-run the assembler"
        ) from err
    out: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []  # (cue, text) since the last sentence end
    for cue in cues:
        pending.append((cue.index, " ".join(cue.lines)))
        joined = " ".join(text for _, text in pending)
        pieces = split_sentences(joined)
        if pieces and re.search(r"[.!?][\"')\]]*$", joined):
            first = pending[0][0]
            out += [(first, piece) for piece in pieces]
            pending = []
    if pending:
        out += [(pending[0][0], p) for p in split_sentences(" ".join(t for _, t in pending))]
    return out
