"""Text helpers shared by the ingest plugins and the extractive scriptwriter.

Three jobs:

- reading a source file as text in whatever encoding it uses (UTF-8, a BOM's
  UTF-16/32, else charset-normalizer's guess), with errors that say how to fix
  them (:func:`read_source`); telling which ingest format a file is in
  (:func:`sniff_format`, :func:`handles`); assembling sections
  (:class:`SectionBuilder`);
- cleaning text for the screen (:func:`clean_display`) and for the speech
  engine (:func:`clean_for_speech`): no URLs, no Markdown or HTML syntax, no
  emoji, abbreviations spelled out;
- splitting text into sentences (:func:`split_sentences`) without breaking on
  abbreviations, initials or version numbers such as ``3.11``, and shortening
  on-screen lines at a clause or word boundary (:func:`shorten`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Document, Section

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = [
    "DOCX_SUFFIXES",
    "FORMAT_NAMES",
    "HTML_SUFFIXES",
    "PDF_SUFFIXES",
    "RST_SUFFIXES",
    "MARKDOWN_SUFFIXES",
    "TEXT_SUFFIXES",
    "SectionBuilder",
    "as_sentence",
    "clean_display",
    "clean_for_speech",
    "ensure_has_text",
    "decode_text",
    "format_name",
    "handles",
    "is_url",
    "normalize_space",
    "prettify_stem",
    "read_bytes",
    "read_source",
    "shorten",
    "sniff_format",
    "split_clause",
    "split_sentences",
    "words",
]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
RST_SUFFIXES = frozenset({".rst", ".rest"})
PDF_SUFFIXES = frozenset({".pdf"})
DOCX_SUFFIXES = frozenset({".docx"})

# Format names each ingest provider answers to (``-i format=NAME``); the first
# is the provider's name and the ``Document.format`` it produces.
FORMAT_NAMES: dict[str, frozenset[str]] = {
    "markdown": frozenset({"markdown", "md"}),
    "text": frozenset({"text", "txt", "plain"}),
    "html": frozenset({"html", "htm"}),
    "rst": frozenset({"rst", "rest", "restructuredtext"}),
    "pdf": frozenset({"pdf"}),
    "docx": frozenset({"docx", "word"}),
}
_SUFFIX_FORMAT = {
    **dict.fromkeys(MARKDOWN_SUFFIXES, "markdown"),
    **dict.fromkeys(HTML_SUFFIXES, "html"),
    **dict.fromkeys(RST_SUFFIXES, "rst"),
    **dict.fromkeys(PDF_SUFFIXES, "pdf"),
    **dict.fromkeys(DOCX_SUFFIXES, "docx"),
    ".txt": "text",
    ".text": "text",
}

_FIX = "pass a Markdown, text, HTML, reStructuredText, PDF or DOCX file"
_SNIFF_BYTES = 8192
# Leading markup of an HTML page (WHATWG HTML, "sniffing a mislabeled feed" and
# the MIME Sniffing Standard's HTML patterns): checked on the first bytes.
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|title|meta|script|iframe|h1|div|table|font|a|style|br|p)[\s>]",
    re.IGNORECASE | re.DOTALL,
)
# Lines only reStructuredText has: explicit markup (directive, substitution,
# link target), or a title with an over- and underline.
_RST_MARKS = re.compile(
    r"^\.\. (?:[\w-]+::|\|[^|]+\| |_[^:]+:)|^([=\-~*#^\"+])\1{2,}\n[^\n]+\n\1{3,}$",
    re.MULTILINE,
)


def is_url(source: Path | str) -> bool:
    """True for an ``http://`` or ``https://`` URL given as text (not a path)."""
    return isinstance(source, str) and source.strip().lower().startswith(("http://", "https://"))


def format_name(format: str) -> str:
    """The canonical format for a ``-i format=NAME`` value (``md`` -> ``markdown``).

    Raises:
        InvalidInputError: ``format`` is not a format any ingest provider reads.
    """
    name = format.strip().lower()
    for canonical, names in FORMAT_NAMES.items():
        if name in names:
            return canonical
    known = ", ".join(FORMAT_NAMES)
    raise InvalidInputError(f"unknown document format {format!r}; use one of: {known}")


def sniff_format(source: Path | str) -> str:
    """The format of the file at ``source``, from its first bytes and its suffix.

    Order: magic bytes first (``%PDF-`` in the first 1024 bytes, ISO 32000-2
    7.5.2 and the tolerance readers apply; a ZIP holding ``word/document.xml``,
    ECMA-376 Part 2), since a PDF named ``.txt`` is still a PDF; then the
    suffix; then, for a file without a known suffix, leading HTML markup or
    reStructuredText explicit markup. Anything else is ``"text"`` (whose reader
    refuses binary data). A file that cannot be opened gets its suffix's format
    (or ``"text"``) so the reader reports why.
    """
    path = Path(source)
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return _SUFFIX_FORMAT.get(suffix, "text")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") and _is_docx(path):
        return "docx"
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    if _HTML_START.match(head):
        return "html"
    try:
        text = head.decode("utf-8", errors="ignore").replace("\r\n", "\n")
    except ValueError:  # pragma: no cover - errors="ignore" never raises
        return "text"
    if _RST_MARKS.search(text):
        return "rst"
    return "text"


def _is_docx(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def handles(
    source: Path | str,
    format: str | None,
    names: set[str] | frozenset[str],
    suffixes: frozenset[str] = frozenset(),
) -> bool:
    """True when a plugin whose format names are ``names`` should parse ``source``.

    An explicit ``format`` decides alone (an unknown name raises); with
    ``format=None`` the format :func:`sniff_format` finds must be in ``names``
    (``suffixes`` is kept for callers of the earlier signature and unused). A
    URL is never handled here: the ``url`` provider fetches it first.

    Raises:
        InvalidInputError: ``format`` names no known format.
    """
    del suffixes
    if is_url(source):
        return False
    if format is not None:
        return format_name(format) in names
    return sniff_format(source) in names


def read_bytes(source: Path | str) -> bytes:
    """The bytes of the file at ``source``.

    Raises:
        InvalidInputError: the file is missing, a directory, or unreadable.
    """
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"cannot read {path}: no such file; {_FIX}") from None
    except IsADirectoryError:
        raise InvalidInputError(f"cannot read {path}: it is a directory; {_FIX}") from None
    except OSError as err:
        raise InvalidInputError(f"cannot read {path}: {err.strerror or err}; {_FIX}") from err


# Byte-order marks (Unicode 15, section 23.8), longest first: UTF-32 LE starts
# with the UTF-16 LE mark.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


def decode_text(data: bytes, source: Path | str) -> str:
    """Decode a text file's bytes; newlines normalised to ``\\n``, a BOM dropped.

    UTF-8 is tried first (exact); a byte-order mark decides UTF-16/32; other
    bytes go to charset-normalizer (cp1252, GB18030, Shift_JIS, ...). Bytes
    with NULs and no BOM, or that no encoding decodes, are binary.

    Raises:
        InvalidInputError: binary data, or no text encoding fits.
    """
    text: str | None = None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec.replace("-sig", ""))
            except UnicodeDecodeError:
                text = None
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            if b"\x00" not in data:
                text = _detect(data)
            if text is None:
                byte = data[err.start]
                raise InvalidInputError(
                    f"cannot read {source}: not UTF-8 text nor any text encoding "
                    f"(byte 0x{byte:02x} at offset {err.start}: binary data?); {_FIX}"
                ) from None
    if "\x00" in text:
        raise InvalidInputError(
            f"cannot read {source}: binary data (NUL bytes), not UTF-8 or other text; {_FIX}"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None
    text = str(best)
    # control characters other than whitespace mean the "text" is binary
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f\v")
    return None if controls > len(text) / 100 else text


def read_source(source: Path | str) -> str:
    """Read a text file in whatever encoding it uses (see :func:`decode_text`).

    Raises:
        InvalidInputError: the file is missing, unreadable, or not text
            (undecodable bytes or NUL bytes, as in images and archives).
    """
    return decode_text(read_bytes(source), source)


def ensure_has_text(document: Document, source: Path | str) -> Document:
    """Return ``document`` unless it holds no text at all.

    Raises:
        InvalidInputError: no heading, paragraph, list item or code has text.
    """
    for section in document.sections:
        if section.level > 0 and section.heading.strip():
            return document
        for block in section.blocks:
            if block.text.strip() or any(item.strip() for item in block.items):
                return document
    raise InvalidInputError(
        f"{source} is empty: it has no text (only whitespace or markup); "
        "pass a document with headings and paragraphs"
    )


def ingested(document: Document, source: Path | str, ctx: NodeContext) -> Document:
    """What every ingest provider returns: ``document`` checked for text, and logged.

    Raises:
        InvalidInputError: the document has no text (see :func:`ensure_has_text`).
    """
    document = ensure_has_text(document, source)
    ctx.log.info(
        f"ingested {document.format}",
        source=str(source),
        sections=len(document.sections),
        links=len(document.links),
    )
    return document


def prettify_stem(source: Path | str) -> str:
    """A title from a file name: ``getting_started-guide.md`` -> ``Getting started guide``."""
    stem = Path(source).stem
    text = normalize_space(re.sub(r"[_\-.]+", " ", stem))
    if not text:
        return "Untitled"
    return text[0].upper() + text[1:]


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace into one space and strip the ends."""
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits) of ``text``."""
    return re.findall(r"[a-z0-9]+", text.lower())


class SectionBuilder:
    """Collects headings and blocks in document order into sections.

    Blocks before the first heading go to a level-0 section whose heading is
    filled in with the title by :meth:`build`.
    """

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.first_h1: str | None = None

    def heading(self, text: str, level: int) -> None:
        text = normalize_space(text)
        if not text:
            return
        if level == 1 and self.first_h1 is None:
            self.first_h1 = text
        self.sections.append(Section(heading=text, level=level))

    def add(self, block: Block) -> None:
        if not (block.text.strip() or block.items):
            return
        if not self.sections:
            self.sections.append(Section(heading="", level=0))
        self.sections[-1].blocks.append(block)

    def build(self, fallback_title: str) -> tuple[str, list[Section]]:
        """Return ``(title, sections)``: title is the first H1, else ``fallback_title``."""
        title = self.first_h1 or fallback_title
        for section in self.sections:
            if section.level == 0 and not section.heading:
                section.heading = title
        return title, self.sections


# -- cleaning -----------------------------------------------------------------

_URL = re.compile(r"(?:https?|ftp)://\S*|www\.[^\s)]*", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
# Emoji and pictographs: Misc Symbols, Dingbats, arrows block B, the
# supplementary symbol planes, regional indicators, variation selector 16 and
# the zero-width joiner (Unicode emoji data, UTS #51).
_EMOJI = re.compile(
    "[\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\ufe0f\u200d\U0001f000-\U0001faff\U0001f1e6-\U0001f1ff]"
)
_MARKUP = re.compile(r"\*\*|__|~~|[`#\[\]|*\\{}^]")

# Spoken replacements, applied in order (case-insensitive, word-bounded).
_ABBREVIATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\be\.\s?g\.(?=\W|$)", re.I), "for example"),
    (re.compile(r"\bi\.\s?e\.(?=\W|$)", re.I), "that is"),
    (re.compile(r"\betc\.(?=\s*$)", re.I), "and so on."),
    (re.compile(r"\betc\.", re.I), "and so on"),
    (re.compile(r"\bvs\.(?=\s)", re.I), "versus"),
    (re.compile(r"\bcf\.(?=\s)", re.I), "compare"),
    (re.compile(r"\bapprox\.(?=\s)", re.I), "approximately"),
    (re.compile(r"\bC#", re.I), "C sharp"),
    (re.compile(r"\bF#"), "F sharp"),
    (re.compile(r"\s*(?:->|=>|\u2192)\s*"), " to "),
    (re.compile(r"\s*>=\s*(?=\S)"), " at least "),
    (re.compile(r"\s*<=\s*(?=\S)"), " at most "),
    (re.compile(r"\s&\s"), " and "),
    (re.compile(r"~(?=\s?\d)"), "about "),
    (re.compile(r"\s<\s"), " less than "),
    (re.compile(r"\s>\s"), " greater than "),
]


# "???" where an encoder replaced characters it lacked (a Shift_JIS file made
# from Unicode text): noise between two words, never something to read.
_REPLACED = re.compile(r"\?{3,}(?=\s)")


def clean_display(text: str) -> str:
    """Plain text for the screen: no URLs, HTML, Markdown syntax or emoji.

    Identifiers keep their underscores; abbreviations are left as written;
    a run of three or more "?" before a space (an encoder's replacement
    characters) is dropped.
    """
    text = _REPLACED.sub("", _strip_leftovers(text))
    text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = re.sub(r"\*\*|__|~~|[`#\[\]|\\{}^]|[<>](?!=)", " ", text)
    text = re.sub(r"(?<!\w)\*|\*(?!\w)", " ", text)
    return _tidy(text)


def clean_for_speech(text: str) -> str:
    """Text a speech engine can read aloud.

    Removes URLs, HTML tags and comments, Markdown syntax (``**``, ``#``,
    backticks, brackets, ``|``), emoji; spells out ``e.g.``, ``i.e.``,
    ``etc.``, ``vs.``, arrows and ``&``; reads ``snake_case`` as words.
    Returns ``""`` when nothing speakable is left.
    """
    text = _strip_leftovers(text)
    text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    for pattern, spoken in _ABBREVIATIONS:
        text = pattern.sub(spoken, text)
    text = _MARKUP.sub(" ", text)
    text = text.replace("<", " ").replace(">", " ")
    text = re.sub(r"(?<=\w)_(?=\w)", " ", text).replace("_", " ")
    text = re.sub(r"(?<![\w-])--?(?=[a-z])", "", text)  # command-line flags: --json
    text = _tidy(text)
    return text if re.search(r"[^\W\d_]", text) else ""


# reStructuredText and Markdown leftovers that carry no words (docutils
# reference, "Directives", "Inline markup" and "Sections"): a directive with
# its argument (.. code-block:: python), an embedded link target
# `text <url>`_, a reference name's trailing underscore (Docs_), a role
# (:class:), a substitution reference (|PyPI|, an image), a heading underline
# or overline (=====, -----).
_LEFTOVERS = [
    (re.compile(r"\.\.\s+[a-z][\w-]*::(?:[ \t]+[\w+#.-]+(?=\s|$))?"), " "),  # ".. code:: bash"
    (re.compile(r"\s*<(?:(?:https?|ftp)://|www\.|mailto:)[^<>\s]*>_{0,2}", re.I), " "),
    (re.compile(r"(?<=[\w`])_{1,2}(?=[\s.,;:!?)]|$)"), ""),
    (re.compile(r"(?<![\w:/]):[a-z][\w+.-]*:(?=[`\w])"), ""),
    (re.compile(r"\|[^|\s](?:[^|]*[^|\s])?\|_{0,2}"), " "),
    (re.compile(r"(?:^|(?<=\s))(?:={3,}|-{3,}|~{3,}|\^{3,}|\+{3,}|\*{3,}|#{3,})(?=\s|$)"), " "),
]


def _strip_leftovers(text: str) -> str:
    for pattern, replacement in _LEFTOVERS:
        text = pattern.sub(replacement, text)
    return text


def _tidy(text: str) -> str:
    # "()" or "(see )" left after removing a URL
    text = re.sub(
        r"\(\s*(?:(?:or|and|see|at|via|from|on|in)\b)?\s*[,;:.]*\s*\)", " ", text, flags=re.I
    )
    text = re.sub(r"(?<!\.)\.\s*\)", ")", text)  # "(gen ai.)"
    text = normalize_space(text)
    text = re.sub(r"\s+([,;:!?)]|\.(?![\w/]))", r"\1", text)  # not "./configure"
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    return text.strip(" ,;")


# -- sentences ----------------------------------------------------------------

# A candidate boundary: terminal punctuation, optional closing quote/bracket,
# whitespace, then something that can start a sentence. "3.11" never matches
# (no space after the dot).
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_NO_BREAK_AFTER = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|No|Nos|Fig|Figs|Eq|Vol|Ch|Sec|Inc|Ltd|Co|Corp|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|vs|al)"
    r"|\b[A-Z]|\b[a-z]\.[a-z])\.[\"')\]]*$"
)


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences.

    Does not break after titles and common abbreviations (``Dr.``, ``Fig.``,
    ``vs.``), single initials (``J. R.``, ``U.S.``) or inside numbers
    (``3.11``). Text without terminal punctuation is one sentence.
    """
    text = normalize_space(text)
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()] + text[match.start() : match.end()].rstrip()
        if _NO_BREAK_AFTER.search(head):
            continue
        pieces.append(head.strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def as_sentence(text: str) -> str:
    """End ``text`` with terminal punctuation (``.`` replaces a trailing ``:;,``)."""
    text = text.rstrip()
    if not text:
        return text
    if text[-1] in ":;,-\u2013\u2014":
        text = text[:-1].rstrip()
    if text and text[-1] not in ".!?\u2026":
        text += "."
    return text


_CLAUSE = re.compile(r"[,;:]\s|\s[\u2013\u2014-]\s|\s\(")


def shorten(text: str, limit: int = 70) -> str:
    """Shorten an on-screen line to at most ``limit`` characters.

    Cuts at the last clause boundary (``,`` ``;`` ``:`` dash, ``(``) that keeps
    at least a third of the limit, else at the last word boundary, and ends
    with an ellipsis. A trailing period is dropped.
    """
    text = normalize_space(text).rstrip(".")
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    cuts = [m.start() for m in _CLAUSE.finditer(room) if m.start() >= limit // 3]
    if cuts:
        return text[: cuts[-1]].rstrip(" ,;:.") + "\u2026"
    space = room.rfind(" ")
    cut = space if space >= limit // 3 else limit - 1
    return text[:cut].rstrip(" ,;:-.") + "\u2026"


_PUNCTUATION_SPLIT = re.compile(r"[,;:]\s|\s[\u2013\u2014-]\s")
_WORD_SPLIT = re.compile(
    r"\s(?:and|but|or|so|because|which|that|with|for|by|when|while|"
    r"using|to|in|on|under|from|into)\s"
)


def split_clause(text: str) -> list[str]:
    """Split one line into two parts at the clause boundary nearest its middle.

    Punctuation (``,`` ``;`` ``:`` dash) is preferred to a connective word
    (``and``, ``with``, ``under``...); with neither, the words are halved with
    ellipses. Returns ``[text]`` for fewer than four words.
    """
    text = normalize_space(text).rstrip(".")
    for pattern, keep_separator in ((_PUNCTUATION_SPLIT, False), (_WORD_SPLIT, True)):
        middle = len(text) / 2
        best: tuple[float, int, int] | None = None
        for match in pattern.finditer(text):
            head = text[: match.start()]
            if len(head.split()) < 2 or not text[match.end() :].strip():
                continue
            if head.count("(") > head.count(")"):  # never inside parentheses
                continue
            distance = abs(match.start() - middle)
            if best is None or distance < best[0]:
                best = (distance, match.start(), match.end())
        if best is not None:
            _, start, end = best
            # a connective word ("with", "under") stays at the head of the second part
            right = text[start:].strip() if keep_separator else text[end:]
            return [text[:start].rstrip(" ,;:"), right[0].upper() + right[1:]]
    halves = text.split()
    if len(halves) >= 4:  # no boundary at all: two halves of the words
        cut = len(halves) // 2
        return [" ".join(halves[:cut]) + "\u2026", "\u2026" + " ".join(halves[cut:])]
    return [text]
