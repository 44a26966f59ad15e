"""Word start times from ElevenLabs' character alignment.

``POST /v1/text-to-speech/{voice_id}/with-timestamps`` answers with
``alignment``: three parallel lists, ``characters`` (the request's text, one
character each), ``character_start_times_seconds`` and
``character_end_times_seconds`` (seconds from the start of the returned
audio) (API reference, "Create speech with timing",
https://elevenlabs.io/docs/api-reference/text-to-speech/convert-with-timestamps).
Captions anchor on word starts (:func:`reelgraph.plugins._media.captions`),
so the characters are grouped into words here: a run of characters between
whitespace is one word, except that each wide (Chinese, Japanese, Korean)
character is a word of its own, since those scripts put no spaces between
words and captions break them between characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from reelgraph.errors import InvalidInputError
from reelgraph.models import WordTiming

__all__ = ["word_timings"]


def word_timings(
    characters: Sequence[str],
    starts_s: Sequence[float],
    ends_s: Sequence[float],
    duration_s: float,
) -> list[WordTiming]:
    """One :class:`WordTiming` per word of the aligned text, in order.

    Args:
        characters: the aligned characters (``alignment.characters``).
        starts_s: each character's start, seconds from the audio's start.
        ends_s: each character's end, seconds (only checked for length).
        duration_s: the audio's length in seconds: a start beyond it (a
            rounding slip) is held at it.

    Returns:
        Words with their text (the characters joined) and the start of their
        first character, in seconds; starts never decrease.

    Raises:
        InvalidInputError: the three lists differ in length (a malformed answer).
    """
    from reelgraph.plugins._language import is_wide

    if not len(characters) == len(starts_s) == len(ends_s):
        raise InvalidInputError(
            f"elevenlabs: the alignment's lists differ in length ({len(characters)} characters, "
            f"{len(starts_s)} starts, {len(ends_s)} ends); the answer is malformed"
        )
    words: list[WordTiming] = []
    text, start = "", 0.0
    last = 0.0

    def close() -> None:
        nonlocal text, last
        if text:
            at = min(max(start, last), max(duration_s, 0.0))
            words.append(WordTiming(text=text, start_s=at))
            last = at
        text = ""

    for char, begin in zip(characters, starts_s, strict=True):
        if not char or char.isspace():
            close()
            continue
        if is_wide(char):
            close()
            text, start = char, float(begin)
            close()
            continue
        if not text:
            start = float(begin)
        text += char
    close()
    return words
