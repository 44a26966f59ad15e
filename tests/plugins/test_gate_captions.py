"""The ``captions`` gate on real SRT/VTT files and a real MP4 whose speech starts at 1 s."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import reelgraph.plugins.gates.captions as gate_captions
from reelgraph.errors import InvalidInputError
from reelgraph.models import Caption, Narration, SpeechSegment, Video
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins._media.captions import caption_rules, write_srt, write_vtt
from reelgraph.run.context import NodeContext

from .conftest import make_tone_wav

VIDEO_S = 6.0
SPEECH_AT_S = 1.0


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s, 160x90; silence, then a 440 Hz tone from 1 s to 5 s (the "speech")."""
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("captions") / "video.mp4"
    tone = f"sine=frequency=440:duration=4,adelay={SPEECH_AT_S * 1000:g}:all=1"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"color=c=black:s=160x90:r=10:d={VIDEO_S}"]
    cmd += ["-f", "lavfi", "-i", f"{tone},apad=whole_dur={VIDEO_S}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-shortest", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


def _video(mp4: Path, root: Path, cues: list[tuple[float, float, str]], vtt: bool = True) -> Video:
    """A Video whose sidecar files hold ``cues`` ((start_s, end_s, text)), written with srt."""
    captions = [
        Caption(index=i + 1, start_s=a, end_s=b, text=t) for i, (a, b, t) in enumerate(cues)
    ]
    srt_path = write_srt(captions, root / "video.srt")
    vtt_path = write_vtt(captions, root / "video.vtt") if vtt else None
    return Video(
        path=mp4,
        srt_path=srt_path,
        vtt_path=vtt_path,
        duration_s=VIDEO_S,
        width_px=160,
        height_px=90,
        fps=10,
        captions=captions,
    )


def _narrations(root: Path, sentences: list[str]) -> list[Narration]:
    segments = []
    for i, text in enumerate(sentences):
        samples = make_tone_wav(root / f"s{i}.wav", 0.2)
        segments.append(
            SpeechSegment(
                text=text, path=root / f"s{i}.wav", duration_s=samples / 22050, sample_rate_hz=22050
            )
        )
    return [
        Narration(segments=segments, voice="tone", duration_s=sum(s.duration_s for s in segments))
    ]


def _check(ctx: NodeContext, **kwargs) -> dict | None:
    args = {"narrations": None, "video": None, "gates": None, "thresholds": {}}
    args.update(kwargs)
    results = gate_captions.check_quality(ctx=ctx, **args)
    if results is None:
        return None
    assert all(r.gate == "captions" and r.stage == "video" for r in results)
    return {r.details["check"]: r for r in results}


GOOD = [
    (1.0, 3.0, "Backups run every night."),  # 24 chars in 2 s = 12 cps
    (3.0, 5.0, "Restores take a few\nminutes at most"),  # 34 chars in 2 s = 17 cps
]


def test_good_captions_pass_every_check(mp4, tmp_path, ctx) -> None:
    video = _video(mp4, tmp_path, GOOD)
    narrations = _narrations(tmp_path, ["Backups run every night.", "Restores take minutes."])
    results = _check(ctx, video=video, narrations=narrations)
    assert set(results) == {"present", "sync", "cps", "line_length", "lines", "min_duration"}
    assert all(r.passed for r in results.values()), [r.message for r in results.values()]
    assert results["present"].measured == 2
    assert results["cps"].measured == pytest.approx(17.0)
    assert results["cps"].details["worst_cue"] == 2
    assert results["line_length"].measured == 24
    assert results["lines"].measured == 2 and results["lines"].details["worst_cue"] == 2
    assert results["min_duration"].measured == pytest.approx(2.0)
    sync = results["sync"]
    assert sync.measured == 0
    assert sync.details["first_speech_s"] == pytest.approx(SPEECH_AT_S, abs=0.03)
    assert sync.details["video_s"] == pytest.approx(VIDEO_S, abs=0.05)


def test_captions_that_are_too_fast_fail(mp4, tmp_path, ctx) -> None:
    fast = "Sixty characters of caption text, shown for one second only!"
    assert len(fast) == 60
    video = _video(mp4, tmp_path, [GOOD[0], (3.0, 4.0, fast)])
    results = _check(ctx, video=video)
    cps = results["cps"]
    assert not cps.passed and cps.blocking
    assert cps.measured == pytest.approx(60.0)
    assert cps.threshold == 17.0 and cps.unit == "cps"
    assert cps.details["worst_cue"] == 2 and cps.details["cues_over"] == [2]
    assert not results["line_length"].passed
    assert results["line_length"].measured == 60


def test_line_length_lines_and_min_duration(mp4, tmp_path, ctx) -> None:
    cues = [
        (1.0, 3.0, "A line of exactly forty-five characters, yes."),
        (3.0, 4.6, "one\ntwo\nthree"),
        (4.6, 5.1, "Short."),
    ]
    results = _check(ctx, video=_video(mp4, tmp_path, cues))
    assert not results["line_length"].passed
    assert (
        results["line_length"].measured == 45 and results["line_length"].details["worst_cue"] == 1
    )
    assert not results["lines"].passed
    assert results["lines"].measured == 3 and results["lines"].details["worst_cue"] == 2
    assert not results["min_duration"].passed
    assert results["min_duration"].measured == pytest.approx(0.5)
    assert results["min_duration"].details["worst_cue"] == 3
    assert results["present"].passed and results["sync"].passed


def test_out_of_sync_captions_fail(mp4, tmp_path, ctx) -> None:
    cues = [
        (2.0, 4.0, "Starts a second after the speech."),
        (3.5, 5.0, "Overlaps the cue before."),
        (5.0, 7.5, "Ends after the video."),
    ]
    narrations = _narrations(
        tmp_path,
        [
            "Starts a second after the speech.",
            "Overlaps the cue before.",
            "Never captioned.",
            "Ends after the video.",
        ],
    )
    sync = _check(ctx, video=_video(mp4, tmp_path, cues), narrations=narrations)["sync"]
    assert not sync.passed
    assert sync.measured == 4  # overlap, past the end, a sentence not captioned, late start
    assert sync.details["first_cue_offset_s"] == pytest.approx(1.0, abs=0.03)
    text = " ".join(sync.details["problems"])
    assert "overlaps cue 1" in text and "after the video" in text
    assert "1 of 4 spoken sentences not in the captions, first: 'Never captioned.'" in text
    assert "first cue starts at 2.000 s" in text
    assert sync.details["uncaptioned"] == ["Never captioned."]
    assert sync.details["worst_cue"] == 2


def test_missing_files(mp4, tmp_path, ctx) -> None:
    results = _check(ctx, video=_video(mp4, tmp_path, GOOD, vtt=False))
    assert not results["present"].passed
    assert "no WebVTT file" in results["present"].message
    assert results["cps"].passed  # the SRT was still read
    no_files = Video(path=mp4, duration_s=VIDEO_S, width_px=160, height_px=90, fps=10)
    only = _check(ctx, video=no_files)
    assert list(only) == ["present"]
    assert not only["present"].passed and only["present"].measured == 0


def test_broken_srt_is_reported(mp4, tmp_path, ctx) -> None:
    video = _video(mp4, tmp_path, GOOD)
    Path(video.srt_path).write_text("1\nthis is not a timestamp\nhello\n", encoding="utf-8")
    results = _check(ctx, video=video)
    assert list(results) == ["present"] and not results["present"].passed
    assert "does not parse" in results["present"].message


def test_thresholds(mp4, tmp_path, ctx) -> None:
    video = _video(mp4, tmp_path, [GOOD[0], (3.0, 5.0, "Forty characters of caption in two secs.")])
    assert not _check(ctx, video=video)["cps"].passed  # 20 cps
    relaxed = _check(ctx, video=video, thresholds={"captions": {"max_cps": 20}})
    assert relaxed["cps"].passed and relaxed["cps"].threshold == 20
    with pytest.raises(InvalidInputError, match="max_cpl"):
        _check(ctx, video=video, thresholds={"captions": {"max_cpl": 40}})
    with pytest.raises(InvalidInputError, match="max_lines"):
        _check(ctx, video=video, thresholds={"captions": {"max_lines": True}})
    assert _check(ctx, video=video, gates=["duration"]) is None
    assert _check(ctx, video=None) is None


def test_called_through_pluggy(mp4, tmp_path) -> None:
    video = _video(mp4, tmp_path, GOOD)
    outputs = (
        PluginRegistry(env={"REELGRAPH_PLUGINS": "captions"})
        .load()
        .pm.hook.check_quality(
            document=None,
            script=None,
            visuals=None,
            narrations=None,
            video=video,
            targets={},
            gates=["captions"],
            thresholds={},
            ctx=NodeContext.for_testing(tmp_path),
        )
    )
    results = [r for batch in outputs if batch for r in batch]
    assert len(results) == 6 and all(r.passed for r in results)


def test_sentences_split_or_merged_across_cues_are_in_sync(mp4, tmp_path, ctx) -> None:
    cues = [
        (1.0, 2.5, "Hi. Welcome."),  # two short sentences share a cue
        (2.5, 4.0, "This long sentence is split"),
        (4.0, 5.5, "over two cues."),
    ]
    narrations = _narrations(
        tmp_path, ["Hi.", "Welcome!", "This long sentence is split over two cues."]
    )
    sync = _check(ctx, video=_video(mp4, tmp_path, cues), narrations=narrations)["sync"]
    assert sync.passed, sync.details["problems"]
    assert sync.details["sentences"] == 3 and sync.details["uncaptioned"] == []


# -- languages -----------------------------------------------------------------------

# From the Vim tutor's Japanese translation (/usr/share/vim/vim90/tutor/tutor.ja.utf-8).
JA_LINE = "移動に慣れるまで、スクリーンでカーソル移動させましょう。"  # 28 full-width characters


def test_the_videos_language_sets_the_limits(mp4, tmp_path, ctx):
    cues = [(1.0, 3.5, "移動に慣れるまで、"), (3.5, 5.5, JA_LINE[9:])]  # 9 and 19 characters
    video = _video(mp4, tmp_path, cues)
    # English limits (42 characters, 17 per second): both cues pass
    english = _check(ctx, video=video.model_copy(update={"language": "en"}))
    assert english["cps"].passed and english["line_length"].passed
    # Japanese (Netflix: 13 cells a line, 4 characters a second): the second fails both
    japanese = _check(ctx, video=video.model_copy(update={"language": "ja"}))
    assert not japanese["cps"].passed and japanese["cps"].threshold == 4.0
    assert japanese["cps"].details["cues_over"] == [2]
    assert not japanese["line_length"].passed and japanese["line_length"].threshold == 13
    assert japanese["line_length"].measured == 19.0
    # without a language on the video, the cues' kana say Japanese
    assert _check(ctx, video=video)["cps"].threshold == 4.0
    # explicit thresholds still win
    loose = _check(ctx, video=video, thresholds={"captions": {"max_cps": 10, "max_line_chars": 20}})
    assert loose["cps"].passed and loose["line_length"].passed


def test_a_cue_exactly_at_the_reading_speed_passes() -> None:
    # The Japanese FAQ's cue 15: 21 characters from 00:02:06,128 to 00:02:11,378 is
    # 4.0 per second, but 131.378 - 126.128 in floating point is 5.2499999999999
    lines = ("探しているものがこ", "の FAQ から見つけら")
    cue = gate_captions.Cue(index=15, start_s=126.128, end_s=131.378, lines=lines)
    assert cue.chars / (131.378 - 126.128) > 4.0  # the float subtraction alone fails it
    assert cue.duration_s == 5.25
    limits = gate_captions._Limits(4.0, 13.0, caption_rules("ja"))
    result = gate_captions._cps([cue], {15: limits})
    assert result.passed and result.measured == 4.0


def test_half_width_characters_count_half_a_cell(mp4, tmp_path, ctx):
    line = "Capsロックキーを確認した後"  # 4 half-width + 11 full-width = 13 cells
    video = _video(mp4, tmp_path, [(1.0, 5.0, line)]).model_copy(update={"language": "ja"})
    result = _check(ctx, video=video)["line_length"]
    assert result.passed and result.measured == 13.0


def test_a_japanese_sentence_cut_between_characters_is_still_captioned(mp4, tmp_path, ctx):
    cues = [(1.0, 3.0, "移動に慣れるまで、スクリー"), (3.0, 5.0, "ンでカーソル移動させましょう。")]
    video = _video(mp4, tmp_path, cues).model_copy(update={"language": "ja"})
    sync = _check(ctx, video=video, narrations=_narrations(tmp_path, [JA_LINE]))["sync"]
    assert sync.details["uncaptioned"] == []
    other = _narrations(tmp_path, ["移動に慣れるまで、スクリーンで文章を読みましょう。"])
    assert _check(ctx, video=video, narrations=other)["sync"].details["uncaptioned"]


def test_a_word_longer_than_a_line_broken_across_cues_still_counts_as_captioned() -> None:
    """structlog's changelog names `structlog.processors.CallsiteParameterAdder` (43
    characters): the caption builder breaks it over two lines, and the sync check
    must join the pieces, not call the sentence uncaptioned."""
    from reelgraph.plugins._media.captions import TimedSentence, build_cues
    from reelgraph.plugins.gates.captions import Cue, _uncaptioned

    sentence = (
        "structlog.processors.CallsiteParameterAdder now reports the calling thread's id "
        "and name for async log methods."
    )
    built = build_cues([TimedSentence(sentence, 0.0, 8.0, ())], 10.0, language="en")
    cues = [Cue(c.index, c.start_s, c.end_s, tuple(c.text.split("\n"))) for c in built]
    lines = [line for cue in cues for line in cue.lines]
    assert not any("structlog.processors.CallsiteParameterAdder" in line for line in lines)
    assert _uncaptioned([sentence], cues) == ([], cues[-1].index)
    # a word that really is missing is still caught
    missing, _ = _uncaptioned([sentence.replace("calling", "callers")], cues)
    assert missing
