"""The ``captions`` quality gate: are the video's captions there, in sync and readable?

Stage ``video`` only (needs a ``video``). The cues are read from the SubRip
file (``Video.srt_path``) with ``srt``; the WebVTT file with ``webvtt-py``.
One result per check, ``details["check"]`` naming it:

- ``present``: the SRT and VTT files exist, parse, hold at least one cue and
  the same number of cues. When no cue can be read, only this result is
  returned.
- ``sync``: every cue ends after it starts and inside the video (its length
  measured with PyAV), cues are ordered and do not overlap; with
  ``narrations``, the first cue starts within ``max_first_cue_offset_s`` of
  the first speech (the first audio sample of the video louder than
  -40 dBFS, decoded with PyAV) and the words of every spoken sentence appear,
  in order, in the cues (ignoring case and punctuation; a sentence may span
  cues and short ones may share a cue, so cue and sentence counts need not
  match). ``measured`` = the number of problems found.
- ``cps``: reading speed, characters (line breaks excluded, spaces counted)
  per second of the cue; the fastest cue.
- ``line_length``: characters (cells in Chinese, Japanese, Korean) per
  line; the longest line.
- ``lines``: lines per cue; the cue with most lines.
- ``min_duration``: seconds on screen; the shortest cue.

Every result names the worst cue (its SRT index) in ``details["worst_cue"]``.

Thresholds (``thresholds["captions"]``), by default those of the video's
language (``Video.language``; without one, guessed from the cues' writing
system), the same limits the caption builder meets
(:func:`reelgraph.plugins._media.captions.caption_rules`), applied per cue
by the cue's script (:func:`reelgraph.plugins._media.captions.cue_rules`):
in a Chinese, Japanese or Korean video a cue in the Latin script alone (an
English sentence, spoken by the English voice) is held to the English
limits, a cue with any Han, kana or Hangul to its language's. A threshold
given in ``thresholds["captions"]`` applies to every cue:
    max_cps: 17 -- Netflix timed text style guide, English (adult content);
        Japanese 4, Chinese 9, Korean 12.
    max_line_chars: 42 -- Netflix timed text style guide; BBC subtitle
        guidelines use about 37-42. Japanese 13, Chinese and Korean 16,
        counted in cells (a full-width character 1, any other 0.5).
    max_lines: 2 -- Netflix and BBC guidelines.
    min_duration_s: 1.0 -- the issue's figure (Netflix: 5/6 s minimum; the
        assembler's ``_captions.MIN_CUE_S``).
    max_first_cue_offset_s: 0.5 -- the issue's sync tolerance.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph import hookimpl
from reelgraph.models import GateResult, Narration, Video
from reelgraph.plugins._media.captions import (
    MAX_LINE_CHARS,
    MAX_LINES,
    MIN_CUE_S,
    CaptionRules,
    caption_rules,
    cue_rules,
    line_width,
)
from reelgraph.plugins.gates._common import gate_selected, probe_duration_s, resolve_thresholds
from reelgraph.plugins.gates.key_messages import tokens

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["DEFAULTS", "Cue", "check_quality", "first_sound_s", "read_srt"]

GATE = "captions"

#: Default thresholds (English and the default rules); sources in the module docstring.
DEFAULTS: dict[str, float] = {
    "max_cps": 17.0,
    "max_line_chars": float(MAX_LINE_CHARS),
    "max_lines": float(MAX_LINES),
    "min_duration_s": MIN_CUE_S,
    "max_first_cue_offset_s": 0.5,
}
_LIMITS: dict[str, tuple[float, float]] = {
    "max_cps": (1.0, 60.0),
    "max_line_chars": (10.0, 200.0),
    "max_lines": (1.0, 10.0),
    "min_duration_s": (0.0, 10.0),
    "max_first_cue_offset_s": (0.0, 10.0),
}
#: Speech onset: the first sample at or above -40 dBFS (a common silence
#: threshold; espeak's speech peaks far above it, its leading silence is below).
SPEECH_THRESHOLD = 10 ** (-40 / 20)
_EPSILON_S = 0.0015  # SRT times are whole milliseconds
_MARKUP = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # <i>, </font>, {\an8}
# One CJK character (kana, Han, Hangul, full-width forms), or a run of anything else.
_CJK_SPLIT = re.compile(
    r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3\uff00-\uffef]|[^\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3\uff00-\uffef]+"
)


@dataclass(frozen=True, slots=True)
class Cue:
    """One cue as read from the SRT file: its 1-based index, times in seconds, lines."""

    index: int
    start_s: float
    end_s: float
    lines: tuple[str, ...]

    @property
    def duration_s(self) -> float:
        """Seconds on screen, from the whole milliseconds SubRip stores: 11.378 - 6.128 is
        5.25, not 5.2499999999999 (which read 21 characters at 4.0000001 per second)."""
        return (round(self.end_s * 1000) - round(self.start_s * 1000)) / 1000

    @property
    def chars(self) -> int:
        """Characters shown, line breaks excluded."""
        return sum(len(line) for line in self.lines)


def read_srt(path: Path) -> list[Cue]:
    """Cues of a SubRip file in file order, markup removed.

    Raises:
        ValueError: the file is not valid SubRip or not UTF-8.
        OSError: it cannot be read.
    """
    import srt

    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as err:  # an Exception, not a ValueError
        raise ValueError(str(err)) from err
    cues = []
    for sub in subtitles:
        lines = tuple(_MARKUP.sub("", line).strip() for line in sub.content.split("\n"))
        cues.append(
            Cue(
                index=sub.index,
                start_s=sub.start.total_seconds(),
                end_s=sub.end.total_seconds(),
                lines=tuple(line for line in lines if line),
            )
        )
    return cues


def first_sound_s(path: Path, threshold: float = SPEECH_THRESHOLD) -> float | None:
    """Seconds to the first audio sample with ``|amplitude| >= threshold`` (full scale 1.0).

    Decodes the first audio stream with PyAV, resampled to mono float, and
    stops at the first loud sample. ``None`` without audio or when all of it
    is quieter.
    """
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono")
        for frame in container.decode(stream):
            for mono in resampler.resample(frame):
                samples = array("f", bytes(mono.planes[0]))[: mono.samples]
                if not samples or max(max(samples), -min(samples)) < threshold:
                    continue
                at = next(i for i, v in enumerate(samples) if abs(v) >= threshold)
                start = float(mono.pts * mono.time_base) if mono.pts is not None else 0.0
                return max(0.0, start + at / mono.sample_rate)
    return None


@hookimpl
def check_quality(
    narrations: list[Narration] | None,
    video: Video | None,
    gates: list[str] | None,
    thresholds: dict[str, dict[str, Any]],
    ctx: NodeContext,
) -> list[GateResult] | None:
    """Check the video's captions: present, in sync, reading speed, line length, lines, duration.

    Defaults: those of the video's language (English: ``max_cps`` 17,
    ``max_line_chars`` 42, ``max_lines`` 2, Netflix timed text style guide),
    ``min_duration_s`` 1 s, ``max_first_cue_offset_s`` 0.5 s (the issue).
    Returns ``None`` without a video.
    """
    if not gate_selected(GATE, gates) or video is None:
        return None
    present, cues = _present(video)
    sample = " ".join(line for cue in cues[:20] for line in cue.lines)
    rules = caption_rules(video.language, sample)
    defaults = {
        **DEFAULTS,
        "max_cps": rules.max_cps,
        "max_line_chars": float(rules.max_line_chars),
        "max_lines": float(rules.max_lines),
    }
    limits = resolve_thresholds(GATE, defaults, _LIMITS, thresholds)
    if not cues:
        return [present]
    given = (thresholds or {}).get(GATE) or {}
    per_cue = {cue.index: _cue_limits(cue, rules, limits, given) for cue in cues}
    results = [
        present,
        _sync(cues, video, narrations, limits),
        _cps(cues, per_cue),
        _line_length(cues, per_cue),
        _lines(cues, int(limits["max_lines"])),
        _min_duration(cues, limits["min_duration_s"]),
    ]
    ctx.log.info(
        "captions gate",
        cues=len(cues),
        language=video.language,
        failed=[r.details["check"] for r in results if not r.passed],
    )
    return results


@dataclass(frozen=True, slots=True)
class _Limits:
    """One cue's reading speed (characters a second) and line length (characters, or
    cells under CJK ``rules``), and the rules its lines are measured by."""

    max_cps: float
    max_line_chars: float
    rules: CaptionRules


def _cue_limits(
    cue: Cue, rules: CaptionRules, limits: dict[str, float], given: dict[str, Any]
) -> _Limits:
    """The limits of ``cue``: the rules of its script (``cue_rules``), a threshold the
    spec gives winning over them."""
    own = cue_rules(rules, " ".join(cue.lines))
    if own is rules:
        return _Limits(limits["max_cps"], limits["max_line_chars"], rules)
    return _Limits(
        limits["max_cps"] if "max_cps" in given else own.max_cps,
        limits["max_line_chars"] if "max_line_chars" in given else float(own.max_line_chars),
        own,
    )


def _result(check: str, passed: bool, message: str, remedy: str, **fields: Any) -> GateResult:
    details = {"check": check, **fields.pop("details", {})}
    return GateResult(
        gate=GATE,
        passed=passed,
        message=message,
        remedy="" if passed else remedy,
        stage="video",
        details=details,
        **fields,
    )


def _present(video: Video) -> tuple[GateResult, list[Cue]]:
    """The ``present`` result and the cues read (empty when none could be read)."""
    problems: list[str] = []
    cues: list[Cue] = []
    srt_path, vtt_path = video.srt_path, video.vtt_path
    if srt_path is None or not Path(srt_path).is_file():
        problems.append(f"no SRT file ({srt_path or 'none given'})")
    else:
        try:
            cues = read_srt(Path(srt_path))
        except (ValueError, OSError) as err:
            problems.append(f"SRT file {srt_path} does not parse: {err}")
        if not cues and not problems:
            problems.append(f"SRT file {srt_path} has no cue")
    vtt_cues = None
    if vtt_path is None or not Path(vtt_path).is_file():
        problems.append(f"no WebVTT file ({vtt_path or 'none given'})")
    else:
        vtt_cues = _count_vtt(Path(vtt_path), problems)
    if cues and vtt_cues is not None and vtt_cues != len(cues):
        problems.append(f"WebVTT has {vtt_cues} cues, SRT {len(cues)}")
    message = (
        f"captions present: {len(cues)} cues in SRT and WebVTT"
        if not problems
        else "captions missing or incomplete: " + "; ".join(problems)
    )
    result = _result(
        "present",
        not problems,
        message,
        "write SRT and WebVTT captions with the same cues (the ffmpeg assembler does)",
        measured=float(len(cues)),
        threshold=1.0,
        unit="cues",
        details={"problems": problems, "vtt_cues": vtt_cues, "worst_cue": None},
    )
    return result, cues


def _count_vtt(path: Path, problems: list[str]) -> int | None:
    import webvtt

    try:
        return len(webvtt.read(str(path)).captions)
    except Exception as err:  # webvtt-py raises its own MalformedFileError and others
        problems.append(f"WebVTT file {path} does not parse: {err}")
        return None


def _sync(
    cues: list[Cue], video: Video, narrations: list[Narration] | None, limits: dict[str, float]
) -> GateResult:
    length_s = probe_duration_s(Path(video.path))
    problems: list[tuple[int, str]] = []
    previous: Cue | None = None
    for cue in cues:
        if cue.end_s <= cue.start_s:
            problems.append((cue.index, f"cue {cue.index} ends before it starts"))
        if cue.end_s > length_s + _EPSILON_S:
            problems.append(
                (cue.index, f"cue {cue.index} ends at {cue.end_s:.3f} s, after the video")
            )
        if previous is not None and cue.start_s < previous.start_s:
            problems.append((cue.index, f"cue {cue.index} starts before cue {previous.index}"))
        elif previous is not None and cue.start_s < previous.end_s - _EPSILON_S:
            overlap = previous.end_s - cue.start_s
            problems.append(
                (cue.index, f"cue {cue.index} overlaps cue {previous.index} by {overlap:.3f} s")
            )
        previous = cue
    details: dict[str, Any] = {"video_s": round(length_s, 3)}
    if narrations is not None:
        problems += _speech_sync(cues, video, narrations, limits, details)
    details["problems"] = [text for _, text in problems]
    details["worst_cue"] = problems[0][0] if problems else None
    message = (
        f"{len(cues)} cues ordered, not overlapping and inside the {length_s:.1f} s video"
        if not problems
        else f"{len(problems)} sync problem(s): {problems[0][1]}"
    )
    return _result(
        "sync",
        not problems,
        message,
        "re-time the captions from the narration's timings (re-run the assembler)",
        measured=float(len(problems)),
        threshold=0.0,
        unit="problems",
        details=details,
    )


def _speech_sync(
    cues: list[Cue],
    video: Video,
    narrations: list[Narration],
    limits: dict[str, float],
    details: dict[str, Any],
) -> list[tuple[int, str]]:
    """First-cue offset from the first speech, and every spoken sentence captioned."""
    problems: list[tuple[int, str]] = []
    spoken = [seg.text for n in narrations for seg in n.segments if seg.text.strip()]
    details["sentences"] = len(spoken)
    missing, at_cue = _uncaptioned(spoken, cues)
    details["uncaptioned"] = missing
    if missing:
        problems.append(
            (
                at_cue,
                f"{len(missing)} of {len(spoken)} spoken sentences not in the captions, "
                f"first: {missing[0]!r}",
            )
        )
    speech_s = first_sound_s(Path(video.path))
    details["first_speech_s"] = None if speech_s is None else round(speech_s, 3)
    if speech_s is not None:
        offset = cues[0].start_s - speech_s
        details["first_cue_offset_s"] = round(offset, 3)
        if abs(offset) > limits["max_first_cue_offset_s"]:
            problems.append(
                (
                    cues[0].index,
                    f"first cue starts at {cues[0].start_s:.3f} s, first speech at "
                    f"{speech_s:.3f} s ({offset:+.3f} s)",
                )
            )
    return problems


def _uncaptioned(spoken: list[str], cues: list[Cue]) -> tuple[list[str], int]:
    """Sentences whose words do not appear, in order, in the cues' text; and the cue
    where the first one should have been (its SRT index).

    Words are compared case- and punctuation-insensitively, so a sentence split
    over several cues, or two short ones merged into one cue, both count.
    """
    words: list[str] = []
    owner: list[int] = []  # the cue each caption word belongs to
    for cue in cues:
        cue_words = _words(" ".join(cue.lines))
        words += cue_words
        owner += [cue.index] * len(cue_words)
    missing: list[str] = []
    at_cue = cues[-1].index
    pos = 0
    for sentence in spoken:
        found, cursor = True, pos
        for word in _words(sentence):
            after = _find(word, words, cursor)
            if after is None:
                found = False
                break
            cursor = after
        if found:
            pos = cursor
        else:
            if not missing and pos < len(owner):
                at_cue = owner[pos]
            missing.append(sentence)
    return missing, at_cue


def _find(word: str, words: list[str], start: int) -> int | None:
    """Where ``word`` ends in ``words`` from ``start`` (the index after it), or ``None``.

    A word longer than a caption line (``structlog.processors.CallsiteParameterAdder``)
    is broken across lines or cues: it matches consecutive caption words that
    join up to it.
    """
    for at in range(start, len(words)):
        if words[at] == word:
            return at + 1
        if word.startswith(words[at]):
            joined, end = words[at], at + 1
            while end < len(words) and len(joined) < len(word) and word.startswith(joined):
                joined += words[end]
                end += 1
            if joined == word:
                return end
    return None


def _words(text: str) -> list[str]:
    """Word tokens; Chinese, Japanese and Korean characters one by one.

    Captions break CJK text between any two characters, so a cue boundary may
    fall inside what :func:`tokens` sees as one word.
    """
    return [part for token in tokens(text) for part in _CJK_SPLIT.findall(token)]


def _limits_note(per_cue: dict[int, _Limits], field: str) -> str:
    """``" (limits 4 and 17 by each cue's script)"`` when cues have different limits."""
    values = sorted({getattr(limits, field) for limits in per_cue.values()})
    if len(values) < 2:
        return ""
    return f" (limits {' and '.join(f'{v:g}' for v in values)} by each cue's script)"


def _cps(cues: list[Cue], per_cue: dict[int, _Limits]) -> GateResult:
    """The fastest cue for its own limit: the one read furthest over (or nearest) it."""

    def speed(cue: Cue) -> float:
        return cue.chars / cue.duration_s if cue.duration_s > 0 else float("inf")

    worst = max(cues, key=lambda cue: speed(cue) / per_cue[cue.index].max_cps)
    value, limit = speed(worst), per_cue[worst.index].max_cps
    over = [cue.index for cue in cues if speed(cue) > per_cue[cue.index].max_cps]
    return _result(
        "cps",
        not over,
        f"fastest cue {worst.index}: {value:.1f} characters per second "
        f"({worst.chars} in {worst.duration_s:.2f} s); {len(over)} over {limit:g}"
        + _limits_note(per_cue, "max_cps"),
        f"slow the captions to {limit:g} characters per second or less: give cues "
        f"{_first(over)} more time or fewer words (slower speech rate, or a pause between scenes)",
        measured=round(value, 2) if value != float("inf") else None,
        threshold=limit,
        unit="cps",
        details={"worst_cue": worst.index, "cues_over": over},
    )


def _line_length(cues: list[Cue], per_cue: dict[int, _Limits]) -> GateResult:
    """The longest line for its cue's limit (cells under CJK rules, else characters)."""

    def widest(cue: Cue) -> float:
        rules = per_cue[cue.index].rules
        return max((line_width(line, rules) for line in cue.lines), default=0.0)

    worst = max(cues, key=lambda cue: widest(cue) / per_cue[cue.index].max_line_chars)
    value, limit = widest(worst), per_cue[worst.index].max_line_chars
    over = [cue.index for cue in cues if widest(cue) > per_cue[cue.index].max_line_chars]
    unit = "cells" if per_cue[worst.index].rules.cells else "characters"
    return _result(
        "line_length",
        not over,
        f"longest caption line: {value:g} {unit} (cue {worst.index}); {len(over)} cues over "
        f"{limit:g}" + _limits_note(per_cue, "max_line_chars"),
        f"wrap caption lines at {limit:g} {unit} (cues {_first(over)})",
        measured=float(value),
        threshold=float(limit),
        unit="chars",
        details={"worst_cue": worst.index, "cues_over": over},
    )


def _lines(cues: list[Cue], limit: int) -> GateResult:
    worst = max(cues, key=lambda cue: len(cue.lines))
    over = [cue.index for cue in cues if len(cue.lines) > limit]
    return _result(
        "lines",
        not over,
        f"most lines in a cue: {len(worst.lines)} (cue {worst.index}); {len(over)} over {limit}",
        f"split cues {_first(over)} so each has at most {limit} lines",
        measured=float(len(worst.lines)),
        threshold=float(limit),
        unit="lines",
        details={"worst_cue": worst.index, "cues_over": over},
    )


def _min_duration(cues: list[Cue], limit: float) -> GateResult:
    worst = min(cues, key=lambda cue: cue.duration_s)
    short = [cue.index for cue in cues if cue.duration_s < limit - _EPSILON_S / 3]
    return _result(
        "min_duration",
        not short,
        f"shortest cue {worst.index}: {worst.duration_s:.3f} s on screen; "
        f"{len(short)} under {limit:g} s",
        f"keep cues {_first(short)} on screen at least {limit:g} s "
        "(merge short cues or add a pause after them)",
        measured=round(worst.duration_s, 3),
        threshold=limit,
        unit="s",
        details={"worst_cue": worst.index, "cues_under": short},
    )


def _first(indices: list[int], shown: int = 5) -> str:
    """``"3, 7, 9"`` or ``"3, 7, 9, 12, 15 and 4 more"``."""
    head = ", ".join(map(str, indices[:shown]))
    return head + (f" and {len(indices) - shown} more" if len(indices) > shown else "")
