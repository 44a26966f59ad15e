"""How long a script will take to speak: the one estimate the writer fits to and the
``duration`` gate checks.

A sentence in a language written with spaces costs its words at
``words_per_minute``. A Chinese or Japanese sentence has no spaces to count,
so it costs its characters: full-width ones (kana, Han, full-width
punctuation: East Asian Width ``W``/``F``) at one rate and the rest (Latin
letters, digits and ASCII punctuation of "matplotlib", "1.0", "GNU/Linux")
at another. A script costs its sentences plus ``scene_overhead_s`` per scene.

The Chinese and Japanese rates were measured on this machine with the
``espeak`` provider as the shipped ``document-to-video`` spec calls it
(``synthesize_speech`` with the script's language at ``rate_wpm`` 140, the
setting at which its English voice speaks 130 words a minute of finished
audio, the spec's ``words_per_minute``; English words inside a Japanese
sentence read by the English voice, as espeak.py does since 64f0932): the
first 60 narrated sentences (the extractive writer's, ``full: true``) of each
corpus document below, each sentence's audio length fitted by least squares
on the two character counts (``tests/plugins/test_writer_estimate.py``
measures it again):

- ``ja`` voice, 143 sentences (debian-faq-basic-defs.ja.html,
  debian-faq.ja.sjis.txt, japanize-matplotlib.md, jaconv-ja.rst; 4,712
  full-width and 2,069 other characters, 2,582 s): 0.500 s per full-width
  character (2.0 a second), 0.096 s per other character (about 10 a second,
  the English voice); each document's total within 0.88-1.00 of the
  measured one.
- ``cmn`` voice, 173 sentences (debian-faq.zh-cn.gb18030.txt,
  debian-faq.zh-cn.docx, pypinyin.rst; 4,169 and 1,944 characters,
  1,526 s): 0.305 s per full-width character (3.3 a second), 0.138 s per
  other one (the Chinese voice reads Latin words itself); each document
  within 1.01-1.02.

espeak's Japanese (2 characters a second) is slower than the captions'
reading speed (4 a second), so the captions never slow it further. The rates
scale with ``words_per_minute``: a writer told its voice speaks faster than
130 words a minute expects the same voice's Chinese and Japanese faster in
proportion. Other languages written without spaces (Cantonese, Wu, Classical
Chinese) use the Chinese rates.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from reelgraph.plugins._language import is_wide, primary_subtag, writes_without_spaces

__all__ = ["CHARACTER_SECONDS", "REFERENCE_WPM", "TOLERANCE_S", "estimate_s", "sentence_s"]

#: The product brief's promise: a video within +-5 s of its target (the
#: ``duration`` gate's default ``tolerance_s``).
TOLERANCE_S = 5.0
#: The ``words_per_minute`` at which :data:`CHARACTER_SECONDS` was measured.
REFERENCE_WPM = 130.0
#: Seconds per (full-width, other non-space) character; sources in the module docstring.
CHARACTER_SECONDS: dict[str, tuple[float, float]] = {
    "ja": (0.500, 0.096),
    "zh": (0.305, 0.138),
}


@lru_cache(maxsize=8192)
def sentence_s(text: str, language: str | None, words_per_minute: float) -> float:
    """Estimated seconds to speak one sentence (no pause after it).

    Args:
        text: the sentence as narrated.
        language: the script's BCP 47 tag (``None``: counted by words).
        words_per_minute: the voice's speed in English words per minute.
    """
    if writes_without_spaces(language):
        wide_s, other_s = CHARACTER_SECONDS.get(primary_subtag(language), CHARACTER_SECONDS["zh"])
        wide = sum(1 for ch in text if is_wide(ch))
        other = sum(1 for ch in text if not ch.isspace()) - wide
        return (wide * wide_s + other * other_s) * REFERENCE_WPM / words_per_minute
    return len(text.split()) / words_per_minute * 60


def estimate_s(
    sentences: Iterable[str],
    scenes: int,
    language: str | None,
    words_per_minute: float,
    scene_overhead_s: float,
) -> float:
    """Estimated seconds of video: every sentence (:func:`sentence_s`) plus the
    per-scene overhead (the pause an assembler adds after each scene)."""
    spoken = sum(sentence_s(text, language, words_per_minute) for text in sentences)
    return spoken + scenes * scene_overhead_s
