"""The language of a document: detection, BCP 47 tags, and how its script is written.

Detection uses py3langid (BSD, a modernised langid.py: a naive Bayes model
over byte n-grams of 97 languages, shipped inside the package, milliseconds
per document). Its model ships LZMA-compressed: decompressing it took 0.45 of
the 0.56 CPU s a run spent loading it, so the first run keeps it
decompressed in the user's cache folder (68 MB; :func:`_cached_model`) and
later runs load it in ~0.1 s. It is run on the document's prose only
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
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InvalidInputError

if TYPE_CHECKING:
    from reelgraph.models import Document

__all__ = [
    "MIN_CONFIDENCE",
    "MIN_LETTERS",
    "NEIGHBOUR_MIN_SHARE",
    "PASSAGE_MIN_CONFIDENCE",
    "PASSAGE_MIN_LETTERS",
    "detect_language",
    "document_language",
    "is_latin_text",
    "is_wide",
    "normalize_tag",
    "passage_languages",
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


def is_latin_text(text: str) -> bool:
    """True when ``text`` has letters and every one is a Latin letter (``"Yes."``,
    ``"Ça va。"``); False for any Han, kana, Hangul, Cyrillic or full-width letter
    (``"Debian GNU/Linux は:"``). Digits, spaces and punctuation, full-width or
    not, do not count. Letters are told by their Unicode name (``LATIN ...``)."""
    seen = False
    for ch in text:
        if not ch.isalpha():
            continue
        if not (ch.isascii() or unicodedata.name(ch, "").startswith("LATIN ")):
            return False
        seen = True
    return seen


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

    shipped = MODEL_DIR / MODEL_FILE
    cached = _cached_model(shipped)
    if cached is not None:
        try:
            return _load_uncompressed(cached, LanguageIdentifier)
        except Exception:  # noqa: BLE001 -- numpy/zipfile raise many kinds for a bad file
            # a damaged or foreign cache file: drop it (the next run writes it
            # again) and load the shipped model, which still works
            cached.unlink(missing_ok=True)
    return LanguageIdentifier.from_modelpath(shipped, norm_probs=True)


def _cached_model(shipped: Path) -> Path | None:
    """py3langid's model decompressed into the user's cache folder, written on first use.

    ``<user cache>/reelgraph/py3langid-<version>-<size>-<mtime_ns>.npz``
    (platformdirs; ``$XDG_CACHE_HOME`` on Linux), so an upgraded model is
    decompressed again. Written to a temporary file and renamed into place,
    so a reader never sees half a file. ``None`` where the folder cannot be
    written (the caller loads the compressed model).
    """
    import lzma
    import os
    import shutil
    import tempfile
    from importlib import metadata

    import platformdirs

    try:
        stat = shipped.stat()
        version = metadata.version("py3langid")
        folder = Path(platformdirs.user_cache_dir("reelgraph", appauthor=False))
        target = folder / f"py3langid-{version}-{stat.st_size}-{stat.st_mtime_ns}.npz"
        if target.is_file():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as out:
            try:
                with lzma.open(shipped) as src:
                    shutil.copyfileobj(src, out, length=1 << 20)
            except BaseException:
                out.close()
                os.unlink(out.name)
                raise
        os.replace(out.name, target)
        return target
    except (OSError, lzma.LZMAError, metadata.PackageNotFoundError):
        return None


def _load_uncompressed(path: Path, identifier: Any) -> Any:
    """A ``LanguageIdentifier`` from the uncompressed npz, as py3langid's
    ``modelio.load_model`` builds it from the compressed one."""
    import numpy as np
    from py3langid.modelio import _to_array

    with np.load(path, allow_pickle=False) as data:
        ptc, pc, classes = data["ptc"], data["pc"], data["classes"].tolist()
        nextmove, row = _to_array(data["nextmove"]), _to_array(data["nextmove_row"])
        output = data["out_feat"].tolist()
    return identifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


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


#: A sentence is told to be in another language than its document's only with at
#: least this many letters (shorter ones are unreliable: "Yes." comes out Kabyle)...
PASSAGE_MIN_LETTERS = 30
#: ...and this normalised probability. Measured on the corpus's 17 non-English
#: documents: every sentence over both bounds that was detected as English was
#: English (untranslated passages of the Debian FAQ and maint-guide, licence notices).
PASSAGE_MIN_CONFIDENCE = 0.9
#: A sentence next to a passage joins it when, of the two languages alone, the
#: passage's has at least this share of the probability (3 to 1 odds). Measured
#: with py3langid on short sentences: "Yes." 0.86 English against French (0.83
#: against German), "See below." 0.81 against German; "Installation." 0.55-0.68,
#: "Ok." 0.61, "Debian GNU/Linux." 0.41-0.43 (names, either language); "Oui." 0.12,
#: "Siehe unten." 0.002, "La distribution « unstable »." 0.015.
NEIGHBOUR_MIN_SHARE = 0.75

#: Documents written in Han, kana or Hangul: only their Latin-script sentences can
#: be passages in another language (:func:`passage_languages`).
_CJK = frozenset({"ja", "zh", "ko", "cmn", "yue", "wuu", "lzh"})


def passage_languages(
    sentences: Sequence[str], language: str | None, others: Iterable[str] = ("en",)
) -> list[str | None]:
    """Per sentence, the language among ``others`` it is clearly written in, when that
    is not ``language``; ``None`` for a sentence in the document's language or unsure.

    A sentence starts a passage when it has :data:`PASSAGE_MIN_LETTERS`
    letters or more and detection gives one of ``others`` with at least
    :data:`PASSAGE_MIN_CONFIDENCE`. In a Chinese, Japanese or Korean document
    only sentences in the Latin script alone (:func:`is_latin_text`) can be
    passages, and one of 30 letters or more starts a passage when, of the
    document's language and the other alone, the other has
    :data:`NEIGHBOUR_MIN_SHARE` of the probability: its voice spells Latin
    words out letter by letter (espeak's Japanese), and detection over 97
    languages is less sure of English product names than this choice of two.

    Context decides the rest: a sentence next to a passage joins it when, of
    the two languages alone, the passage's has :data:`NEIGHBOUR_MIN_SHARE`
    of the probability, whatever its length: "Yes." before an untranslated
    English answer in the French FAQ (detected alone as Kabyle), "See the
    Debian GNU/Linux Installation Guide for more information." after it
    (English at only 0.56 over all languages). Joining repeats, so a run of
    short sentences joins too; a short sentence with no passage beside it
    keeps the document's language. Only English is looked for by default: it
    is what untranslated passages of translated documents are written in, and
    the language detection is surest of on technical text. ``[None, ...]``
    without ``language`` or when ``language`` is itself one of ``others``.
    """
    wanted = [primary_subtag(tag) for tag in others]
    home = primary_subtag(language)
    if not home or home in wanted:
        return [None] * len(sentences)
    home = "zh" if home in ("cmn", "yue", "wuu", "lzh") else home  # py3langid's tag
    cjk = home in _CJK
    identifier = _identifier()
    found: list[str | None] = []
    shares: list[dict[str, float]] = []  # per sentence: each wanted language against home
    for sentence in sentences:
        letters = sum(ch.isalpha() for ch in sentence)
        if not letters or (cjk and not is_latin_text(sentence)):
            found.append(None)
            shares.append({})
            continue
        ranked = dict(identifier.rank(sentence))
        ours = ranked.get(home, 0.0)
        share = {tag: ranked.get(tag, 0.0) / (ranked.get(tag, 0.0) + ours or 1.0) for tag in wanted}
        shares.append(share)
        best = max(ranked, key=ranked.__getitem__)
        if letters < PASSAGE_MIN_LETTERS:
            found.append(None)
        elif cjk:
            tag = max(share, key=share.__getitem__)
            found.append(tag if share[tag] >= NEIGHBOUR_MIN_SHARE else None)
        elif best in wanted and ranked[best] >= PASSAGE_MIN_CONFIDENCE:
            found.append(best)
        else:
            found.append(None)
    changed = True
    while changed:  # a run of neighbours joins one by one
        changed = False
        for i in range(len(found)):
            if found[i] is not None:
                continue
            for beside in dict.fromkeys(found[max(0, i - 1) : i] + found[i + 1 : i + 2]):
                if beside is not None and shares[i].get(beside, 0.0) >= NEIGHBOUR_MIN_SHARE:
                    found[i] = beside
                    changed = True
                    break
    return found


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
