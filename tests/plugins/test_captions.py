"""Caption cues: splitting, wrapping, timing, and the SRT/WebVTT files."""

from __future__ import annotations

import math

import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from reelgraph.models import Caption, WordTiming
from reelgraph.plugins._media.captions import (
    MAX_DELAY_S,
    MAX_LAG_S,
    MAX_LEAD_S,
    TimedSentence,
    build_cues,
    caption_rules,
    cue_problems,
    iso639_2,
    line_width,
    required_seconds,
    split_text,
    wrap_text,
    write_srt,
    write_vtt,
)

LONG = (
    "The kernel schedules every node of the graph as soon as its inputs are ready, "
    "and plugins register their hooks through entry points so others can extend it."
)


def words_of(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


def fits(text: str) -> bool:
    lines = wrap_text(text)
    return len(lines) <= 2 and all(len(line) <= 42 for line in lines)


# -- wrapping and splitting ---------------------------------------------------------


def test_short_text_stays_on_one_line():
    assert wrap_text("Hello world.") == ["Hello world."]


def test_wrap_prefers_a_break_after_punctuation():
    lines = wrap_text("When the build finishes, the video is written to the run folder.")
    assert lines == ["When the build finishes,", "the video is written to the run folder."]


def test_wrap_breaks_before_a_conjunction_rather_than_mid_phrase():
    lines = wrap_text("The slides are rendered with Pillow and the speech comes from espeak")
    assert lines[1].startswith("and ")
    assert all(len(line) <= 42 for line in lines)


def test_long_sentence_is_split_at_the_clause_boundary():
    pieces = split_text(LONG)
    assert len(pieces) == 2
    assert pieces[0].endswith("ready,")
    assert all(fits(p) for p in pieces)
    assert words_of(pieces) == LONG.split()


def test_function_words_stay_with_the_words_they_introduce():
    text = (
        "Plugins register their hooks through entry points so that third parties "
        "can extend the kernel with new providers."
    )
    pieces = split_text(text)
    lines = [line for piece in pieces for line in wrap_text(piece)]
    assert len(pieces) == 2
    assert pieces[1].startswith("so that")
    assert not any(line.split()[-1] in {"so", "the", "a", "their"} for line in lines)


def test_a_word_longer_than_a_line_is_cut():
    word = "x" * 100
    pieces = split_text(f"see {word} here")
    assert all(fits(p) for p in pieces)
    assert "".join(words_of(pieces)).replace("see", "").replace("here", "") == word


def test_blank_text_gives_no_pieces():
    assert split_text("   ") == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("abcdefghij,.;"), min_size=1, max_size=15),
        min_size=1,
        max_size=60,
    )
)
def test_pieces_always_fit_and_keep_every_word(words):
    text = " ".join(words)
    pieces = split_text(text)
    assert all(fits(p) for p in pieces)
    assert words_of(pieces) == text.split()


# -- timing ----------------------------------------------------------------------


def test_one_cue_per_short_sentence_timed_to_its_audio():
    cues = build_cues(
        [TimedSentence("First sentence here.", 0.0, 1.5), TimedSentence("Second one.", 2.0, 3.25)],
        video_duration_s=4.0,
    )
    assert [(c.index, c.start_s, c.end_s, c.text) for c in cues] == [
        (1, 0.0, 1.5, "First sentence here."),
        (2, 2.0, 3.25, "Second one."),
    ]


def test_pieces_are_timed_by_word_timings_when_present():
    words = LONG.split()
    second_piece_at = words.index("and")
    # Words spoken at a slow then fast pace: a proportional split would be wrong.
    timings = [
        WordTiming(text=w, start_s=0.5 * k if k < second_piece_at else 8.0 + 0.1 * k)
        for k, w in enumerate(words)
    ]
    # (reading speed is not under test here: no hold into the silence after)
    cues = build_cues([TimedSentence(LONG, 10.0, 22.0, timings)], video_duration_s=30, max_cps=1000)
    assert len(cues) == 2
    assert cues[1].start_s == round(10.0 + 8.0 + 0.1 * second_piece_at, 3)
    assert cues[0].end_s == cues[1].start_s
    assert cues[1].end_s == 22.0


def test_pieces_are_timed_by_characters_without_word_timings():
    cues = build_cues([TimedSentence(LONG, 0.0, 10.0)], video_duration_s=12)
    first_chars = len(split_text(LONG)[0]) + 1
    assert cues[1].start_s == round(10.0 * first_chars / len(LONG), 3)


def test_short_cue_is_held_one_second_into_the_pause():
    cues = build_cues([TimedSentence("Yes.", 1.0, 1.3)], video_duration_s=5)
    assert (cues[0].start_s, cues[0].end_s) == (1.0, 2.0)


def test_short_cue_never_runs_into_the_next_cue_or_past_the_end():
    # 1.2 s for two cues of at least 1 s each: they cannot both be long enough
    cues = build_cues(
        [TimedSentence("Yes.", 1.0, 1.3), TimedSentence("No.", 1.6, 1.8)], video_duration_s=2.2
    )
    assert cues[0].end_s <= cues[1].start_s
    assert cues[1].end_s == 2.2
    # each moved at most MAX_LEAD_S earlier than its speech, never later than MAX_DELAY_S
    assert 1.0 - MAX_LEAD_S <= cues[0].start_s <= 1.0
    assert 1.6 - MAX_LEAD_S <= cues[1].start_s <= 1.6 + MAX_DELAY_S
    assert cue_problems(cues)  # and the shortfall is reported


@st.composite
def timelines(draw):
    t, sentences = 0.0, []
    for _ in range(draw(st.integers(1, 8))):
        t += draw(st.floats(0, 1.5))
        length = draw(st.floats(0.05, 8))
        words = draw(st.lists(st.sampled_from(["a", "word", "longer,", "sentence."]), max_size=40))
        sentences.append(TimedSentence(" ".join(words) or "x", t, t + length))
        t += length
    return sentences, t + draw(st.floats(0, 2))


@settings(max_examples=80, deadline=None)
@given(timelines())
def test_cues_are_ordered_non_overlapping_inside_the_video_and_fit(timeline):
    sentences, duration = timeline
    cues = build_cues(sentences, duration)
    assert [c.index for c in cues] == list(range(1, len(cues) + 1))
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end_s <= b.start_s
    for cue in cues:
        assert 0 <= cue.start_s < cue.end_s <= round(duration, 3)
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)


# -- files -------------------------------------------------------------------------


CUES = [
    Caption(index=1, start_s=0.0, end_s=1.5, text="First line,\nsecond line."),
    Caption(index=2, start_s=61.25, end_s=3725.004, text="Über: café, naïve — “quoted”."),
]


def test_srt_round_trips_through_the_srt_library(tmp_path):
    path = write_srt(CUES, tmp_path / "video.srt")
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [(s.index, s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subs] == [
        (c.index, c.start_s, c.end_s, c.text) for c in CUES
    ]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_vtt_round_trips_through_webvtt_py(tmp_path):
    path = write_vtt(CUES, tmp_path / "video.vtt")
    assert path.read_text(encoding="utf-8").startswith("WEBVTT")
    cues = webvtt.read(str(path))
    assert [(c.identifier, c.start, c.end, c.text) for c in cues] == [
        ("1", "00:00:00.000", "00:00:01.500", CUES[0].text),
        ("2", "00:01:01.250", "01:02:05.004", CUES[1].text),
    ]
    assert list(tmp_path.iterdir()) == [path]


def test_language_tags_map_to_iso_639_2():
    assert iso639_2("en") == "eng"
    assert iso639_2("en-GB") == "eng"
    assert iso639_2("pt_BR") == "por"
    assert iso639_2("deu") == "deu"
    assert iso639_2("x-klingon") == "und"


def test_short_sentences_share_a_cue_and_fast_cues_hold_into_silence():
    cues = build_cues(
        [
            TimedSentence("Tiny Talk.", 0.0, 0.6),
            TimedSentence("This is a tiny document.", 0.6, 2.0),
            # 50 characters in 2 s (25 cps), then 2 s of silence before the next scene
            TimedSentence("A rather quick sentence with fifty characters, ok.", 2.75, 4.75),
            TimedSentence("Next scene.", 6.75, 8.0),
        ],
        video_duration_s=9.0,
    )
    assert cues[0].text == "Tiny Talk. This is a tiny document."
    # 35 characters in 2.0 s is 17.5 cps: held into the pause until 17 cps
    assert (cues[0].start_s, cues[0].end_s) == (0.0, round(35 / 17, 3))
    fast = cues[1]
    assert fast.start_s == 2.75
    # held until 17 cps (rounded up to the next millisecond), before the next cue
    assert fast.end_s == math.ceil((2.75 + 50 / 17) * 1000) / 1000
    assert fast.end_s <= cues[2].start_s
    assert cue_problems(cues) == []


def test_a_short_cue_that_cannot_merge_borrows_time_from_the_next():
    long_text = "reelgraph is a plugin-based microkernel for AI video production pipelines."
    cues = build_cues(
        [TimedSentence("reelgraph.", 0.0, 0.71), TimedSentence(long_text, 0.71, 6.0)],
        video_duration_s=7.0,
    )
    assert [c.text.replace("\n", " ") for c in cues] == ["reelgraph.", long_text]
    assert cues[0].end_s == cues[1].start_s == 1.0  # delayed by 0.29 s, under the 0.3 s cap
    assert cues[1].end_s == 6.0
    # the delayed cue is held into the pause after its speech to be read at 17 cps
    cues = build_cues(
        [TimedSentence("reelgraph.", 0.0, 0.71), TimedSentence(long_text, 0.71, 5.2)],
        video_duration_s=6.0,
    )
    assert cues[1].start_s == 1.0
    assert cues[1].end_s == math.ceil((1.0 + len(long_text) / 17) * 1000) / 1000
    assert cue_problems(cues) == []
    # a delay of 0.3 s is not enough for "Hi." to last its second: the next cue
    # trails its speech (by 0.8 s, under MAX_LAG_S) rather than the short cue flash by
    cues = build_cues(
        [TimedSentence("Hi.", 0.0, 0.2), TimedSentence(long_text, 0.2, 6.0)], video_duration_s=7.0
    )
    assert (cues[0].start_s, cues[0].end_s) == (0.0, 1.0)
    assert cues[1].start_s == 1.0 and cues[1].start_s - 0.2 <= MAX_DELAY_S + MAX_LAG_S
    assert cue_problems(cues) == []


# -- languages ---------------------------------------------------------------------

# From the Vim tutor's Simplified Chinese and Japanese translations
# (/usr/share/vim/vim90/tutor/tutor.zh_cn.utf-8, tutor.ja.utf-8), joined lines.
ZH = "请随意在屏幕内移动光标，直至您觉得舒服为止。按下 j 键并保持按住不放可以使得光标持续向下移动。"
JA = "さぁ、Capsロックキーが押されていないことを確認した後、画面にレッスン1.1が全部表示されるところまで、j キーを押してカーソルを移動しましょう。"
_NO_START = "、。，．！？）」』ーぁぃぅぇぉっゃゅょァィゥェォッャュョ"


def test_language_rules_follow_the_netflix_guides():
    assert caption_rules("en") == caption_rules(None) == caption_rules("fr-CA")
    assert (caption_rules("en").max_line_chars, caption_rules("en").max_cps) == (42, 17)
    ja, zh, ko = caption_rules("ja"), caption_rules("zh-Hans"), caption_rules("ko")
    assert (ja.max_line_chars, ja.max_cps, ja.by_character) == (13, 4, True)
    assert (zh.max_line_chars, zh.max_cps, zh.by_character) == (16, 9, True)
    assert (ko.max_line_chars, ko.max_cps, ko.by_character) == (16, 12, False)
    assert caption_rules(None, JA) == ja and caption_rules(None, ZH) == zh
    # half-width characters count half a cell (Japanese and Korean guides)
    assert line_width("Capsロック", ja) == 4 * 0.5 + 3
    assert line_width("Capsロック") == 7


def test_chinese_and_japanese_wrap_between_characters_by_kinsoku():
    for text, language, limit in ((ZH, "zh", 16), (JA, "ja", 13)):
        pieces = split_text(text, language=language)
        assert len(pieces) > 1
        assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
        for piece in pieces:
            lines = wrap_text(piece, language=language)
            assert 1 <= len(lines) <= 2
            for line in lines:
                assert line_width(line, caption_rules(language)) <= limit
                assert line[0] not in _NO_START  # closing marks never start a line
                assert line[-1] not in "「『（"
    # a half-width word or number is never cut: "Caps", "1.1"
    lines = [line for p in split_text(JA, language="ja") for line in wrap_text(p, language="ja")]
    assert any("Caps" in line for line in lines) and any("1.1" in line for line in lines)


def test_cjk_text_is_not_wrapped_at_spaces_it_does_not_have():
    cues = build_cues([TimedSentence(ZH, 0.0, 12.0)], video_duration_s=13.0, language="zh")
    assert [c.text for c in cues] == [
        "请随意在屏幕内移动光标，\n直至您觉得舒服为止。",  # broken after the comma
        "按下 j 键并保持按住不放\n可以使得光标持续向下移动。",
    ]
    assert cue_problems(cues, "zh") == []


def test_required_seconds_is_the_sum_of_each_cues_need():
    assert required_seconds("Yes.") == 1.0  # the minimum duration
    assert required_seconds(LONG) == sum(
        max(1.0, math.ceil(len(p) / 17 * 1000) / 1000) for p in split_text(LONG)
    )
    # Japanese is read at 4 characters a second, Chinese at 9
    assert required_seconds(JA, "ja") > len(JA.replace(" ", "")) / 4 - 1
    assert required_seconds(ZH, "zh") >= len(ZH) / 9


def test_speech_too_fast_for_its_characters_is_reported():
    cues = build_cues([TimedSentence(JA, 0.0, 5.0)], video_duration_s=5.0, language="ja")
    assert cue_problems(cues, "ja")
    enough = required_seconds(JA, "ja")
    cues = build_cues([TimedSentence(JA, 0.0, enough)], video_duration_s=enough, language="ja")
    assert cue_problems(cues, "ja") == []


# Word lists of several scripts (real words: the Vim tutor's translations).
_WORDS = {
    "en": [
        "move",
        "the",
        "cursor",
        "press",
        "keys",
        "until",
        "you",
        "feel",
        "comfortable",
        "with",
        "it,",
        "and",
        "then.",
    ],
    "ru": [
        "Теперь",
        "убедитесь",
        "в",
        "том,",
        "что",
        "клавиша",
        "не",
        "включена,",
        "и",
        "нажмите",
        "несколько",
        "раз.",
    ],
    "ko": [
        "커서를",
        "이동하려면",
        "표시된",
        "대로",
        "키를",
        "누르세요.",
        "왼쪽",
        "오른쪽",
        "아래로",
    ],
}
_CHARS = {
    "zh": "请随意在屏幕内移动光标直至您觉得舒服为止按下键并保持住不放可以使得持续向，。、",
    "ja": "さぁロックキーが押されていないことを確認した後画面にレッスン全部表示、。「」",
}


@st.composite
def scripted_sentence(draw, language):
    if language in _WORDS:
        words = draw(st.lists(st.sampled_from(_WORDS[language]), min_size=1, max_size=40))
        return " ".join(words)
    chars = draw(st.lists(st.sampled_from(_CHARS[language]), min_size=1, max_size=90))
    return "".join(chars)


@st.composite
def readable_timelines(draw):
    """Sentences in one script whose speech lasts at least required_seconds (whole ms)."""
    language = draw(st.sampled_from(["en", "ru", "ko", "zh", "ja"]))
    t, sentences = 0, []
    for _ in range(draw(st.integers(1, 6))):
        t += draw(st.integers(0, 1500))
        text = draw(scripted_sentence(language))
        length = round(required_seconds(text, language) * 1000) + draw(st.integers(0, 3000))
        sentences.append(TimedSentence(text, t / 1000, (t + length) / 1000))
        t += length
    return language, sentences, (t + draw(st.integers(0, 2000))) / 1000


@settings(max_examples=150, deadline=None)
@given(readable_timelines())
def test_every_cue_meets_the_limits_when_the_time_allows(timeline):
    language, sentences, duration = timeline
    rules = caption_rules(language)
    cues = build_cues(sentences, duration, language=language)
    assert cue_problems(cues, language) == []
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end_s <= b.start_s
    for cue in cues:
        assert 0 <= cue.start_s < cue.end_s <= duration
        lines = cue.text.split("\n")
        assert len(lines) <= rules.max_lines
        assert all(line_width(line, rules) <= rules.max_line_chars for line in lines)
        duration_ms = round((cue.end_s - cue.start_s) * 1000)  # SRT's resolution
        assert duration_ms >= rules.min_cue_s * 1000
        assert len("".join(lines)) * 1000 / duration_ms <= rules.max_cps
    # every character is captioned, in order
    shown = "".join(c.text for c in cues).replace("\n", "").replace(" ", "")
    assert shown == "".join(s.text for s in sentences).replace(" ", "")


@st.composite
def hurried_then_slow(draw):
    """A readable sentence, one spoken up to MAX_DELAY_S + MAX_LAG_S too fast for its
    captions, then one with at least that much time to spare, without a pause."""
    language = draw(st.sampled_from(["en", "ru", "ko", "zh", "ja"]))
    texts = [draw(scripted_sentence(language)) for _ in range(3)]
    needs = [round(required_seconds(text, language) * 1000) for text in texts]
    short = draw(st.integers(0, round((MAX_DELAY_S + MAX_LAG_S) * 1000) - 50))
    spare = short + draw(st.integers(0, 2000))
    lengths = [needs[0], max(1, needs[1] - short), needs[2] + spare]
    t, sentences = 0, []
    for text, length in zip(texts, lengths, strict=True):
        sentences.append(TimedSentence(text, t / 1000, (t + length) / 1000))
        t += length
    return language, sentences, t / 1000


@settings(max_examples=150, deadline=None)
@given(hurried_then_slow())
def test_speech_too_fast_borrows_from_what_follows_within_the_lag(timeline):
    # espeak's Japanese is faster than the 4 characters a second its captions may
    # show; where the reading hold left a sentence short, its cues trail the voice
    language, sentences, duration = timeline
    cues = build_cues(sentences, duration, language=language)
    assert cue_problems(cues, language) == []
    assert cues[0].start_s <= sentences[0].start_s + MAX_DELAY_S  # the first cue never lags


def test_japanese_caption_lines_end_between_phrases():
    # The Japanese Debian FAQ's cue read "探しているものがこ / の FAQ から見つけら":
    # "この" (this) and "見つけられない" (cannot find) were cut in two.
    import budoux

    text = (
        "探しているものがこの FAQ から見つけられない場合は「Debian システム上の、"
        "あるいは Debian システム用の文書は他にどんなものがありますか?」を確認してください。"
    )
    phrases = budoux.load_default_japanese_parser().parse(text)
    ends = {sum(len(p) for p in phrases[: i + 1]) for i in range(len(phrases))}
    at = 0
    pieces = split_text(text, language="ja")
    lines = [line for piece in pieces for line in wrap_text(piece, language="ja")]
    for line in lines:
        at = text.index(line, at) + len(line)
        assert at in ends or text[at : at + 1] == " ", (line, phrases)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
