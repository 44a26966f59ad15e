"""Latin words inside a Japanese sentence are read by the English voice, in one utterance."""

from __future__ import annotations

from reelgraph.plugins.speech._latin_runs import mark_latin_runs
from reelgraph.plugins.speech.espeak import _latin_voice, synthesize_to_wav

# The Japanese Debian FAQ (tests/corpus/html/debian-faq-basic-defs.ja.html, 1.6)
SENTENCE = "Debian プロジェクトは Free Software Foundation の GNU プロジェクトにとってどういう存在?"


def test_each_run_of_latin_words_is_marked_and_mapped_back():
    marked = mark_latin_runs(SENTENCE)
    assert marked is not None and marked.runs == 3
    assert marked.ssml.startswith('<voice xml:lang="en-us">Debian</voice> プロジェクトは ')
    assert '<voice xml:lang="en-us">Free Software Foundation</voice>' in marked.ssml
    # every markup position maps onto the text: a word's first letter onto itself
    at = marked.ssml.index("Free")
    assert marked.source_index(at) == SENTENCE.index("Free")
    assert marked.source_index(0) == 0  # a tag: the text character after it
    assert marked.source_index(len(marked.ssml)) == len(SENTENCE)


def test_markup_in_the_text_is_escaped_and_single_letters_stay():
    text = 'x < y & "OK" です'
    marked = mark_latin_runs(text)
    assert marked is not None and marked.runs == 1  # "x" and "y" are single letters
    assert marked.ssml == 'x &lt; y &amp; &quot;<voice xml:lang="en-us">OK</voice>&quot; です'
    assert marked.source_index(marked.ssml.index("&amp;") + 2) == text.index("&")
    assert mark_latin_runs("これは日本語の文です。") is None
    assert mark_latin_runs("j キーを押して") is None


def test_the_japanese_voice_reads_latin_runs_in_english_with_word_timings(tmp_path):
    assert _latin_voice("ja") == "en-us" and _latin_voice("cmn") is None
    spelled = synthesize_to_wav(SENTENCE, tmp_path / "a.wav", "ja", 165)
    switched = synthesize_to_wav(SENTENCE, tmp_path / "b.wav", "ja", 165, latin_voice="en-us")
    # measured: 17.3 s spelled out, 11.1 s with the runs in English
    assert switched.duration_s < 0.75 * spelled.duration_s
    assert [w.text for w in switched.words] == [w.text for w in spelled.words]
    starts = [w.start_s for w in switched.words]
    assert starts == sorted(starts) and starts[-1] < switched.duration_s
    assert switched.words[2].text == "Free" and switched.words[2].start_s > 0.5
