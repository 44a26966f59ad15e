"""The language of a document: detection, BCP 47 tags, and how its script is written.

Detection uses py3langid (BSD, a modernised langid.py: a naive Bayes model
over byte n-grams of 97 languages, shipped inside the package, ~0.5 s to load
once, milliseconds per document). It is run on the document's prose only
(paragraphs, quotes, list items), never on code blocks or headings alone,
with its probabilities normalised: a guess under :data:`MIN_CONFIDENCE` or
on fewer than :data:`MIN_LETTERS` letters is no answer (``None``).

Chinese and Japanese are written without spaces between words
(:func:`writes_without_spaces`): sentence and caption code breaks their text
between characters, not at spaces; slide and caption lines prefer the ends
of phrases (:func:`phrase_starts`, BudouX).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InvalidInputError

if TYPE_CHECKING:
    from reelgraph.models import Document

__all__ = [
    "MIN_CONFIDENCE",
    "MIN_LETTERS",
    "detect_language",
    "document_language",
    "is_wide",
    "normalize_tag",
    "phrase_starts",
    "primary_subtag",
    "script_language",
    "writes_without_spaces",
]

#: Below this normalised probability a detection is not trusted (langid.py's
#: probabilities are near 1.0 for a paragraph of real text and fall to
#: 0.1-0.5 for a few words or mixed languages).
MIN_CONFIDENCE = 0.5
#: Fewer letters than this is too little text to tell a language from
#: (about one sentence; langid.py is unreliable on a handful of words).
MIN_LETTERS = 20
#: Prose characters read for detection: a long document's first ~20,000
#: characters decide as well as all of it, at bounded cost.
_SAMPLE_CHARS = 20_000

#: Languages written without spaces between words.
_NO_SPACES = frozenset({"zh", "ja", "yue", "cmn", "wuu", "lzh"})
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def normalize_tag(tag: str, *, what: str = "language") -> str:
    """A BCP 47 tag in its usual case: ``"EN_us"`` -> ``"en-US"``, ``"zh-hans"`` -> ``"zh-Hans"``.

    Raises:
        InvalidInputError: ``tag`` is not shaped like a language tag (a 2-3
            letter primary subtag, then ``-`` separated subtags).
    """
    text = str(tag).strip()
    if not _TAG.match(text):
        raise InvalidInputError(
            f"{what} {tag!r} is not a BCP 47 language tag; use one such as "
            "'en', 'fr', 'de', 'zh' or 'ja' (or leave it unset to detect it)"
        )
    parts = text.replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())  # script: Hans, Latn
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())  # region: US, TW
        else:
            out.append(part.lower())
    return "-".join(out)


def primary_subtag(language: str | None) -> str:
    """The primary subtag, lower-case: ``"zh-Hant-TW"`` -> ``"zh"``; ``""`` for ``None``."""
    if not language:
        return ""
    return language.strip().replace("_", "-").split("-")[0].lower()


def writes_without_spaces(language: str | None) -> bool:
    """True for languages written without spaces between words (Chinese, Japanese)."""
    return primary_subtag(language) in _NO_SPACES


def is_wide(char: str) -> bool:
    """True for a full-width character (East Asian Width ``W`` or ``F``, Unicode UAX #11)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


@lru_cache(maxsize=2)
def _phrase_parser(language: str) -> Any:
    import budoux

    if language == "ja":
        return budoux.load_default_japanese_parser()
    return budoux.load_default_simplified_chinese_parser()


def phrase_starts(text: str) -> frozenset[int] | None:
    """Offsets in ``text`` where a Chinese or Japanese phrase starts, or ``None`` when it has
    no Han or kana.

    BudouX (Google's phrase segmenter for line breaking, Apache-2.0; a few
    kilobytes of model in the wheel) finds them: "多数の|パッケージを|指す".
    Kana picks the Japanese model, Han alone the Simplified Chinese one.
    """
    kana = any("\u3040" <= ch <= "\u30ff" for ch in text)
    han = kana or any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)
    if not han:
        return None
    starts, at = set(), 0
    for phrase in _phrase_parser("ja" if kana else "zh").parse(text):
        starts.add(at)
        at += len(phrase)
    return frozenset(starts)


def script_language(text: str) -> str | None:
    """A language guessed from the writing system alone, for text too short to detect.

    ``"ja"`` when the letters include kana, ``"zh"`` when most are Han
    ideographs, ``"ko"`` when most are Hangul; else ``None``. Caption code
    uses it to pick line and speed limits when no language was given.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    kana = sum(1 for ch in letters if "\u3040" <= ch <= "\u30ff")
    han = sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")
    hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff")
    if kana and (kana + han) * 2 > len(letters):
        return "ja"
    if han * 2 > len(letters):
        return "zh"
    if hangul * 2 > len(letters):
        return "ko"
    return None


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The language of ``text`` as a BCP 47 primary tag (``"fr"``), or ``None`` when unsure.

    ``None`` for fewer than :data:`MIN_LETTERS` letters or a normalised
    probability under :data:`MIN_CONFIDENCE`.
    """
    sample = text[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    language, probability = _identifier().classify(sample)
    if probability < MIN_CONFIDENCE:
        return None
    return str(language)


def document_language(document: Document) -> str | None:
    """The document's language: detected from its prose, else ``Document.language``.

    Detection reads the prose (paragraph, quote and list text, markup
    removed), not headings or code. A language the source declares
    (``Document.language``: HTML ``lang``, a Word file's default language)
    is kept when detection agrees on the primary language or is unsure; when
    detection is sure of another, detection wins: a Word file made from an
    English template declares ``en-US`` whatever its text is (seen on a
    Chinese Debian FAQ). ``None`` when neither gives an answer.
    """
    declared = None
    if document.language:
        declared = normalize_tag(document.language, what=f"document {document.source} language")
    detected = _detect_prose(document)
    if declared and (detected is None or primary_subtag(detected) == primary_subtag(declared)):
        return declared
    return detected or declared


def _detect_prose(document: Document) -> str | None:
    from reelgraph.plugins._text import clean_display

    parts: list[str] = []
    size = 0
    for section in document.sections:
        for block in section.blocks:
            if block.kind in ("paragraph", "quote"):
                texts = [block.text]
            elif block.kind == "list":
                texts = list(block.items)
            else:
                continue
            for text in texts:
                cleaned = clean_display(text)
                parts.append(cleaned)
                size += len(cleaned) + 1
            if size >= _SAMPLE_CHARS:
                return detect_language("\n".join(parts))
    return detect_language("\n".join(parts))
