"""Text normalisation for speech: what a person says for what a document writes.

Every speech provider reads :attr:`Spoken.text`; captions keep the sentence as
written (``SpeechSegment.text``). :meth:`Spoken.source_index` maps a character
offset in the spoken text back to the written one, so engine word events
(which point into the spoken text) still name the written words.

Only what the engine gets wrong is rewritten. espeak-ng (which also
phonemises for piper) already reads plain and grouped numbers (``12,345``),
decimals, ``%``, ordinals (``3rd``, ``21st``), ``&``, ``+``, ``C++``, years
from 2000 and most acronyms (API, URL, JSON, SQL, GPU, HTTP, YAML, PDF, CSS,
SDK, macOS) correctly; that was checked by phonemising each case with
``espeak_TextToPhonemes`` (en-us voice, espeak-ng 1.52 from espeakng-loader).
Rewritten here, because espeak misreads them:

- versions with two or more dots (``1.11.3`` → "one point eleven point
  three"; espeak says "one point one one point three") and ``v2`` / ``v2.1``;
- units after a number (``5 MB``, ``10 ms``, ``30 fps``, ``48 kHz``,
  ``200 MB/s``, ``2x``): espeak spells them as letters;
- video heights (``1080p`` → "ten eighty p"; espeak: "one thousand eighty p");
- currency (``$5``, ``€10``, ``£3.50``): espeak says "dollar five";
- ISO dates (``2024-05-01`` → "May first, twenty twenty-four");
- years 1100-1999 after "in", "since", "from"... ("nineteen ninety-nine";
  espeak: "nineteen hundred ninety nine");
- abbreviations ``i.e.``, ``vs.``, ``approx.``, ``w/`` (espeak: "eye ee", "vee
  ess"); ``e.g.`` and ``etc.`` espeak reads well and they are left alone;
- ``C#``, ``F#``, ``.NET``, ``~5`` ("about five"), ``/`` between words (read as
  a pause: "read/write" → "read write");
- acronyms espeak reads as a word although people spell them (CLI, CI, UX,
  IO, EOL, ORM) or the reverse (SaaS → "sass", ONNX → "onyx").

Number words come from num2words (``lang`` = the script's language). The
unit, date, year and abbreviation rules are English; for another language
only versions, currency and ``C#``-style names are rewritten (the words
come from num2words in that language), and espeak's own rules do the rest.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

__all__ = ["Spoken", "normalize"]


@dataclass(frozen=True)
class Spoken:
    """A sentence as written (``source``) and as spoken (``text``).

    ``edits`` holds ``(source_start, source_end, spoken_start, spoken_end)``
    for every rewritten span, in order; outside them the two texts match
    character for character.
    """

    source: str
    text: str
    edits: tuple[tuple[int, int, int, int], ...] = field(default=())

    def source_index(self, spoken_index: int) -> int:
        """The offset in ``source`` of the character at ``spoken_index`` in ``text``.

        A character inside a rewritten span maps to the start of the written span.
        """
        k = bisect.bisect_right([e[2] for e in self.edits], spoken_index) - 1
        if k < 0:
            return min(spoken_index, len(self.source))
        source_start, source_end, spoken_start, spoken_end = self.edits[k]
        if spoken_index < spoken_end:
            return source_start
        return min(source_end + spoken_index - spoken_end, len(self.source))


def _words(number: int | Decimal | str, lang: str, **kwargs: str) -> str:
    """num2words' words; raises NotImplementedError where it has none (the text is kept)."""
    from num2words import num2words

    return str(num2words(number, lang=lang, **kwargs))


def _language(lang: str | None) -> str:
    """num2words' code for a BCP 47 tag (``pt-BR`` → ``pt_BR``, ``fr-CA`` → ``fr``).

    A language num2words lacks keeps its own code, so its number rules raise
    NotImplementedError and leave the text to the engine.
    """
    from num2words import CONVERTER_CLASSES

    tag = (lang or "en").replace("-", "_")
    parts = tag.split("_")
    for candidate in (f"{parts[0].lower()}_{parts[1].upper()}" if len(parts) > 1 else "", parts[0]):
        if candidate and candidate.lower() in {c.lower() for c in CONVERTER_CLASSES}:
            return next(c for c in CONVERTER_CLASSES if c.lower() == candidate.lower())
    return parts[0].lower()  # num2words has no words for it: number rules are skipped


# -- the rules ----------------------------------------------------------------------

_UNITS = {
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "KiB": ("kibibyte", "kibibytes"),
    "MB": ("megabyte", "megabytes"),
    "MiB": ("mebibyte", "mebibytes"),
    "GB": ("gigabyte", "gigabytes"),
    "GiB": ("gibibyte", "gibibytes"),
    "TB": ("terabyte", "terabytes"),
    "ns": ("nanosecond", "nanoseconds"),
    "µs": ("microsecond", "microseconds"),
    "us": ("microsecond", "microseconds"),
    "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"),
    "sec": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "fps": ("frame per second", "frames per second"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "dB": ("decibel", "decibels"),
    "LUFS": ("LUFS", "LUFS"),
    "px": ("pixel", "pixels"),
    "wpm": ("word per minute", "words per minute"),
    "kg": ("kilogram", "kilograms"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "x": ("times", "times"),
}
_PER = {"s": "per second", "sec": "per second", "min": "per minute", "h": "per hour"}

_CURRENCY = {
    "$": ("USD", "dollar", "dollars", "cent", "cents"),
    "€": ("EUR", "euro", "euros", "cent", "cents"),
    "£": ("GBP", "pound", "pounds", "penny", "pence"),
    "¥": ("JPY", "yen", "yen", "", ""),
}
_SCALE = {"k": "thousand", "K": "thousand", "M": "million", "m": "million", "B": "billion"}

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# spoken form of names espeak reads wrongly; the key is matched as a whole word
_NAMES = {
    "CLI": "C L I",
    "CI": "C I",
    "UX": "U X",
    "IO": "I O",
    "I/O": "I O",
    "EOL": "E O L",
    "ORM": "O R M",
    "SaaS": "sass",
    "ONNX": "onyx",
    "i.e.": "that is",
    "vs.": "versus",
    "vs": "versus",
    "approx.": "approximately",
    "w/": "with",
}
_ANY_LANGUAGE_NAMES = {"C#": "C sharp", "F#": "F sharp", ".NET": "dot net"}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"


def _plural(number: str) -> bool:
    return number.replace(",", "") not in {"1", "1.0"}


#: the word for the dot in a version number, by language (a person's reading)
_POINT = {"en": "point", "fr": "point", "de": "Punkt", "es": "punto", "it": "punto",
          "pt": "ponto", "nl": "punt"}  # fmt: skip


def _version(match: re.Match[str], lang: str) -> str:
    point = _POINT.get(lang[:2])
    if point is None:
        return match[0]  # espeak reads the digits in that language
    spoken = f" {point} ".join(_words(int(part), lang) for part in match["ver"].split("."))
    return f"version {spoken}" if match["v"] else spoken


def _unit(match: re.Match[str], lang: str) -> str:
    number, unit, per = match["num"], match["unit"] or match["unit2"], match["per"]
    one, many = _UNITS[unit]
    spoken = f"{number} {many if _plural(number) else one}"
    return f"{spoken} {_PER[per]}" if per else spoken


def _height(match: re.Match[str], lang: str) -> str:
    return f"{_words(int(match['height']), lang, to='year')} p"


def _money(match: re.Match[str], lang: str) -> str:
    code, one, many, cent, cents = _CURRENCY[match["cur"]]
    amount = match["amount"].replace(",", "")
    scale = match["scale"]
    try:
        value = Decimal(amount)
    except InvalidOperation:  # pragma: no cover - the pattern only matches numbers
        return match[0]
    if not lang.startswith("en"):
        return _foreign_money(value, code, lang) if not scale else match[0]
    if scale:
        return f"{_words(value, lang)} {_SCALE[scale]} {many}"
    whole = int(value)
    fraction = int((value - whole) * 100)
    spoken = f"{_words(whole, lang)} {one if whole == 1 else many}"
    if fraction and cent:
        spoken += f" and {_words(fraction, lang)} {cent if fraction == 1 else cents}"
    return spoken


def _foreign_money(value: Decimal, code: str, lang: str) -> str:
    """``value`` in ``code``, in num2words' words for ``lang`` ("dix euros").

    num2words always says the cents ("dix euros et zéro centimes"); for a
    whole amount the zero-cents tail is dropped.
    """
    spoken = _words(value, lang, to="currency", currency=code)
    if value == int(value):
        zero = re.escape(_words(0, lang))
        spoken = re.sub(rf"(?:,|\s+[^\W\d]{{1,3}})?\s+{zero}\s+\S+$", "", spoken)
    return spoken


def _date(match: re.Match[str], lang: str) -> str:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match[0]
    return (
        f"{_MONTHS[month - 1]} {_words(day, lang, to='ordinal')}, {_words(year, lang, to='year')}"
    )


def _year(match: re.Match[str], lang: str) -> str:
    return f"{match['prep']} {_words(int(match['year']), lang, to='year')}"


def _about(match: re.Match[str], lang: str) -> str:
    return "about "


def _slash(match: re.Match[str], lang: str) -> str:
    return " "


def _name(match: re.Match[str], lang: str) -> str:
    spoken = _NAMES.get(match["name"]) or _ANY_LANGUAGE_NAMES[match["name"]]
    if not match["plural"]:
        return spoken
    return spoken + ("'s" if spoken[-2:-1] == " " else "s")  # "C L I's", "sass"


def _any_name(match: re.Match[str], lang: str) -> str:
    return _ANY_LANGUAGE_NAMES[match["anyname"]]


def _alternation(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


_Rule = tuple[str, Callable[[re.Match[str], str], str]]
_ENGLISH_ONLY = {"_unit", "_height", "_date", "_year", "_about", "_slash", "_name"}

#: (pattern, spoken form), tried in this order at each position
_RULES: list[_Rule] = [
    (r"(?<![\w.])(?P<v>v)?(?P<ver>\d+\.\d+\.\d+(?:\.\d+)*)(?![\w.]*\d)", _version),
    (r"(?<![\w.])(?P<v>v)(?P<ver>\d+(?:\.\d+)?)\b", _version),
    (
        rf"(?<![\w$€£¥])(?P<cur>[$€£¥])\s?(?P<amount>{_NUMBER})(?P<scale>[kKmMB](?![\w]))?",
        _money,
    ),
    (r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b", _date),
    (
        r"\b(?P<prep>[Ii]n|[Ss]ince|[Ff]rom|[Uu]ntil|[Bb]y|[Bb]efore|[Aa]fter|[Tt]o|[Oo]f)"
        r" (?P<year>1[1-9]\d\d)\b(?!\.\d|,\d|\s?%)",
        _year,
    ),
    (r"\b(?P<height>240|360|480|720|1080|1440|2160|4320)p\b", _height),
    # "s" and "h" only after a space: "1990s" is a decade, "3s" may be anything
    (
        rf"(?<![^\s(~])(?P<num>{_NUMBER})(?:\s?(?P<unit>{_alternation(_UNITS.keys() - {'s', 'h'})})"
        r"|\s(?P<unit2>s|h))(?:/(?P<per>s|sec|min|h))?(?![\w/])",
        _unit,
    ),
    (r"(?<![\w~])~\s?(?=\d)", _about),
    (
        rf"(?<![\w.])(?P<name>{_alternation(_NAMES)}|{_alternation(_ANY_LANGUAGE_NAMES)})"
        r"(?P<plural>s)?(?![\w#+])",
        _name,
    ),
    (r"(?<=[^\W\d_])/(?=[^\W\d_])", _slash),
]
_ANY_LANGUAGE: list[_Rule] = [
    _RULES[0],
    _RULES[1],
    _RULES[2],
    (rf"(?<![\w.])(?P<anyname>{_alternation(_ANY_LANGUAGE_NAMES)})(?![\w#+])", _any_name),
]


def _compile(rules: list[_Rule]) -> tuple[re.Pattern[str], list[Callable[..., str]]]:
    groups = [f"(?P<_r{i}>{pattern})" for i, (pattern, _) in enumerate(rules)]
    # named groups repeat across rules: give each rule's groups a unique prefix
    renamed = []
    for i, group in enumerate(groups):
        renamed.append(re.sub(r"\(\?P<(?!_r)(\w+)>", rf"(?P<r{i}_\1>", group))
        renamed[-1] = re.sub(r"\(\?P=(\w+)\)", rf"(?P=r{i}_\1)", renamed[-1])
    return re.compile("|".join(renamed)), [fn for _, fn in rules]


_COMPILED = {"en": _compile(_RULES), "other": _compile(_ANY_LANGUAGE)}


class _Groups:
    """A match whose rule-prefixed group names read as the rule's own names."""

    def __init__(self, match: re.Match[str], rule: int) -> None:
        self._match, self._prefix = match, f"r{rule}_"

    def __getitem__(self, key: int | str) -> str:
        if key == 0:
            return self._match[0]
        return self._match.group(f"{self._prefix}{key}")  # type: ignore[no-any-return]


def normalize(text: str, language: str | None = None) -> Spoken:
    """Rewrite ``text`` for a speech engine; see the module docstring for the rules.

    Args:
        text: one sentence as it is shown in captions.
        language: its BCP 47 tag (``en``, ``fr``, ``pt-BR``); ``None`` means English.

    Returns:
        A :class:`Spoken` with the text to speak and the offset map back to ``text``.
    """
    lang = _language(language)
    pattern, functions = _COMPILED["en" if lang.startswith("en") else "other"]
    pieces: list[str] = []
    edits: list[tuple[int, int, int, int]] = []
    at = spoken_at = 0
    for match in pattern.finditer(text):
        rule = int(match.lastgroup[2:]) if match.lastgroup else -1
        try:
            spoken = functions[rule](_Groups(match, rule), lang)  # type: ignore[arg-type]
        except (NotImplementedError, KeyError, OverflowError):
            continue  # num2words cannot say it in this language: the engine reads it
        if spoken == match[0]:
            continue
        start, end = match.span()
        pieces.append(text[at:start])
        spoken_at += start - at
        edits.append((start, end, spoken_at, spoken_at + len(spoken)))
        pieces.append(spoken)
        spoken_at += len(spoken)
        at = end
    pieces.append(text[at:])
    return Spoken(source=text, text="".join(pieces), edits=tuple(edits))
