"""Fonts for the ``slides`` plugin: which characters a font has, and a font that has them all.

A character a font lacks is drawn as its ``.notdef`` glyph, an empty box
("tofu"). To never draw one, every string a slide draws is checked against
the *cmap* (character-to-glyph table, OpenType spec "cmap") of the font that
will draw it, read with fontTools. When the primary font (DejaVu, or
``options.font``) lacks some characters, fontconfig (``fc-match``, then
``fc-list``) is asked for an installed font that covers them, steered by the
script of the missing characters and the document's language (Han
characters look different in Japanese and Chinese: Noto Sans CJK JP and SC
are faces of one ``.ttc``). When no installed font covers them,
:func:`choose_faces` raises :class:`~reelgraph.errors.InvalidInputError`
naming the characters, their script and the package to install.

A face is a font file plus a face index (a ``.ttc`` collection holds several
faces; fontconfig's ``%{index}``, Pillow's ``truetype(index=)`` and
fontTools' ``TTFont(fontNumber=)`` all count from 0).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reelgraph.errors import InvalidInputError

__all__ = [
    "FONT_PACKAGE",
    "PILLOW_DEFAULT_CHARS",
    "FontFace",
    "choose_faces",
    "codepoints",
    "describe_chars",
    "drawn_chars",
    "font_chars",
    "font_package",
    "is_decoration",
    "language_for",
    "missing_chars",
    "script_of",
    "uncovered_chars",
]

#: The Debian package with fonts for Chinese, Japanese and Korean (Noto Sans CJK).
FONT_PACKAGE = "fonts-noto-cjk"
# Debian packages for what Noto CJK lacks (contents checked with dpkg -c):
# fonts-noto-core has Noto Sans for most other scripts (Devanagari, Ethiopic,
# Thai, even Linear B); fonts-symbola has outline emoji and symbols, which
# Pillow draws at any size (fonts-noto-color-emoji is a colour bitmap font).
_CJK_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Hang", "Bopo"})
_SYMBOLS_PACKAGE = "fonts-symbola"
_OTHER_PACKAGE = "fonts-noto-core"

#: What Pillow's built-in font (used only when no font file is found at all)
#: is assumed to cover: printable ASCII. Conservative: it may cover more.
PILLOW_DEFAULT_CHARS = frozenset(range(0x20, 0x7F))
# Printable ASCII is left out when choosing a language: every script's fonts carry it.
_ASCII = PILLOW_DEFAULT_CHARS

# fontconfig family and style for each role of the slides (fonts-conf(5):
# "sans-serif" and "monospace" are the generic aliases; weight=bold).
_FC_STYLE = {"sans": "sans-serif", "bold": "sans-serif:weight=bold", "mono": "monospace"}

# ISO 15924 script code (fontTools.unicodedata.script) -> the fontconfig
# language (RFC 3066 tag, fc-list --lang list) whose fonts usually cover it.
_SCRIPT_LANG = {
    "Hira": "ja",
    "Kana": "ja",
    "Hang": "ko",
    "Bopo": "zh-tw",
    "Cyrl": "ru",
    "Grek": "el",
    "Arab": "ar",
    "Hebr": "he",
    "Deva": "hi",
    "Beng": "bn",
    "Taml": "ta",
    "Telu": "te",
    "Gujr": "gu",
    "Guru": "pa",
    "Knda": "kn",
    "Mlym": "ml",
    "Thai": "th",
    "Laoo": "lo",
    "Khmr": "km",
    "Mymr": "my",
    "Geor": "ka",
    "Armn": "hy",
    "Ethi": "am",
    "Sinh": "si",
    "Tibt": "bo",
}
# Han-only text: the document's language picks the regional glyph forms
# (fontconfig's zh-cn/zh-tw/zh-hk/ja/ko); unknown or other languages get
# Simplified Chinese, as Japanese text nearly always also holds kana.
_HAN_LANG = {
    "ja": "ja",
    "ko": "ko",
    "zh": "zh-cn",
    "zh-cn": "zh-cn",
    "zh-sg": "zh-cn",
    "zh-hans": "zh-cn",
    "zh-tw": "zh-tw",
    "zh-hant": "zh-tw",
    "zh-hk": "zh-hk",
    "zh-mo": "zh-hk",
}


@dataclass(frozen=True, slots=True)
class FontFace:
    """One face of a font file: ``path`` and its ``index`` in a collection (0 for .ttf/.otf)."""

    path: Path
    index: int = 0

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else str(self.path)


def is_decoration(ch: str) -> bool:
    """Whether ``ch`` decorates text rather than spells it: dropping it loses no word.

    Emoji and other pictographs (Unicode general category So, "Symbol,
    other"), modifier symbols (Sk: skin tones), format characters (Cf: the
    zero-width joiner of emoji sequences, tag characters of flags),
    private-use characters (Co: icon fonts), variation selectors and the
    combining keycap U+20E3 (UTS #51, emoji sequences). Letters, digits,
    punctuation and mathematical or currency symbols are text.
    """
    cp = ord(ch)
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or cp == 0x20E3:
        return True
    return unicodedata.category(ch) in ("So", "Sk", "Cf", "Co")


def _ignorable(ch: str) -> bool:
    """Characters no glyph is drawn for: controls (Unicode category Cc) such as newline."""
    return unicodedata.category(ch) == "Cc"


def codepoints(texts: Iterable[str]) -> frozenset[int]:
    """The code points of every character drawn for ``texts`` (controls left out)."""
    return frozenset(ord(ch) for text in texts for ch in text if not _ignorable(ch))


def drawn_chars(texts: Iterable[str]) -> str:
    """Each character of ``texts`` once, in code point order (controls included)."""
    return "".join(sorted({ch for text in texts for ch in text}))


@functools.lru_cache(maxsize=64)
def font_chars(face: FontFace | None) -> frozenset[int]:
    """The code points ``face`` maps to a glyph (its best Unicode cmap), cached per face.

    ``None`` stands for Pillow's built-in font: :data:`PILLOW_DEFAULT_CHARS`.

    Raises:
        InvalidInputError: the file is missing or is not a font fontTools can read.
    """
    if face is None:
        return PILLOW_DEFAULT_CHARS
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(face.path), fontNumber=face.index, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError) as err:
        raise InvalidInputError(
            f"font {face}: cannot read its character map ({err}); "
            "pass options.font=/path/to/font.ttf (a TrueType/OpenType file)"
        ) from err
    return frozenset(cmap)


def missing_chars(text: Iterable[str] | str, face: FontFace | None) -> str:
    """The characters of ``text`` (or of several strings) that ``face`` has no glyph for."""
    texts = [text] if isinstance(text, str) else list(text)
    return "".join(chr(cp) for cp in sorted(codepoints(texts) - font_chars(face)))


def script_of(ch: str) -> str:
    """ISO 15924 script code of a character (``Hani``, ``Hira``, ``Cyrl``, ``Zyyy`` common)."""
    from fontTools import unicodedata as ft_unicodedata

    return str(ft_unicodedata.script(ch))


def _script_name(code: str) -> str:
    from fontTools import unicodedata as ft_unicodedata

    return str(ft_unicodedata.script_name(code, default=code))


def language_for(chars: str, language: str | None = None) -> str | None:
    """The fontconfig language to ask for to cover ``chars``, or ``None`` when no script says.

    Kana means Japanese and Hangul Korean; Han alone follows ``language``
    (a BCP 47 tag such as ``ja`` or ``zh-Hant``), else Simplified Chinese.
    Otherwise the most frequent script with a known language decides.
    """
    scripts = Counter(script_of(ch) for ch in chars)
    if scripts["Hira"] or scripts["Kana"]:
        return "ja"
    if scripts["Hang"]:
        return "ko"
    if scripts["Hani"]:
        tag = (language or "").strip().lower().replace("_", "-")
        return _HAN_LANG.get(tag) or _HAN_LANG.get(tag.split("-")[0]) or "zh-cn"
    for script, _ in scripts.most_common():
        if script in _SCRIPT_LANG:
            return _SCRIPT_LANG[script]
    return None


def describe_chars(chars: str, limit: int = 5) -> str:
    """``'中' U+4E2D, '文' U+6587 (Han) and 3 more``: a few characters, their codes and scripts."""
    shown = ", ".join(f"{ch!r} U+{ord(ch):04X}" for ch in chars[:limit])
    scripts = sorted({_script_name(script_of(ch)) for ch in chars})
    more = f" and {len(chars) - limit} more" if len(chars) > limit else ""
    return f"{shown}{more} ({', '.join(scripts)} script)"


def font_package(chars: str) -> str:
    """The Debian package(s) with a font for ``chars``: ``fonts-noto-cjk`` for Han, kana
    and Hangul, ``fonts-symbola`` for emoji and symbols, ``fonts-noto-core`` otherwise."""
    packages = []
    for ch in chars:
        script = script_of(ch)
        if script in _CJK_SCRIPTS:
            package = FONT_PACKAGE
        elif unicodedata.category(ch) == "So":
            package = _SYMBOLS_PACKAGE
        elif script in ("Zyyy", "Zinh"):
            continue  # punctuation and marks shared by scripts: their text's font has them
        else:
            package = _OTHER_PACKAGE
        if package not in packages:
            packages.append(package)
    return " ".join(packages) or _OTHER_PACKAGE


def _charset(codes: Iterable[int]) -> str:
    """A fontconfig charset value: hex code points separated by spaces (fonts-conf(5))."""
    return " ".join(f"{cp:x}" for cp in sorted(codes))


def _fontconfig(program: str, *args: str) -> list[FontFace]:
    """Run ``fc-match``/``fc-list`` printing ``file<TAB>index`` lines; the faces, in order."""
    exe = shutil.which(program)
    if exe is None:
        raise FileNotFoundError(program)
    done = subprocess.run(
        [exe, "-f", "%{file}\t%{index}\n", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    faces = []
    for line in done.stdout.splitlines():
        file, _, index = line.partition("\t")
        if file and Path(file).suffix.lower() in {".ttf", ".otf", ".ttc", ".otc"}:
            # The low 16 bits are the face; fontconfig puts a variable font's
            # named instance above them (FcFreeTypeQueryAll), which Pillow and
            # fontTools do not take: the default instance is drawn.
            faces.append(FontFace(Path(file), int(index or 0) & 0xFFFF))
    return list(dict.fromkeys(faces))


@functools.lru_cache(maxsize=256)
def _fc_match(pattern: str) -> tuple[FontFace, ...]:
    return tuple(_fontconfig("fc-match", pattern))


@functools.lru_cache(maxsize=256)
def _fc_list(pattern: str) -> tuple[FontFace, ...]:
    return tuple(_fontconfig("fc-list", pattern))


def _fallback(needed: frozenset[int], role: str, language: str | None) -> FontFace | None:
    """An installed face that has every code point in ``needed``, or ``None``.

    Asks fontconfig for the role's style in the language the characters
    suggest, then for a face with the characters themselves (``charset``),
    then lists every face that has them; each answer is checked on the cmap.
    """
    style = _FC_STYLE.get(role, "sans-serif")
    lang = language_for("".join(chr(cp) for cp in needed - _ASCII), language)
    patterns = [f"{style}:lang={lang}"] if lang else []
    patterns.append(f"{style}:charset={_charset(needed)}")
    for pattern in patterns:
        for face in _fc_match(pattern):
            if needed <= font_chars(face):
                return face
    candidates = [f for f in _fc_list(f":charset={_charset(needed)}") if needed <= font_chars(f)]
    if not candidates:
        return None
    # Prefer the role's style among faces that cover everything (fc-list is unordered).
    preferred = set(_fc_match(patterns[0]))
    candidates.sort(key=lambda f: (f not in preferred, str(f)))
    return candidates[0]


def choose_faces(
    texts: Iterable[str],
    role: str,
    primary: FontFace | None,
    *,
    language: str | None = None,
    fallback: bool = True,
) -> tuple[FontFace | None, ...]:
    """The faces to draw ``texts`` in ``role`` with, first choice first.

    ``(primary,)`` when it has every character; else one installed face
    found with fontconfig that has them all (CJK fonts carry Latin too);
    else, for text mixing scripts no single font has (Arabic and Hangul),
    ``primary`` followed by a face per script of the characters it lacks:
    each character is then drawn with the first face that has it (see
    ``_layout.FontChain``). ``fallback=False`` returns ``(primary,)``
    regardless (it will draw boxes: for tests of the gate).

    Raises:
        InvalidInputError: no installed face has some characters, or
            fontconfig is missing; the message names a few characters with
            their U+ codes and script, and the fix.
    """
    needed = codepoints(texts)
    if not fallback or needed <= font_chars(primary):
        return (primary,)
    lacking = needed - font_chars(primary)
    try:
        decoration = all(is_decoration(chr(cp)) for cp in lacking)
        face = None if decoration else _fallback(needed, role, language)
        if face is not None:
            return (face,)
        chain, uncovered = _chain(needed, role, primary, language)
    except (FileNotFoundError, subprocess.SubprocessError, OSError) as err:
        missing = "".join(chr(cp) for cp in sorted(lacking))
        package = font_package(missing)
        raise InvalidInputError(
            f"render_shot: font {primary or 'Pillow default'} has no glyph for "
            f"{describe_chars(missing)} and fontconfig could not be asked for another "
            f"({err}); install fontconfig and {package} (Debian: apt-get install "
            f"fontconfig {package}) or pass options.font=/path/to/font.ttf"
        ) from err
    if uncovered:
        missing = "".join(chr(cp) for cp in sorted(uncovered))
        raise InvalidInputError(f"render_shot: {_no_font_message(missing)}")
    return chain


def uncovered_chars(
    texts: Iterable[str], role: str, primary: FontFace | None, *, language: str | None = None
) -> str:
    """The characters of ``texts`` that no installed font has (``""`` when all are drawable).

    The same search as :func:`choose_faces` (results are cached, so asking
    both costs one search). Without fontconfig nothing can be known:
    ``""``, and :func:`choose_faces` then names the problem.
    """
    needed = codepoints(texts)
    if needed <= font_chars(primary):
        return ""
    try:
        if _fallback(needed, role, language) is not None:
            return ""
        _, uncovered = _chain(needed, role, primary, language)
    except (FileNotFoundError, subprocess.SubprocessError, OSError):
        return ""
    return "".join(chr(cp) for cp in sorted(uncovered))


def _chain(
    needed: frozenset[int], role: str, primary: FontFace | None, language: str | None
) -> tuple[tuple[FontFace | None, ...], frozenset[int]]:
    """``primary`` plus a fallback face per script it lacks; and what none of them has.

    A script's characters that no single face has (emoji of several Unicode
    versions: Symbola 2.60 has U+1F44D but not U+1F99D) are covered by the
    face that has the most of them, then the next, until none has the rest.
    """
    chain: list[FontFace | None] = [primary]
    left = set(needed - font_chars(primary))
    uncovered: set[int] = set()
    while left:
        by_script = Counter(script_of(chr(cp)) for cp in left).most_common()
        script = by_script[0][0]
        group = frozenset(cp for cp in left if script_of(chr(cp)) == script)
        face = _fallback(group, role, language) or _widest(group)
        if face is None:
            uncovered |= group
            left -= group
            continue
        chain.append(face)
        left -= font_chars(face)
    return tuple(chain), frozenset(uncovered)


#: At most this many characters of a group are looked up one by one (one
#: ``fc-list`` call each, cached) when no face has the whole group.
_PER_CHARACTER_MAX = 64


def _widest(group: frozenset[int]) -> FontFace | None:
    """The installed face that has the most characters of ``group`` (at least one), or ``None``."""
    counts: Counter[FontFace] = Counter()
    for cp in sorted(group)[:_PER_CHARACTER_MAX]:
        for face in _fc_list(f":charset={cp:x}"):
            if cp in font_chars(face):
                counts[face] += 1
    if not counts:
        return None
    return max(counts, key=lambda face: (len(group & font_chars(face)), -len(str(face))))


def _no_font_message(missing: str) -> str:
    """What to say when no installed font has ``missing``: the package to install, or,
    when it is installed already, ``options.font``."""
    packages = font_package(missing).split()
    wanted = [p for p in packages if not _package_installed(p)]
    if wanted:
        install = " ".join(wanted)
        fix = f"install {install} (Debian: apt-get install {install}) or pass"
    else:
        fix = f"no font of the installed {' '.join(packages)} has them either: pass"
    return (
        f"no installed font has a glyph for {describe_chars(missing)}; "
        f"{fix} options.font=/path/to/font.ttf (a font that has them)"
    )


@functools.lru_cache(maxsize=16)
def _package_installed(package: str) -> bool:
    """Whether the Debian package ``package`` is installed (``dpkg-query``); False without dpkg."""
    exe = shutil.which("dpkg-query")
    if exe is None:
        return False
    try:
        done = subprocess.run(
            [exe, "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return (
        done.returncode == 0
        and done.stdout.strip().endswith("installed")
        and ("not-installed" not in done.stdout)
    )
