"""The ``extractive`` scriptwriter: a :class:`Document` -> a :class:`Script`.

This writer is **extractive, not generative**. Every narrated sentence is a
sentence of the document (paragraphs, quotes, list items), lightly cleaned
for speech: URLs, Markdown and HTML syntax and emoji removed, ``e.g.``/``i.e.``
spelled out, a list item ended with a period. Nothing is invented except a
few fixed connective phrases: the title read as the first sentence, the
"Here is a Python example." line of a code scene, the recap of section
headings and the closing line. Those follow the script's language
(``_phrases``: en, de, es, fr, it, ja, nl, pl, pt, ru, zh); in any other
language they are left out. No model, no network, deterministic output.
Copyright lines and licence notices are never narrated (``_boilerplate``).

Script shape:

- a ``title`` scene: the document title, narrated as the title plus the first
  one or two sentences of the opening paragraph;
- per section, ``content`` scenes of at most ``max_sentences_per_scene``
  sentences or ``max_words_per_scene`` words (later ones titled
  "Heading (continued)"), with 2-``max_bullets`` bullets of at most 70
  characters each, taken from list items first, else from the lead sentence
  of each paragraph, else from the narration;
- a ``code`` scene for each code block: the code on screen (at most
  ``max_code_lines`` lines), narrated only by the sentence introducing it
  (one ending with ``:``) or "Here is a <language> example." -- code is never
  read aloud;
- a ``closing`` scene titled "Thank you" (in the script's language; none
  where there is no translation), recapping 2-6 short section headings.

Length (:mod:`._summary`): with no ``duration_s`` and option ``full`` off, a
document whose whole narration is estimated at 5 minutes or less is narrated
whole, a longer one becomes a summary of about 5 minutes with sentences from
every top-level section in proportion to its length (each kept sentence
logged with its section); ``Script.duration_s`` and ``Script.length`` record
the target and why. Speech is estimated by :mod:`.estimate` (the ``duration``
gate's estimate too): words at ``words_per_minute`` (160, a common figure for
presentation narration), Chinese and Japanese by characters at espeak's
measured rates, plus ``scene_overhead_s`` (1 s) per scene for the pause
between scenes. When ``duration_s`` is exceeded, the lowest-ranked
sentences are dropped (later in their section ranks lower; sections holding a
key message rank higher; each kept scene keeps one sentence), then whole
scenes (code before content, last sections first; never a key message's
section), then the closing scene; the sections left out are logged and named
in ``Script.length``. The title and the document's first sentence always
stay; when even that script (with the key messages' sections) is more than
5 s over ``duration_s``, the writer refuses it, naming the shortest length it
can make. Tables are shown in no scene and never narrated.

Never narrated (the ``spoken_text`` gate measures the same things, with the
same :func:`~reelgraph.plugins.gates.spoken_text.problems`):

- markup, URLs, e-mail addresses, paths and code: a sentence holding them
  after cleaning loses the parentheses or "by @user" credit that hold them,
  else it is dropped (option ``drop_unspeakable``, on by default; off, such
  sentences stay for the gate to find); reStructuredText explicit markup
  lines (``.. image::``, ``.. _name: url``) are skipped whole;
- a sentence a removed link left dangling: "The docs can be found at <url>."
  becomes "The docs can be found."; "For details, please see <url>.",
  "Learn more." or "See ." is dropped, and so is a sentence whose link was
  needed in its middle ("located at <url> but also");
- an introduction without what it introduces: a paragraph ending with ":"
  followed by a short list is read as one series ("supported by: A, B and
  C."), by a longer list or a paragraph it keeps its colon and the items
  follow; with nothing after it, "including:" is dropped rather than read as
  "including.".
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Scene, Script, Section
from reelgraph.plugins._language import document_language, normalize_tag
from reelgraph.plugins._sentences import end_sentence, split_sentences
from reelgraph.plugins._text import (
    clean_display,
    clean_for_speech,
    normalize_space,
    shorten,
    split_clause,
    words,
)
from reelgraph.plugins.gates.spoken_text import REMEDY_PREFIX
from reelgraph.plugins.gates.spoken_text import problems as speech_problems
from reelgraph.plugins.writers._boilerplate import is_boilerplate, is_front_matter
from reelgraph.plugins.writers._fit import (
    _STOPWORDS,
    _estimate_s,
    _fit,
    _mark_keys,
    _units,
    fitted_length,
    too_short,
)
from reelgraph.plugins.writers._links import MARK, link_needed, mark_links
from reelgraph.plugins.writers._phrases import phrases
from reelgraph.plugins.writers._runs import _chunk, _Run, _Sentence
from reelgraph.plugins.writers._summary import choose_target, summarize
from reelgraph.plugins.writers.estimate import TOLERANCE_S, sentence_s

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULT_OPTIONS", "narrates", "write_script"]

#: Options and their defaults. ``words_per_minute`` 160 is a common figure for
#: narration; ``scene_overhead_s`` is the pause an assembler adds per scene;
#: ``drop_unspeakable`` leaves out sentences the ``spoken_text`` gate would flag.
DEFAULT_OPTIONS: dict[str, Any] = {
    "max_bullets": 6,
    "max_sentences_per_scene": 5,
    "max_words_per_scene": 90,
    "max_code_lines": 14,
    "bullet_chars": 70,
    "words_per_minute": 160,
    "scene_overhead_s": 1.0,
    "recap": True,
    "drop_unspeakable": True,
    "language": None,
    "full": False,
}
_LIMITS: dict[str, tuple[float, float]] = {
    "max_bullets": (2, 6),
    "max_sentences_per_scene": (2, 50),
    "max_words_per_scene": (10, 1000),
    "max_code_lines": (1, 200),
    "bullet_chars": (20, 200),
    "words_per_minute": (60, 400),
    "scene_overhead_s": (0, 30),
}
_SHORTEN_BY = 0.8  # "too long" feedback keeps ~80% of the estimated length
_INTRO_MAX_WORDS = 45  # title-scene intro: at most 2 sentences and this many words
_RECAP_MAX = 6  # recap headings only when there are 2..6 of them...
_RECAP_HEADING_CHARS = 40  # ...each a short name, not a question ("1.3. What is Linux?")
_LANGUAGES = {
    "py": "Python", "python": "Python", "python3": "Python", "pycon": "Python",
    "sh": "shell", "bash": "shell", "shell": "shell", "console": "shell", "zsh": "shell",
    "shell-session": "shell", "js": "JavaScript", "javascript": "JavaScript",
    "ts": "TypeScript", "typescript": "TypeScript", "yml": "YAML", "yaml": "YAML",
    "json": "JSON", "toml": "TOML", "html": "HTML", "css": "CSS", "sql": "SQL",
    "rs": "Rust", "rust": "Rust", "go": "Go", "c": "C", "cpp": "C++", "c++": "C++",
    "java": "Java", "rb": "Ruby", "ruby": "Ruby", "ini": "INI", "dockerfile": "Dockerfile",
    "xml": "XML", "text": "text", "txt": "text", "diff": "diff", "mermaid": "Mermaid",
}  # fmt: skip
_VOWEL_SOUND = re.compile(r"^(?:[aeio]|u(?!s)|HTML|SQL|INI|XML|F\b)", re.IGNORECASE)


@hookimpl
def write_script(
    document: Document | None,
    duration_s: float | None,
    key_messages: list[str],
    feedback: list[str],
    options: dict[str, Any],
    ctx: NodeContext,
) -> Script:
    """Write a script by extracting sentences from ``document``.

    Args:
        document: the parsed source.
        duration_s: target length in seconds (estimated at ``words_per_minute``
            plus ``scene_overhead_s`` per scene), or ``None``: the whole
            document up to 300 s, else a proportional summary of about 300 s
            (see :mod:`._summary`; option ``full: true`` narrates all).
        key_messages: phrases whose best-matching section (by shared words)
            must stay in the script.
        feedback: acts on "too long"/"shorten" (about 20% shorter) and
            "missing key message: X" (X becomes a key message) and
            "drop sentence: X" (the ``spoken_text`` gate's remedy: sentence X,
            as narrated, is left out).
        options: see :data:`DEFAULT_OPTIONS`; ``language`` is a BCP 47 tag,
            or ``None`` to take ``document.language``, else the language
            detected from the document's prose (py3langid), else ``"en"``.
            It picks the sentence rules and becomes ``Script.language``.
        ctx: the node context.

    Raises:
        InvalidInputError: no document (this writer extracts; from a brief
            alone use ``offline`` or an LLM writer), the document has no
            narratable sentence, an option or ``duration_s`` is out of range,
            or ``duration_s`` is more than 5 s shorter than the shortest
            script it can make (the message names that length).
    """
    if document is None:
        raise InvalidInputError(
            "the extractive writer needs a document; for a brief alone use provider "
            "'offline' (or an LLM writer such as 'openai')"
        )
    opts = _options(options)
    opts["language"] = _script_language(document, opts["language"], ctx)
    if duration_s is not None and (
        isinstance(duration_s, bool) or not isinstance(duration_s, int | float) or duration_s <= 0
    ):
        raise InvalidInputError(
            f"duration_s must be a positive number of seconds, got {duration_s!r}"
        )
    keys, shorter, shorten_s = _read_feedback(list(key_messages or []), list(feedback or []))
    title = clean_display(document.title) or "Untitled"
    runs = _collect(document, title, opts, _dropped(list(feedback or [])))
    if not any(s for run in runs for s in run.sentences if not s.protected):
        raise InvalidInputError(
            f"document {document.source or document.title!r} has no sentence to narrate "
            "(only headings, code or tables); add paragraphs or list items"
        )
    _mark_keys(runs, keys, ctx)
    full_s = _estimate_s(runs, opts)
    target_s, length, summary = choose_target(duration_s, bool(opts["full"]), full_s)
    budget = target_s if target_s is not None else float("inf")
    if shorter:
        # cut at least what the gates asked for, and at least 20 % per request
        budget = min(budget, full_s - shorten_s, full_s * _SHORTEN_BY**shorter)
    if full_s > budget:
        if summary:
            summarize(
                runs,
                document,
                budget,
                lambda: _estimate_s(runs, opts),
                ctx,
                _word_equivalents(opts),
            )
        else:
            _fit(runs, budget, opts)
            length = fitted_length(runs, length, ctx)
        shortest = _estimate_s(runs, opts)
        if shortest > budget:
            ctx.log.warning("script longer than target even at its shortest", target_s=budget)
        if duration_s is not None and shortest > duration_s + TOLERANCE_S:
            raise InvalidInputError(too_short(document, duration_s, shortest, keys))
    script = Script(
        title=title,
        scenes=_scenes(runs, title, opts),
        language=opts["language"],
        duration_s=target_s,
        length=length,
    )
    ctx.log.info(
        "wrote script",
        scenes=len(script.scenes),
        estimated_s=round(_estimate_s(runs, opts), 1),
        full_estimate_s=round(full_s, 1),
        target_s=target_s,
        length=length,
    )
    return script


def _word_equivalents(opts: dict[str, Any]) -> Any:
    """A sentence's spoken length in words at ``words_per_minute`` (its words, where words
    are separated by spaces; in Chinese and Japanese, from its characters)."""
    wpm = opts["words_per_minute"]
    return lambda s: sentence_s(s.text, opts["language"], wpm) * wpm / 60


# -- options and feedback -----------------------------------------------------


def _script_language(document: Document, given: Any, ctx: NodeContext) -> str:
    """The script's BCP 47 tag: ``given``, else the document's (declared or detected), else en."""
    if given is not None:
        if not isinstance(given, str):
            raise InvalidInputError(f"option 'language' must be a BCP 47 tag, got {given!r}")
        return normalize_tag(given, what="option 'language'")
    found = document_language(document)
    how = "declared" if document.language else "detected"
    if found is None:
        found, how = "en", "default (detection unsure)"
    ctx.log.info("script language", language=found, source=how)
    return found


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    opts = dict(DEFAULT_OPTIONS)
    for name, value in (options or {}).items():
        if name not in DEFAULT_OPTIONS:
            known = ", ".join(sorted(DEFAULT_OPTIONS))
            raise InvalidInputError(f"unknown extractive option {name!r}; known options: {known}")
        if name in _LIMITS:
            low, high = _LIMITS[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                raise InvalidInputError(
                    f"option {name!r} must be a number from {low:g} to {high:g}, got {value!r}"
                )
        if name == "full" and not isinstance(value, bool):
            raise InvalidInputError(f"option 'full' must be true or false, got {value!r}")
        opts[name] = value
    return opts


def _read_feedback(keys: list[str], feedback: list[str]) -> tuple[list[str], int, float]:
    """Return (key messages including the feedback's, how many times to shorten, seconds asked).

    Feedback accumulates over revisions, so each "too long" item asks for
    another cut; "shorten by about N s" items add up to the seconds to remove
    from the full estimate.
    """
    shorter, seconds = 0, 0.0
    for item in feedback:
        lowered = item.lower()
        if re.search(r"too long|shorten|shorter", lowered):
            shorter += 1
            asked = re.search(r"by about (\d+(?:\.\d+)?)\s*s", lowered)
            seconds += float(asked.group(1)) if asked else 0.0
        missing = re.search(r"missing key message\s*:?\s*(.+)", item, re.IGNORECASE)
        if missing:
            keys.append(missing.group(1).strip().strip("'\"\u201c\u201d"))
    return [k for k in keys if k.strip()], shorter, seconds


def _dropped(feedback: list[str]) -> frozenset[str]:
    """Sentences the feedback asks to leave out (``drop sentence: X``), compared by :func:`_key`."""
    prefix = REMEDY_PREFIX.strip().lower()
    return frozenset(
        _key(item.strip()[len(prefix) :])
        for item in feedback
        if item.strip().lower().startswith(prefix)
    )


def _key(sentence: str) -> str:
    return normalize_space(sentence).casefold()


# -- collecting sentences ---------------------------------------------------

# Links are replaced by _MARK before cleaning (see _links), so that a sentence
# they ended ("The docs are at <url>.") can be told from one that ends in a
# preposition on its own ("what it was designed for.").
_MARK = MARK
# reStructuredText explicit markup (directive, comment, link target,
# substitution definition, footnote): ".. " at the start of a line.
_EXPLICIT_MARKUP = re.compile(r"^\s*\.\.(?:\s|$)")
# A sentence that is only a link's text: nothing is left once the link is gone.
_LINK_TEXT = re.compile(
    r"^(?:(?:learn|read|see|find out|click|tap|go)(?: (?:more|here|on|it|them|this))*"
    r"|more(?: info| information| details)?(?: here)?|here|link|details)$",
    re.IGNORECASE,
)
_PREPOSITIONS = frozenset(
    {"at", "on", "in", "from", "via", "to", "under", "with", "by", "of", "for", "into", "onto"}
)
# Words a sentence cannot end on once its link or list is gone: verbs that
# point at something (see, visit), pointers (here, below) and function words.
_POINTING = frozenset(
    {
        "see", "visit", "check", "consult", "read", "refer", "click", "follow", "go", "browse",
        "open", "try", "find", "here", "below", "above", "following", "including", "include",
        "includes", "like", "as", "is", "are", "was", "were", "be", "the", "a", "an", "and",
        "or", "please", "example", "such", "these", "this", "namely",
    }
)  # fmt: skip
# Words after which "here", "below", "above" or "following" points at
# something on the page rather than being part of the sentence.
_POINTED_FROM = frozenset(
    {
        "click", "tap", "see", "look", "go", "read", "follow", "found", "shown", "described",
        "listed", "explained", "documented", "available", "the", "more", "details", "info",
        "find", "it", "them", "out", "get", "download", "visit", "check",
    }
)  # fmt: skip
# An introduction that cannot stand alone: it ends, before its colon, on a
# word that asks for what follows ("including:", "are:", "the following:").
_ASKS_MORE = re.compile(
    r"\b(?:are|is|were|was|include|includes|including|following|follows|such as|like|"
    r"e\.\s?g\.|for example|namely|these|those|this|below|with|to|of|for|and|or|from|as|"
    r"by|via|at|in|on)\s*:$",
    re.IGNORECASE,
)
# An introduction that points at what follows it on the page.
_POINTS_AT = re.compile(
    r"\b(?:following|below|above|here(?:'s| is| are)|this is what|looks like|example)\b",
    re.IGNORECASE,
)
_SERIES_MAX_ITEMS = 8  # a list read as one sentence: at most this many items...
_SERIES_MAX_WORDS = 8  # ...of at most this many words each


def _undangle(display: str, link_at_end: bool) -> str | None:
    """``display`` with a dangling end repaired, or ``None`` when nothing meaningful is left.

    Dangling: the sentence ended in a link (now removed) or ends in "at"/"via"
    or a pointer after a pointing word ("click here", "shown below", "the
    following"; "The future is here." is not dangling). Trailing prepositions and
    pointers are dropped ("The docs can be found at <url>." -> "The docs can
    be found."); a sentence that then ends on a pointing verb or function
    word ("..., please see <url>."), has fewer than two content words, or
    is only a link's text ("Learn more.") is dropped.
    """
    body = display.rstrip(" .;,!?\u2026")
    if _LINK_TEXT.match(body):
        return None
    tokens = body.split()
    changed = False
    while (
        tokens
        and tokens[-1].lower() in _PREPOSITIONS
        and (link_at_end or tokens[-1].lower() in ("at", "via"))
    ):
        tokens.pop()
        changed = True
    pointer = tokens[-1].lower() if tokens else ""
    before = tokens[-2].lower() if len(tokens) >= 2 else ""
    if pointer in ("here", "below", "above", "following") and (
        link_at_end or before in _POINTED_FROM
    ):  # "click here", "as shown below"; "The future is here." stays
        tokens.pop()
        changed = True
        if len(tokens) >= 2 and tokens[-2].lower() == "as":  # "as shown below"
            del tokens[-2:]
    if not (changed or link_at_end):
        return display
    last = tokens[-1].lower() if tokens else ""
    content = set(words(" ".join(tokens))) - _STOPWORDS
    if last in _POINTING or last.endswith((",", ":", ";")) or len(content) < 2:
        return None
    return " ".join(tokens) + "." if changed else display


# A changelog's credit to a user handle: "by @alice and @bob in 1234", "(@alice)".
_CREDIT = re.compile(
    r"\s*\b(?:by|from|thanks to|thanks)\s+@[\w-]+(?:\s*(?:,|and|&)\s*@[\w-]+)*(?:\s+in\s+#?\d+)?"
    r"|\s*\((?:thanks\s+)?@[\w-]+\)",
    re.IGNORECASE,
)


def _speakable(display: str, language: str) -> tuple[str, str] | None:
    """``(spoken, display)`` free of markup, URLs, paths and code, or ``None``.

    Credits to user handles ("by @alice in 1234") and parentheses holding
    such things ("(see src/app.py)") are removed; a sentence still holding
    them is dropped, never read aloud.
    """
    spoken = end_sentence(clean_for_speech(display), language)
    if not speech_problems(spoken):
        return spoken, display
    display = _tidy_display(_CREDIT.sub("", display))

    def strip(match: re.Match[str]) -> str:
        return "" if speech_problems(clean_for_speech(match.group(1))) else match.group(0)

    display = _tidy_display(re.sub(r"\s*\(([^()]*)\)", strip, display))
    spoken = end_sentence(clean_for_speech(display), language)
    if not spoken or speech_problems(spoken):
        return None
    return spoken, display


def _tidy_display(text: str) -> str:
    """Spaces collapsed, and no space left before punctuation ("in 1234 ." -> "in 1234.")."""
    return re.sub(r"\s+([,;:.!?)])", r"\1", normalize_space(text))


def _block_sentences(
    block: Block, language: str, screen: bool = True
) -> list[tuple[str, str, bool, str | None]]:
    """``(spoken, display, lead, item)`` for each narratable sentence of a block.

    Never narrated: reStructuredText explicit markup lines (``.. image::``),
    sentences a removed link left dangling (see :func:`_undangle`) and, with
    ``screen``, sentences the ``spoken_text`` gate would flag (see
    :func:`_speakable`).
    """
    if block.kind in ("paragraph", "quote"):
        sources = [(line, None) for line in block.text.split("\n")]
    elif block.kind == "list":
        sources = [(item, clean_display(item)) for item in block.items]
    else:
        return []
    out: list[tuple[str, str, bool, str | None]] = []
    for text, item in sources:
        if _EXPLICIT_MARKUP.match(text):
            continue
        lead = True
        found = split_sentences(clean_display(mark_links(text)), language)
        if found and is_boilerplate(found[0]):
            continue  # a licence notice or copyright line, with its continuation
        for marked in found:
            if is_boilerplate(marked) or is_front_matter(marked):
                continue
            if link_needed(marked, language):
                continue  # "located at <url> but also": the link was part of the sentence
            link_at_end = marked.rstrip(" .:;,!?\u2026").endswith(_MARK)
            display = clean_display(marked.replace(_MARK, " "))
            if not marked.rstrip().endswith(":"):
                display = _undangle(display, link_at_end) or ""
            found = _speakable(display, language) if screen and display else (None, display)
            if found is None:
                continue
            display = found[1]
            spoken = clean_for_speech(display)
            # nothing left, or a lone "or" (any script's letters count: \w is Unicode)
            if not set(re.findall(r"[^\W_]+", spoken.lower())) - _STOPWORDS:
                continue
            out.append((end_sentence(spoken, language), display, lead, item if lead else None))
            lead = False
    return out


def narrates(section: Section, language: str | None, title: str | None = None) -> bool:
    """Whether this writer narrates or shows anything of ``section``'s own blocks.

    True when it has code, or a paragraph, quote or list with a sentence
    this writer reads (not only markup, links, a licence notice, or an
    introduction to what was left out); False for a section of tables,
    images or nothing (a heading over subsections). The ``key_messages``
    gate uses it to pick, as default key messages, only the headings of
    sections that have something to say. A sentence that only repeats the
    document's ``title`` does not count (the title scene reads it).
    """
    language = language or "en"
    if is_boilerplate(section.heading):
        return False
    repeated = _key(end_sentence(clean_for_speech(clean_display(title or "")), language))
    found = [_block_sentences(block, language) for block in section.blocks]
    consumed: set[int] = set()
    for i, block in enumerate(section.blocks):
        if block.kind == "code" and block.text.strip():
            return True
        if i in consumed:
            continue
        said = _introduce(section.blocks, found, i, consumed, language)
        if any(_key(spoken) != repeated for spoken, *_ in said):
            return True
    return False


def _collect(
    document: Document, title: str, opts: dict[str, Any], drop: frozenset[str] = frozenset()
) -> list[_Run]:
    """Runs in document order: title, content and code runs, closing.

    Sentences whose :func:`_key` is in ``drop`` are left out.
    """
    title_run = _Run("title", -1, title)
    spoken_title = end_sentence(clean_for_speech(title) or "Untitled", opts["language"])
    title_run.sentences.append(_Sentence(spoken_title, title, -1, 0, protected=True))
    runs = [title_run]
    for index, section in enumerate(document.sections):
        if is_boilerplate(section.heading):
            continue  # "Copyright © 1996-2021 SPI" heading a licence notice and a date
        heading = clean_display(section.heading) or title
        current: _Run | None = None
        pos = 0
        found = [
            _block_sentences(block, opts["language"], opts["drop_unspeakable"])
            for block in section.blocks
        ]
        consumed: set[int] = set()  # lists read as a series by their introduction
        for i, block in enumerate(section.blocks):
            if block.kind == "code":
                if not block.text.strip():
                    continue
                runs.append(_code_run(block, index, heading, current, opts))
                current = None
                continue
            if i in consumed:
                continue
            for spoken, display, lead, item, items in _introduce(
                section.blocks, found, i, consumed, opts["language"]
            ):
                if _key(spoken) in drop or _key(spoken) == _key(spoken_title):
                    continue  # the title is read once, by the title scene
                if current is None:
                    current = _Run("content", index, heading)
                    runs.append(current)
                sentence = _Sentence(spoken, display, index, pos, lead, item, items=items)
                sentence.score = 1.0 / (1 + pos)
                current.sentences.append(sentence)
                pos += 1
    runs = [r for r in runs if r.kind != "content" or r.sentences]
    _take_intro(runs, document)
    spoken_title = title_run.sentences[0].text
    unspeakable = opts["drop_unspeakable"] and speech_problems(spoken_title)
    if (unspeakable or _key(spoken_title) in drop) and len(title_run.sentences) > 1:
        del title_run.sentences[0]  # the intro sentences still open the video
    closing = _closing_run(runs, title, opts)
    if closing is not None:
        runs.append(closing)
    return runs


def _introduce(
    blocks: list[Block],
    found: list[list[tuple[str, str, bool, str | None]]],
    i: int,
    consumed: set[int],
    language: str,
) -> list[tuple[str, str, bool, str | None, list[str]]]:
    """Block ``i``'s sentences, its closing introduction (a sentence ending ":") kept whole.

    What follows the introduction decides (blocks with nothing to narrate,
    such as reStructuredText directives, are skipped):

    - a list of 2-8 short items (at most 8 words each, no inner clause
      punctuation, English): one sentence, "Features include: A, B and C."
      (the list is consumed);
    - a longer list: the introduction keeps its colon and the items follow
      as sentences;
    - a paragraph: an introduction that asks for more ("The programs are:")
      keeps its colon and the paragraph follows; one that points at
      something the video does not show ("This produces the following
      output:", whose image or listing was dropped) is dropped; any other
      ends with a period;
    - code: unchanged (the code scene narrates it, ending with a period);
    - nothing (end of the section, a table): an introduction that asks for
      more ("including:", "are:") is dropped, any other ends with a period.

    In other languages than English, whose words that ask for more are not
    listed, an introduction before a paragraph keeps its colon, one before
    nothing is dropped.
    """
    out = [(*entry, []) for entry in found[i]]
    if not out or not out[-1][1].rstrip().endswith(":"):
        return out
    spoken, display, lead, item, _ = out[-1]
    following = next(
        (
            j
            for j in range(i + 1, len(blocks))
            if found[j] or blocks[j].kind not in ("paragraph", "quote")
        ),
        None,
    )
    kind = blocks[following].kind if following is not None else None
    if kind == "code":
        return out
    colon = clean_for_speech(display)
    if kind == "list" and found[following] and colon.endswith(":"):
        assert following is not None
        series = _series(blocks[following], found[following], language)
        if series:
            consumed.add(following)
            out[-1] = (f"{colon} {series}", display, lead, item, list(blocks[following].items))
        else:
            out[-1] = (colon, display, lead, item, [])
    elif not language.lower().startswith("en"):
        # what asks for more is not listed in other languages: what follows decides
        if kind in ("paragraph", "quote") and colon.endswith(":"):
            out[-1] = (colon, display, lead, item, [])
        elif kind is None:
            out.pop()
    elif _ASKS_MORE.search(display.rstrip()):
        if kind in ("paragraph", "quote") and colon.endswith(":"):
            out[-1] = (colon, display, lead, item, [])
        else:
            out.pop()
    elif kind in ("paragraph", "quote") and _POINTS_AT.search(display):
        out.pop()
    return out


def _series(
    block: Block, sentences: list[tuple[str, str, bool, str | None]], language: str
) -> str | None:
    """A short list as a spoken series, "A, B and C." (English only), else ``None``."""
    if not language.lower().startswith("en") or len(block.items) != len(sentences):
        return None
    parts = [spoken.rstrip(" .;,!?") for spoken, _, _, _ in sentences]
    if not 2 <= len(parts) <= _SERIES_MAX_ITEMS:
        return None
    if any(
        not part
        or len(part.split()) > _SERIES_MAX_WORDS
        or re.search(r"[:;,]|\s[-\u2013\u2014]\s", part)
        for part in parts
    ):
        return None
    return ", ".join(parts[:-1]) + " and " + parts[-1] + "."


def _code_run(
    block: Block, section: int, heading: str, before: _Run | None, opts: dict[str, Any]
) -> _Run:
    """A code scene; the sentence just before it becomes its narration if it ends with ':'."""
    run = _Run("code", section, heading, code=_trim_code(block.text, opts["max_code_lines"]))
    run.language = block.language
    if before and before.sentences and before.sentences[-1].display.rstrip().endswith(":"):
        intro = before.sentences.pop()
    else:
        said = _code_phrase(block.language, opts["language"])
        if said is None:  # no translation of "Here is an example.": the heading introduces it
            said = end_sentence(clean_for_speech(heading) or heading, opts["language"])
        intro = _Sentence(said, "", section, 0)
    intro.protected = True
    run.sentences.append(intro)
    return run


def _code_phrase(language: str | None, script_language: str | None = "en") -> str | None:
    """ "Here is a Python example." in the script's language, or ``None`` without a translation.

    Generic names (shell, text, diff) are left out of other languages' phrase,
    which would need their grammar ("in der Shell"): "Hier ist ein Beispiel."
    """
    said = phrases(script_language)
    if said is None:
        return None
    name = _LANGUAGES.get((language or "").lower())
    if name is None and language and re.fullmatch(r"[A-Za-z][\w+#-]{0,15}", language):
        name = clean_for_speech(language)
    english = said is phrases("en")
    if not name or name == "text" or (not english and name in _GENERIC_CODE):
        return said.example
    article = "an" if _VOWEL_SOUND.match(name) else "a"
    return said.example_in.format(article=article, name=name)


_GENERIC_CODE = frozenset({"shell", "text", "diff", "Dockerfile"})


def _trim_code(code: str, max_lines: int) -> str:
    lines = textwrap.dedent(code.expandtabs(4)).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    lines = [line.rstrip() for line in lines]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], "..."]
    return "\n".join(lines)


def _take_intro(runs: list[_Run], document: Document) -> None:
    """Move the opening paragraph's first 1-2 sentences to the title scene.

    Only from a preamble or the level-1 section, so the title is never followed
    by the middle of a later section.
    """
    first = next((r for r in runs if r.kind in ("content", "code")), None)
    if first is None or first.kind != "content" or document.sections[first.section].level > 1:
        return
    if first.sentences[0].item is not None:  # opens with a list, not a paragraph
        return
    taken: list[_Sentence] = []
    count = 0
    for sentence in first.sentences[:2]:
        n = len(sentence.text.split())
        if taken and (sentence.lead or count + n > _INTRO_MAX_WORDS):
            break  # stop at the next block or when the intro grows long
        taken.append(sentence)
        count += n
    rest = first.sentences[len(taken) :]
    if len(rest) == 1 and rest[0].item is None and count + len(rest[0].text.split()) <= 60:
        taken.append(rest[0])  # rather than a content scene of one sentence
    del first.sentences[: len(taken)]
    runs[0].sentences.extend(taken)
    if not first.sentences:
        runs.remove(first)


def _closing_run(runs: list[_Run], title: str, opts: dict[str, Any]) -> _Run | None:
    """The closing scene in the script's language (recap, last line), or ``None`` when
    there is no translation of its sentences (see ``_phrases``)."""
    said = phrases(opts["language"])
    if said is None:
        return None
    run = _Run("closing", -1, said.closing_title)
    headings = _recap_headings(runs, title)
    short = all(
        len(h) <= _RECAP_HEADING_CHARS and not h.endswith(("?", "\uff1f")) for h in headings
    )
    if opts["recap"] and 2 <= len(headings) <= _RECAP_MAX and short:
        recap = clean_for_speech(said.series(headings))
        if recap and not speech_problems(recap):
            sentence = _Sentence(said.covered.format(items=recap), "", -1, 1, score=-1.0)
            sentence.recap = True
            run.sentences.append(sentence)
    closing = clean_for_speech(title)
    ending = said.concludes.format(title=closing)
    if not closing or (opts["drop_unspeakable"] and speech_problems(ending)):
        ending = said.concludes_bare
    run.sentences.append(_Sentence(ending, "", -1, 0))
    run.sentences[-1].protected = True
    return run


def _recap_headings(runs: list[_Run], title: str) -> list[str]:
    seen: list[str] = []
    for run in runs:
        live = run.kind in ("content", "code") and not run.dropped
        if live and run.heading != title and run.heading not in seen:
            seen.append(run.heading)
    return seen


# -- scenes -------------------------------------------------------------------


def _bullets(chunk: list[_Sentence], opts: dict[str, Any]) -> list[str]:
    """2..max_bullets short lines: list items, else paragraph leads, else narration."""
    limit = opts["bullet_chars"]
    items = [_on_screen(s, limit) for s in chunk if s.item]
    items += [clean_display(part) for s in chunk for part in s.items]
    raw = items if len(items) >= 2 else [_on_screen(s, limit) for s in chunk if s.lead]
    bullets: list[str] = []
    for text in raw:
        _add_unique(bullets, shorten(text, limit))
    if len(bullets) < 2:  # every sentence, in spoken order
        bullets = []
        for s in chunk:
            _add_unique(bullets, shorten(_on_screen(s, limit), limit))
    if len(bullets) < 2:  # one short sentence: show its two halves
        parts = [part for s in chunk for part in split_clause(s.item or s.display)]
        if len(parts) >= 2:
            bullets = []
            for part in parts:
                _add_unique(bullets, shorten(part, limit))
    return bullets[: opts["max_bullets"]]


def _on_screen(sentence: _Sentence, limit: int) -> str:
    """A list item whole when it fits the screen line, else its first sentence."""
    if sentence.item and len(sentence.item) <= limit:
        return sentence.item
    return sentence.display


def _add_unique(bullets: list[str], text: str) -> None:
    text = text.strip()
    if text and text.lower() not in (b.lower() for b in bullets):
        bullets.append(text)


def _scenes(runs: list[_Run], title: str, opts: dict[str, Any]) -> list[Scene]:
    scenes: list[Scene] = []
    started: set[int] = set()
    for run, kept in _units(runs):
        narration = [s.text for s in kept]
        if run.kind == "title":
            scenes.append(Scene(index=0, kind="title", title=title, narration=narration))
        elif run.kind == "closing":
            scenes.append(Scene(index=0, kind="closing", title=run.heading, narration=narration))
        elif run.kind == "code":
            scenes.append(
                Scene(
                    index=0,
                    kind="code",
                    title=run.heading,
                    code=run.code,
                    code_language=run.language,
                    narration=narration[:1],
                    section=run.heading,
                )
            )
        else:
            said = phrases(opts["language"])
            continued = said.continued if said else ""
            for chunk in _chunk(kept, opts):
                heading = f"{run.heading}{continued}" if run.section in started else run.heading
                started.add(run.section)
                scenes.append(
                    Scene(
                        index=0,
                        title=heading,
                        bullets=_bullets(chunk, opts),
                        narration=[s.text for s in chunk],
                        section=run.heading,
                    )
                )
    for index, scene in enumerate(scenes):
        scene.index = index
    return scenes
