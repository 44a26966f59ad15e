"""Caption lines fitted to the frame and the caption style (issue 18, caption_fit):
bold-social keeps its size in 9:16, no line is wider than its room, CJK breaks by
character within the width, reading speed and minimum duration still hold."""

from __future__ import annotations

import pytest

from reelgraph.plugins._media.caption_fit import fit_cues, soft_style, track_cues
from reelgraph.plugins._media.caption_style import (
    _font,
    caption_area,
    layout_cue,
    resolve_style,
)
from reelgraph.plugins._media.captions import TimedSentence, caption_rules, cue_problems

PARAGRAPH = (
    "The river had risen overnight, and by morning the lower fields were under water. "
    "Farmers walked the embankments with long poles, testing the soft places where the "
    "earth had begun to slip. Nobody in the village could remember a flood this early in "
    "the year. The old bridge held, although the water reached the underside of its arches "
    "and carried whole branches against the stones. By the afternoon the rain had stopped, "
    "and children were sent to count the sheep that had been moved to the hill."
)
# The Vim tutor's Japanese translation (tutor.ja.utf-8), as in test_captions.py.
JA = (
    "さぁ、Capsロックキーが押されていないことを確認した後、画面にレッスン1.1が全部表示"
    "されるところまで、j キーを押してカーソルを移動しましょう。"
)
SIZES = [(1080, 1920), (1920, 1080), (1080, 1080)]


def _spoken(text: str, chars_per_s: float = 12.0, pause_s: float = 0.4) -> list[TimedSentence]:
    """The sentences of ``text`` one after another, each as long as its characters at
    ``chars_per_s`` (a calm reading pace), a pause after each."""
    import re

    out, at = [], 0.0
    for sentence in re.split(r"(?<=[.。])\s*", text):
        if sentence.strip():
            seconds = len(sentence) / chars_per_s
            out.append(TimedSentence(sentence.strip(), at, at + seconds))
            at += seconds + pause_s
    return out


def _room(name: str, width: int, height: int) -> float:
    style = resolve_style(name)
    scale = min(width, height) / 1080
    left, _, right, _ = caption_area(width, height)
    pad = round(style.box_pad_px * scale) if style.box else 0
    return right - left - 2 * pad - 2 * round(style.outline_px * scale)


def test_bold_social_keeps_its_size_in_9_16() -> None:
    sentences = _spoken(PARAGRAPH)
    style = resolve_style("bold-social")
    cues, fit = fit_cues(
        sentences, sentences[-1].end_s + 1, styles=[style], width_px=1080, height_px=1920,
        language="en",
    )  # fmt: skip
    sizes = {layout_cue(cue.text, style, 1080, 1920, "en").size_px for cue in cues}
    assert min(sizes) >= 64  # before: 42-character lines shrank it to 44 px
    assert sizes == {72}
    assert fit.max_line_chars < 42 and fit.size_px == 72
    # shorter lines, so more cues than the 42-character track
    plain, _ = fit_cues(
        sentences, sentences[-1].end_s + 1, styles=[soft_style(1920, 1080)], width_px=1920,
        height_px=1080, language="en",
    )  # fmt: skip
    assert len(cues) > len(plain)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["clean", "bold-social", "lower-third"])
def test_no_line_is_wider_than_its_room_at_the_style_size(name: str, size: tuple) -> None:
    width, height = size
    style = resolve_style(name)
    sentences = _spoken(PARAGRAPH)
    cues, fit = fit_cues(
        sentences, sentences[-1].end_s + 1, styles=[style], width_px=width, height_px=height,
        language="en",
    )  # fmt: skip
    font = _font(style, PARAGRAPH, fit.size_px, "en")
    room = _room(name, width, height)
    lines = [line for cue in cues for line in cue.text.split("\n")]
    assert all(font.getlength(line) <= room for line in lines)
    assert all(len(line) <= fit.max_line_chars for line in lines)
    area = caption_area(width, height)
    for cue in cues:
        lay = layout_cue(cue.text, style, width, height, "en")
        assert lay.size_px == fit.size_px  # nothing shrank
        assert area[0] <= lay.box[0] and lay.box[2] <= area[2]
    # reading speed and minimum duration still hold (build_cues re-times the shorter cues)
    assert cue_problems(cues, "en") == []
    assert all(c.end_s - c.start_s >= 1.0 for c in cues)


def test_japanese_breaks_by_character_within_the_width() -> None:
    style = resolve_style("bold-social")
    sentences = _spoken(JA, chars_per_s=3.5)
    cues, fit = fit_cues(
        sentences, sentences[-1].end_s + 1, styles=[style], width_px=1080, height_px=1920,
        language="ja",
    )  # fmt: skip
    # 72 px full-width characters in 822 px: 11 cells, under the guide's 13
    assert fit.max_line_chars == 11
    font = _font(style, JA, 72, "ja")
    lines = [line for cue in cues for line in cue.text.split("\n")]
    assert all(font.getlength(line) <= fit.width_px for line in lines)
    assert "".join(lines).replace(" ", "") == JA.replace(" ", "")  # every character, in order
    assert any(len(line) >= 9 and " " not in line for line in lines)  # broken inside a phrase run
    assert not any(line[0] in "、。ーっャュョ" for line in lines)  # kinsoku still holds
    assert cue_problems(cues, "ja") == []
    sizes = {layout_cue(cue.text, style, 1080, 1920, "ja").size_px for cue in cues}
    assert sizes == {72}


def test_soft_tracks_fit_the_players_5vh_text() -> None:
    sentences = _spoken(PARAGRAPH)
    end = sentences[-1].end_s + 1
    wide = track_cues(sentences, end, captions="soft", caption_style=None, frame_px=(1920, 1080))
    assert max(len(line) for c in wide for line in c.text.split("\n")) > 30  # 16:9: up to 42
    _, fit = fit_cues(
        sentences, end, styles=[soft_style(1920, 1080)], width_px=1920, height_px=1080
    )
    assert fit.max_line_chars == caption_rules("en").max_line_chars == 42
    tall = track_cues(sentences, end, captions="soft", caption_style=None, frame_px=(1080, 1920))
    soft = soft_style(1080, 1920)
    assert soft.size_px == 96  # 5 % of 1920
    font = _font(soft, PARAGRAPH, 96, None)
    left, _, right, _ = caption_area(1080, 1920)
    assert all(font.getlength(line) <= right - left for c in tall for line in c.text.split("\n"))
    assert len(tall) > len(wide)
    # both: the shorter of the burned style's and the soft track's limits
    both = track_cues(sentences, end, captions="both", caption_style="clean", frame_px=(1080, 1920))
    burned = track_cues(
        sentences, end, captions="burned", caption_style="clean", frame_px=(1080, 1920)
    )
    longest = [
        max(len(line) for c in cues for line in c.text.split("\n")) for cues in (both, burned)
    ]
    assert longest[0] < longest[1]


def test_a_long_word_stays_whole_and_shrinks_only_its_cue() -> None:
    style = resolve_style("bold-social")
    text = "Ask the electroencephalograms service with reelgraph doctor today. " + PARAGRAPH
    sentences = _spoken(text)
    cues, fit = fit_cues(
        sentences, sentences[-1].end_s + 1, styles=[style], width_px=1080, height_px=1920,
        language="en",
    )  # fmt: skip
    assert fit.max_line_chars < len("electroencephalograms")
    lines = [line for cue in cues for line in cue.text.split("\n")]
    assert "electroencephalograms" in lines  # whole, on a line of its own, not cut
    sizes = [layout_cue(cue.text, style, 1080, 1920, "en").size_px for cue in cues]
    shrunk = [c.text for c, size in zip(cues, sizes, strict=True) if size < 72]
    assert shrunk and all("electroencephalograms" in text for text in shrunk)
    assert fit.max_line_chars >= 14  # one word does not lower the whole track


def test_an_english_sentence_in_japanese_does_not_narrow_the_japanese_lines() -> None:
    style = resolve_style("bold-social")
    sentences = _spoken(f"{JA} The bridge was built in 1887 by the county engineers. {JA}", 3.5)
    cues, fit = fit_cues(
        sentences, sentences[-1].end_s + 1, styles=[style], width_px=1080, height_px=1920,
        language="ja",
    )  # fmt: skip
    assert fit.max_line_chars == 11  # as without the English sentence
    japanese = [cue for cue in cues if "bridge" not in cue.text]
    assert len(japanese) < len(cues)
    assert {layout_cue(cue.text, style, 1080, 1920, "ja").size_px for cue in japanese} == {72}
