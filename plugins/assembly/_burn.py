"""Burned-in captions: each cue drawn onto its still with Pillow, each picture one IDR frame.

How: a still's segment is cut at the cue boundaries inside it; each piece
shows the still with that cue drawn on it
(:func:`reelgraph.plugins._media.caption_style.draw_cue`) or without a cue.
Each distinct picture (the plain still, each cue, each highlighted word) is
encoded as one IDR frame; the join (``_segments.join_segments``) repeats it
to the piece's length as a GOP of that IDR frame and the video's shared
all-skip P-frames (``_segments.SkipFrames``: one flat GOP encoded once per
video; a P-frame of skips decodes to whatever picture precedes it). The
pictures of consecutive stills (up to :data:`GROUP_PICTURES`) are encoded
in one ffmpeg run (``_segments.encode_group``), piped as raw RGB while the
worker that runs it draws them (:class:`Burned`). The cues are the caption
track's (``caption_fit.track_cues``): the same text, lines and times.

Why so: the black-frame gate samples keyframes and needs one every
``KEYFRAME_INTERVAL_S`` (0.5 s), and a still piece is repeated by packet
copy, so each picture needs its own IDR frame; but the P-frames after it
cost x264 ~6 ms each at 1080p even when all are skips (measured: 15 frames
0.15 CPU s against 0.07 s for the IDR frame alone, ``-preset ultrafast``
no better), and they were 14 of each piece's 15 encoded frames. With the
shared skip frames a picture costs its IDR frame (~25 ms with the RGB to
YUV conversion) and its drawing (~18 ms: ``draw_cue`` ~7 ms, the contrast
~3 ms on the box's pixels, the raw frame ~2 ms). Quality: the IDR frame
alone is what a still shows for its first frame anyway (README slide: 52.4
dB PSNR, 53.6 dB after x264's 14 refining P-frames).

Cost (``bench/burned_captions.py --repeat 3 --skip-libass`` on this README,
~273 s of video, 57 cues, 20 scenes, 77 pictures; 2 cores shared with other
work at load ~20, so CPU is the figure to read): soft 7.5 CPU s, burned 8.4
CPU s (1.11x; wall 18.1 / 20.7 s, 1.14x). Before (one encode per still,
pieces of 15 frames from a forced IDR each, BMP stills): 7.4 / 17.2 CPU s,
2.3x. Burning with libass, the soft render's picture re-encoded through the
``ass`` filter, cost 118 s / 149 CPU s (25x): libass must encode every frame.

What was drawn is recorded (:func:`write_record`, ``burned_captions.json``
beside the video): per drawn cue its text, box, the WCAG contrast measured on
the still's pixels behind its lines, and the faces that drew its characters
(``slides.glyph_record``'s form), so the accessibility gate checks contrast
and glyphs of burned captions as it does for slides.

Word-by-word highlight (a style with ``highlight``): where the speech engine
gave word timings (``SpeechSegment.words``: espeak-ng's word events; piper
gives none), each cue's words are matched to the timed words in order
(:func:`word_times`) and the cue's piece is cut again at each word's start,
the spoken word redrawn in the highlight colour: one more picture per word.
A cue whose words cannot be matched is drawn without highlight.

Clips and crossfades are captioned in their own encodes
(:mod:`~reelgraph.plugins.assembly._burn_clips`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.errors import InvalidInputError
from reelgraph.models import Caption
from reelgraph.plugins._media.caption_style import (
    CaptionStyle,
    Layout,
    contrast_behind,
    draw_cue,
)
from reelgraph.plugins.assembly._segments import Segment, SkipFrames

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["GROUP_PICTURES", "Burned", "burn_segments", "word_times", "write_record"]


@dataclass(slots=True)
class Burned:
    """The burned render's segments and what it drew.

    The pictures are drawn by each group's first segment's ``pictures`` (in
    the worker that encodes them,
    :func:`~reelgraph.plugins.assembly._segments.encode_group`); ``records``
    fills as they are drawn. :meth:`draw_all` draws the rest here.
    """

    segments: list[Segment]
    stills: list[Path]  # the still each captioned picture is drawn on, one per (cue, word)
    uncaptioned_frames: int  # cue frames on clips or crossfades (not captioned)
    highlighted_cues: int  # cues drawn word by word
    #: per drawn still: cue index, text, box [l, t, r, b], contrast, glyphs (runs)
    records: list[dict[str, Any]]

    @property
    def lowest_contrast(self) -> float | None:
        """The worst WCAG ratio measured behind a drawn cue (None before any is drawn)."""
        return min((r["contrast"] for r in self.records), default=None)

    def draw_all(self) -> list[Image.Image]:
        """Draw every picture not drawn yet, in this thread; those pictures (RGB), in order."""
        return [p for seg in self.segments if seg.pictures for p in seg.pictures()]


def _cue_frames(cues: Sequence[Caption], fps: int) -> list[tuple[int, int, Caption]]:
    spans = []
    for cue in cues:
        first, last = round(cue.start_s * fps), round(cue.end_s * fps)
        if last > first:
            spans.append((first, last, cue))
    return spans


def word_times(
    cues: Sequence[Caption], words: Sequence[tuple[float, str]]
) -> dict[int, list[float]]:
    """Each cue's words' start times (seconds), by cue index, where they can be matched.

    ``words``: ``(start_s, word)`` in speaking order, one per whitespace
    token (a timing shared by several tokens repeats its time). A cue's
    tokens are looked for, as a run, from where the previous cue's ended;
    a cue not found gets no entry.
    """

    def norm(word: str) -> str:
        return "".join(ch for ch in word.casefold() if ch.isalnum())

    tokens = [norm(w) for _, w in words]
    found: dict[int, list[float]] = {}
    at = 0
    for cue in cues:
        wanted = [norm(w) for w in cue.text.split()]
        n = len(wanted)
        for i in range(at, len(tokens) - n + 1):
            if n and tokens[i : i + n] == wanted:
                found[cue.index] = [words[i + j][0] for j in range(n)]
                at = i + n
                break
    return found


def _word_pieces(
    a: int, b: int, times: list[float] | None, fps: int
) -> list[tuple[int, int, int | None]]:
    """The frames ``a``-``b`` of a cue cut at its words' starts: ``(first, end, word)``."""
    if not times:
        return [(a, b, None)]
    edges = [a] + [min(max(round(t * fps), a), b) for t in times[1:]] + [b]
    return [(edges[j], edges[j + 1], j) for j in range(len(times)) if edges[j + 1] > edges[j]]


#: Pictures per ffmpeg run at most: a run costs a process start and an x264
#: set-up (~30 ms), and the runs are what the workers share (README: 77
#: pictures in 5 runs for 2 workers).
GROUP_PICTURES = 16


@dataclass(slots=True)
class _Still:
    """One still's pictures, in order: ``None`` the plain still, else ``(cue, word)``."""

    source: Path
    pictures: list[tuple[Caption, int | None] | None]


class _Group:
    """Draw a group's pictures (once), in offset order, as the encoder takes them."""

    def __init__(
        self,
        stills: list[_Still],
        draw: Callable[[Image.Image, Caption, int | None, dict[int, float]], Image.Image],
        load: Callable[[Path], Image.Image],
    ) -> None:
        self.stills, self.draw, self.load = stills, draw, load
        self.done = False

    def __call__(self) -> Iterator[Image.Image]:
        if self.done:
            return
        self.done = True
        for still in self.stills:
            picture = self.load(still.source)  # each still decoded once
            contrasts: dict[int, float] = {}  # a cue's words share its box: measured once
            for entry in still.pictures:
                yield picture if entry is None else self.draw(picture, *entry, contrasts)


def _pieces(
    start: int,
    end: int,
    inside: list[tuple[int, int, Caption]],
    times: dict[int, list[float]],
    fps: int,
) -> list[tuple[int, int, Caption | None, int | None]]:
    """A still's frames ``start``-``end`` cut at its cues (and words): ``(a, b, cue, word)``."""
    pieces: list[tuple[int, int, Caption | None, int | None]] = []
    at = start
    for a, b, cue in inside:
        if a > at:
            pieces.append((at, a, None, None))
        pieces.extend((p, q, cue, w) for p, q, w in _word_pieces(a, b, times.get(cue.index), fps))
        at = b
    if at < end:
        pieces.append((at, end, None, None))
    return pieces


def burn_segments(
    segments: Sequence[Segment],
    cues: Sequence[Caption],
    style: CaptionStyle,
    fps: int,
    tmp: Path,
    language: str | None,
    load: Callable[[Path], Image.Image] | None = None,
    words: Sequence[tuple[float, str]] = (),
) -> Burned:
    """Split still segments at cue boundaries; each distinct picture becomes one IDR frame.

    Segments are in timeline order; segment ``k`` starts where ``k - 1``
    ends (frames at ``fps``). A still (not a crossfade) becomes pieces: a
    cue, a word of it, or a gap without a cue. Consecutive stills of one
    pixel size share an encode, ``burn_GGGG.mp4``, of at most
    :data:`GROUP_PICTURES` pictures (the plain still, once, when a gap or no
    cue shows it, and each ``(cue, word)`` drawn on it): piece ``j`` shows
    picture ``offset`` (one frame, an IDR) and repeats it, with the shared
    skip frames (``burn_skips.mp4``, :class:`~._segments.SkipFrames`), to
    its length. The group's first piece draws its pictures as they are
    encoded (``pictures``); see :class:`Burned`.

    ``words`` (``(start_s, word)``, see :func:`word_times`) draw the spoken
    word highlighted when the style has a highlight colour.

    Raises (when drawn):
        InvalidInputError: no installed font has some character of a cue.
    """
    from PIL import Image

    load = load or (lambda p: Image.open(p).convert("RGB"))
    spans = _cue_frames(cues, fps)
    timed = word_times(cues, words) if style.highlight and words else {}
    records: list[dict[str, Any]] = []
    stills: list[Path] = []
    skips = SkipFrames(tmp / "burn_skips.mp4")
    out: list[Segment] = []
    uncaptioned = 0
    start = 0
    group: _Group | None = None  # the group the last segment joined, while it may grow
    group_size: tuple[int, int] | None = None
    group_pictures = 0
    groups = 0

    def draw(
        picture: Image.Image, cue: Caption, word: int | None, contrasts: dict[int, float]
    ) -> Image.Image:
        captioned, record = _draw(picture, cue, style, language, word, contrasts)
        records.append(record)
        return captioned

    for seg in segments:
        end = start + seg.total
        inside = [(max(a, start), min(b, end), cue) for a, b, cue in spans if a < end and b > start]
        if seg.kind != "image" or seg.into is not None:
            uncaptioned += sum(b - a for a, b, _ in inside)
            out.append(seg)
            group = None
            start = end
            continue
        pieces = _pieces(start, end, inside, timed, fps)
        keys: list[tuple[Caption, int | None] | None] = []
        for _, _, cue, word in pieces:
            key = None if cue is None else (cue, word)
            if key not in keys:
                keys.append(key)
        try:
            with Image.open(seg.source) as header:  # the size only: nothing decoded
                size = header.size
        except OSError as err:
            raise InvalidInputError(
                f"cannot read the still of scene {seg.scene} to burn captions on: {err}"
            ) from err
        if group is None or size != group_size or group_pictures + len(keys) > GROUP_PICTURES:
            group = _Group([], draw, load)
            group_size, group_pictures, groups = size, 0, groups + 1
            leader = True
        else:
            leader = False
        group.stills.append(_Still(seg.source, keys))
        for a, b, cue, word in pieces:
            key = None if cue is None else (cue, word)
            piece = replace(
                seg,
                frames=1,
                total=b - a,
                out=tmp / f"burn_{groups - 1:04d}.mp4",
                offset=group_pictures + keys.index(key),
                grouped=True,
                skips=skips,
                pictures=group if leader else None,
            )
            out.append(piece)
            leader = False
        group_pictures += len(keys)
        stills.extend(seg.source for key in keys if key is not None)
        start = end
    return Burned(out, stills, uncaptioned, len(timed), records)


def _contrast(image: Image.Image, style: CaptionStyle, layout: Layout) -> float:
    """``contrast_behind`` measured on the cue's box cut out of ``image`` (not the whole frame).

    Converting the whole 1080p frame to floats was 20 of its 22 ms (measured).
    """
    left, top, right, bottom = layout.box
    box = (max(0, left), max(0, top), min(image.width, right), min(image.height, bottom))
    if box[2] <= box[0] or box[3] <= box[1]:
        return contrast_behind(image, style, layout)  # nothing behind: as it counts that
    crop = image.crop(box)
    return contrast_behind(crop, style, replace(layout, box=(0, 0, crop.width, crop.height)))


def _draw(
    image: Image.Image,
    cue: Caption,
    style: CaptionStyle,
    language: str | None,
    word: int | None = None,
    contrasts: dict[int, float] | None = None,
) -> tuple[Image.Image, dict[str, Any]]:
    """``image`` with ``cue`` drawn (word ``word`` highlighted), and its record.

    ``contrasts``: by cue index, the contrast already measured on this
    ``image`` (a cue's words share one box); filled in.
    """
    from reelgraph.plugins.visuals.slides import glyph_record

    captioned, layout, runs = draw_cue(image, cue.text, style, language, word)
    contrasts = {} if contrasts is None else contrasts
    if cue.index not in contrasts:
        contrasts[cue.index] = round(_contrast(image, style, layout), 2)
    record = {
        "cue": cue.index,
        "word": word,
        "text": cue.text,
        "box": list(layout.box),
        "size_px": layout.size_px,
        "contrast": contrasts[cue.index],
        "glyphs": json.loads(glyph_record(runs)),
    }
    return captioned, record


def write_record(burned: Burned, style: CaptionStyle, path: Path) -> None:
    """Write ``burned_captions.json``: ``{"style": {...}, "cues": [records]}``."""
    from dataclasses import asdict

    cues = sorted(burned.records, key=lambda r: (r["cue"], -1 if r["word"] is None else r["word"]))
    data = {"style": asdict(style), "cues": cues}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
