"""Caption rules per cue by the cue's script: English sentences inside Chinese, Japanese
and Korean videos (the Japanese Debian FAQ's untranslated paragraph), in the builder,
its reading-time estimate and the captions gate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reelgraph.models import Caption
from reelgraph.plugins._language import is_latin_text
from reelgraph.plugins._media.captions import (
    TimedSentence,
    build_cues,
    caption_rules,
    cue_problems,
    cue_rules,
    line_width,
    required_seconds,
)

# From the Japanese Debian FAQ (tests/corpus/text/debian-faq.ja.sjis.txt, chapter 1).
ENGLISH = (
    "The Debian archives also carry approximately 1000 software packages (in the "
    "non-free and contrib sections), which are distributable under specific terms "
    "included with each package."
)
MIXED = "正式に Debian GNU/Linux の一部であるパッケージは全て、通常は GPL (GNU General Public License) により指定される条件の下で自由に再配布できます。"
SHORT_MIXED = "Debian GNU/Linux は:"


def test_latin_text_means_every_letter_latin():
    assert is_latin_text(ENGLISH) and is_latin_text("Ça va。") and is_latin_text("Yes.")
    assert not is_latin_text(SHORT_MIXED)  # one kana makes it Japanese
    assert not is_latin_text("ＡＢＣ")  # full-width letters are set like CJK
    assert not is_latin_text("Это по-русски.") and not is_latin_text("1.2.3 !")


def test_a_latin_cue_in_a_cjk_video_follows_the_english_rules():
    english = caption_rules("en")
    for language in ("ja", "zh", "ko"):
        own = caption_rules(language)
        assert cue_rules(own, ENGLISH) == english
        assert cue_rules(own, SHORT_MIXED) == own  # a product name in a Japanese sentence
    french = caption_rules("fr")
    assert cue_rules(french, "これは日本語") == french  # only CJK videos switch


def test_reading_time_follows_the_sentences_script():
    # 4 characters a second would ask 45 s of the English sentence; 17 ask 10.7 s
    assert required_seconds(ENGLISH, "ja") == required_seconds(ENGLISH, "en")
    assert required_seconds(ENGLISH, "ja") < 12
    assert required_seconds(MIXED, "ja") > 4 * required_seconds(MIXED, "en")


def _words(text: str) -> list[str]:
    return text.split()


def test_build_cues_wraps_and_times_each_sentence_by_its_script():
    # timed as espeak speaks them: the English sentence in the English voice (11 s),
    # the Japanese ones held long enough for 4 characters a second (24 s and 4.75 s)
    sentences = [
        TimedSentence(MIXED, 0.0, 24.0),
        TimedSentence(ENGLISH, 24.2, 35.2),
        TimedSentence("The archives are updated twice every day.", 35.4, 37.9),
        TimedSentence(SHORT_MIXED, 38.1, 43.0),
    ]
    cues = build_cues(sentences, 44.0, language="ja")
    assert cue_problems(cues, "ja") == []
    latin = [cue for cue in cues if is_latin_text(cue.text)]
    japanese = [cue for cue in cues if re.search("[\u3040-\u30ff]", cue.text)]
    assert latin and japanese
    english_words = _words(ENGLISH) + _words("The archives are updated twice every day.")
    for cue in latin:
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and max(map(len, lines)) <= 42
        # broken at spaces only: every line is whole words of the sentences
        assert all(word in english_words for line in lines for word in line.split())
        assert len(cue.text.replace("\n", "")) / (cue.end_s - cue.start_s) <= 17 + 1e-9
    # the English sentence fits 3 cues at 42 characters a line (at 13 cells, 26
    # half-width characters a line, it took 4 and 45 s to read)
    assert sum(1 for cue in latin if cue.start_s < 35.3) <= 3
    ja = caption_rules("ja")
    for cue in japanese:
        assert max(line_width(line, ja) for line in cue.text.split("\n")) <= 13
    # a Latin sentence and a Japanese one never share a cue
    assert not any(is_latin_text(c.text) is False and "archives" in c.text for c in cues)


def test_a_narrower_line_limit_narrows_latin_cues_in_proportion():
    # a caption style's 10-cell line (instead of 13) gives English cues 32 characters
    cues = build_cues([TimedSentence(ENGLISH, 0.0, 12.0)], 13.0, language="ja", max_line_chars=10)
    widest = max(len(line) for cue in cues for line in cue.text.split("\n"))
    assert 26 < widest <= 32
    # a word longer than that stays whole (up to the 42 characters the gate allows)
    word = "debian-archive-keyring-and-friends.deb"  # 38 characters
    cues = build_cues(
        [TimedSentence(f"Install the {word} package first.", 0.0, 4.0)],
        5.0,
        language="ja",
        max_line_chars=10,
    )
    assert word in [line for cue in cues for line in cue.text.split("\n")]
    assert cue_problems(cues, "ja") == []


# -- the gate ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s, 160x90, silent: the cues' timing is what is checked."""
    import subprocess

    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("bycue") / "video.mp4"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", "color=c=black:s=160x90:r=10:d=6"]
    cmd += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=6"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-shortest", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def _gate(mp4: Path, root: Path, cues: list[tuple[float, float, str]], thresholds=None) -> dict:
    import reelgraph.plugins.gates.captions as gate
    from reelgraph.models import Video
    from reelgraph.plugins._media.captions import write_srt, write_vtt
    from reelgraph.run.context import NodeContext

    captions = [
        Caption(index=i + 1, start_s=a, end_s=b, text=t) for i, (a, b, t) in enumerate(cues)
    ]
    video = Video(
        path=mp4,
        srt_path=write_srt(captions, root / "video.srt"),
        vtt_path=write_vtt(captions, root / "video.vtt"),
        duration_s=6.0,
        width_px=160,
        height_px=90,
        fps=10,
        captions=captions,
        language="ja",
    )
    results = gate.check_quality(
        narrations=None,
        video=video,
        gates=None,
        thresholds=thresholds or {},
        ctx=NodeContext.for_testing(root),
    )
    return {r.details["check"]: r for r in results or []}


def test_the_gate_holds_each_cue_to_its_scripts_rules(mp4, tmp_path):
    english = "The Debian archives also carry\napproximately 1000 software packages."  # 30 + 37 characters
    japanese = "支払いを要求する\nことはありません。"  # 17 characters, 9 cells a line
    results = _gate(mp4, tmp_path, [(0.0, 4.5, japanese), (4.5, 6.0, english[:20])])
    assert results["cps"].passed and results["line_length"].passed
    # English at 42 characters a line and 15 a second: over Japanese limits, within its own
    results = _gate(mp4, tmp_path, [(0.0, 1.5, japanese[:4]), (1.5, 6.0, english)])
    assert results["line_length"].passed, results["line_length"].message
    assert results["cps"].passed, results["cps"].message
    assert "by each cue's script" in results["cps"].message
    # the same speed in Japanese fails, and the gate names that cue
    results = _gate(mp4, tmp_path, [(0.0, 1.0, japanese), (1.0, 6.0, english)])
    assert not results["cps"].passed and results["cps"].details["cues_over"] == [1]
    assert results["cps"].threshold == 4.0


def test_a_threshold_the_spec_gives_applies_to_every_cue(mp4, tmp_path):
    english = "The Debian archives also carry\napproximately 1000 software packages."
    results = _gate(mp4, tmp_path, [(1.5, 6.0, english)], {"captions": {"max_cps": 10}})
    assert not results["cps"].passed and results["cps"].threshold == 10
    results = _gate(mp4, tmp_path, [(1.5, 6.0, english)], {"captions": {"max_line_chars": 30}})
    assert not results["line_length"].passed and results["line_length"].measured == 37
