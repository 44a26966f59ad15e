"""The caption track's line length fitted to the width its lines have on the frame.

Burned cues are the caption track's cues
(:func:`reelgraph.plugins._media.captions.build_cues`, with its reading speed
and line rules). The track is built for the width
its lines have at the style's size (:func:`fit_cues`): the line limit in
characters (cells for Chinese, Japanese, Korean) is the caption area's width
over the style's advance per character, measured with Pillow on the
document's own text, then lowered until every line of several words fits
when measured. A line still too wide (one long word) makes the size step
down until it fits (:func:`.caption_style.layout_cue`), so the burned text
stays the track's text.

Soft captions are drawn by the player, at 5 % of the video's height by
default (WebVTT, https://www.w3.org/TR/webvtt1/#applying-css-properties:
the cues' "font shorthand property ... must be set to 5vh sans-serif", as
Mozilla's vtt.js sets it; WebKit's newer ``VTTCue.cpp`` takes 5 % of the
smaller side instead; the spec's figure is the larger). In 16:9 a
42-character line fits that easily; on a 9:16 frame it does not (96 px text
on a 1080 px wide frame, about 14 characters a line; 1:1: about 32), and the
player would wrap each line again. So a soft track's lines are fitted to a
sans face at that size (:func:`soft_style`) in the same caption area; with
captions both soft and burned, the track takes the shorter of the two limits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reelgraph.plugins._media.caption_style import (
    CaptionStyle,
    _font,
    caption_area,
    resolve_style,
)

if TYPE_CHECKING:
    from reelgraph.models import Caption
    from reelgraph.plugins._media.captions import TimedSentence

__all__ = ["MIN_LINE_CHARS", "SOFT_TEXT_HEIGHT", "LineFit", "fit_cues", "soft_style", "track_cues"]

#: Soft captions' text height as a fraction of the video's height (WebVTT's default
#: ``5vh``; see the module doc).
SOFT_TEXT_HEIGHT = 0.05
#: The shortest line limit :func:`fit_cues` lowers to, characters (cells for CJK); a
#: bigger style than that allows shrinks instead (the captions gate accepts 10-200).
MIN_LINE_CHARS = 10


def soft_style(width_px: int, height_px: int) -> CaptionStyle:
    """How a player draws the soft track on a ``width_px`` x ``height_px`` frame, as a style:
    sans at :data:`SOFT_TEXT_HEIGHT` of the height, no outline, no box (module doc)."""
    size = round(SOFT_TEXT_HEIGHT * height_px * 1080 / max(1, min(width_px, height_px)))
    return CaptionStyle(name="soft track", font="sans", size_px=size, outline_px=0)


@dataclass(frozen=True, slots=True)
class LineFit:
    """The line limit :func:`fit_cues` chose and what it was measured against.

    Attributes:
        max_line_chars: characters per line (cells for CJK) passed to ``build_cues``.
        max_lines: lines per cue passed to ``build_cues``.
        width_px: the narrowest width a line's text must fit, pixels on the frame.
        size_px: the size of the style that set ``width_px``, pixels on the frame.
        widest_px: the widest line of the cues at that size, pixels.
        rounds: how many times the cues were built.
    """

    max_line_chars: float
    max_lines: int
    width_px: int
    size_px: int
    widest_px: float
    rounds: int


def _room(style: CaptionStyle, width_px: int, height_px: int) -> tuple[int, int]:
    """``(size, width)``: the style's size on this frame and the widest a line's text may
    be there, pixels (the caption area less the box padding and the outline, as
    :func:`.caption_style.layout_cue` measures)."""
    scale = min(width_px, height_px) / 1080
    left, _, right, _ = caption_area(width_px, height_px)
    pad = round(style.box_pad_px * scale) if style.box else 0
    size = max(1, round(style.size_px * scale))
    stroke = round(style.outline_px * size / max(1, style.size_px))
    return size, right - left - 2 * pad - 2 * stroke


def _estimate(font: Any, room: int, text: str, cells: bool) -> float:
    """Characters (or cells) of ``text``'s mean advance that fill ``room`` pixels."""
    from reelgraph.plugins._language import is_wide

    if cells:
        wide = [ch for ch in text if is_wide(ch)] or ["\u4e2d"]
        advance = sum(font.getlength(ch) for ch in wide) / len(wide)
    else:
        sample = " ".join(text.split()) or "x"
        advance = font.getlength(sample) / len(sample)
    return room / max(advance, 1e-6)


def fit_cues(
    sentences: Iterable[TimedSentence],
    video_duration_s: float,
    *,
    styles: Sequence[CaptionStyle],
    width_px: int,
    height_px: int,
    language: str | None = None,
) -> tuple[list[Caption], LineFit]:
    """The caption track's cues with lines that fit every style in ``styles`` at its size.

    The limit starts at the caption area's width over the style's mean
    advance per character of the document's text (Pillow ``getlength``),
    never above the language's own limit (``caption_rules``: 42 characters
    in English, 13 cells in Japanese). The cues are built
    (``build_cues``: reading speed and minimum duration hold by its
    construction), every line is measured in each style, and while a line of
    more than one word (CJK: more than one character) is wider than its
    room, the limit is lowered in proportion and the cues built again (at
    most 8 times, not below :data:`MIN_LINE_CHARS`). A word longer than the
    limit stays whole on its own line (``max_word_chars``: up to the
    language's limit, where the captions gate would cut it), and one word
    wider than the room is left to :func:`.caption_style.layout_cue`'s shrinking.
    ``max_lines`` is the smallest of the styles'.

    Args:
        sentences: timed sentences in timeline order.
        video_duration_s: the video's length, seconds.
        styles: the burned style and/or :func:`soft_style` of the frame.
        width_px, height_px: the frame, pixels.
        language: BCP 47 tag (``None``: guessed from the text).

    Returns:
        The cues and the :class:`LineFit` chosen.

    Raises:
        InvalidInputError: no installed font has some character of the text.
    """
    from reelgraph.plugins._media.captions import build_cues, caption_rules

    items = list(sentences)
    text = " ".join(s.text for s in items)
    rules = caption_rules(language, text[:2000])
    max_lines = min([style.max_lines for style in styles] + [rules.max_lines])
    targets = []
    for style in styles:
        size, room = _room(style, width_px, height_px)
        targets.append((_font(style, text, size, language), room, size))
    floor = MIN_LINE_CHARS / 2 if rules.cells else MIN_LINE_CHARS
    estimate = min(_estimate(f, room, text, rules.cells) for f, room, _ in targets)
    limit = max(floor, min(float(rules.max_line_chars), float(math.floor(estimate))))
    narrowest = min(targets, key=lambda t: t[1])
    whole = 0.0 if rules.by_character else float(rules.max_line_chars)  # words kept whole
    rounds = 0
    while True:
        rounds += 1
        cues = build_cues(
            items, video_duration_s, language=language, max_line_chars=limit,
            max_lines=max_lines, max_word_chars=whole,
        )  # fmt: skip
        ratio, widest = 1.0, 0.0
        for font, room, _ in targets:
            for cue in cues:
                for line in cue.text.split("\n"):
                    width = font.getlength(line)
                    if room == narrowest[1]:
                        widest = max(widest, width)
                    if width > room and _breakable(line, rules):
                        ratio = min(ratio, room / width)
        if ratio >= 1.0 or limit <= floor or rounds >= 8:
            break
        limit = max(floor, min(limit - 1, float(math.floor(limit * ratio))))
    fit = LineFit(limit, max_lines, narrowest[1], narrowest[2], round(widest, 1), rounds)
    return cues, fit


def track_cues(
    sentences: Iterable[TimedSentence],
    video_duration_s: float,
    *,
    captions: str,
    caption_style: Any,
    frame_px: tuple[int, int],
    language: str | None = None,
    log: Any = None,
) -> list[Caption]:
    """The caption track for the assembler's ``captions`` option (soft, burned or both).

    Soft: lines fitted to :func:`soft_style`; burned: to the resolved
    ``caption_style``; both: to both (the shorter limit). ``frame_px`` is
    ``(width, height)``. ``log`` (a structlog logger) gets one ``caption
    lines`` line with the limit chosen. See :func:`fit_cues`.

    Raises:
        InvalidInputError: an unknown or bad ``caption_style``, or no font
            has some character of the text.
    """
    width, height = frame_px
    styles = [] if captions == "soft" else [resolve_style(caption_style)]
    if captions != "burned":
        styles.append(soft_style(width, height))
    cues, fit = fit_cues(
        sentences, video_duration_s, styles=styles, width_px=width, height_px=height,
        language=language,
    )  # fmt: skip
    if log is not None:
        log.info(
            "caption lines", captions=captions, styles=[style.name for style in styles],
            max_line_chars=fit.max_line_chars, max_lines=fit.max_lines, width_px=fit.width_px,
            size_px=fit.size_px, widest_px=fit.widest_px, cues=len(cues), rounds=fit.rounds,
        )  # fmt: skip
    return cues


def _breakable(line: str, rules: Any) -> bool:
    """Whether a shorter line limit should break ``line``: more than one word (CJK: more
    than one character). In a CJK video a line in the Latin script alone is not counted:
    ``build_cues`` gives it the default limit narrowed in proportion to the cells
    (``captions.cue_rules``), so lowering the limit for it would narrow every CJK line
    too; such a line is drawn smaller instead."""
    from reelgraph.plugins._language import is_latin_text

    if rules.cells and is_latin_text(line):
        return False
    return len(line.strip()) > 1 if rules.by_character else len(line.split()) > 1
