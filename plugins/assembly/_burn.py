"""Burned-in captions: each cue drawn onto its still with Pillow, each captioned still one encode.

How: a still's segment is cut at the cue boundaries inside it; each piece
shows the still with that cue drawn on it
(:func:`reelgraph.plugins._media.caption_style.draw_cue`) or without a cue,
is encoded once (``segment_s``, from an IDR frame) and repeated by packet
copy to its length (``_segments.join_segments``), like every still. The
pieces of one still are encoded in one ffmpeg run
(``_segments.encode_group``), and the worker that runs it draws its cues
first (:class:`Burned`). The cues are the caption track's
(:func:`~reelgraph.plugins._media.captions.build_cues`): the same text,
lines and times.

Cost (``bench/burned_captions.py --skip-libass`` on this README, 272 s of
video, 57 cues, 20 scenes, 2 cores shared with other work at load ~4, medians
of 3): soft 6.7 s wall / 7.4 CPU s, burned 15.4 s / 16.5 CPU s (2.3x soft
wall, 2.2x CPU; before the grouped encode, drawing in the workers and BMP
stills, medians of 2 at load ~6.6: soft 8.6 s / 8.4, burned 24.0 s / 20.5,
2.8x wall, 2.4x CPU). Burning with libass,
the soft render's picture re-encoded through the ``ass`` filter, cost 118 s
/ 149 CPU s (25x): libass must encode every frame, the stills' packet copy
is lost. The 1.3x budget is still missed: each cue needs its own IDR frame
(a piece is repeated from its first packet, and a keyframe every
``KEYFRAME_INTERVAL_S`` must show the caption), so a cue change cannot be a
P-frame that codes only the caption band; each cue costs one 1080p IDR
frame plus a segment's P-frames (~0.13 CPU s in a grouped run, ~0.085 s of
it the P-frames' analysis, measured with x264 at ``preset=medium``) and its
drawing (~0.04 CPU s, half of it measuring the contrast behind the text).

What was drawn is recorded (:func:`write_record`, ``burned_captions.json``
beside the video): per drawn cue its text, box, the WCAG contrast measured on
the still's pixels behind its lines, and the faces that drew its characters
(``slides.glyph_record``'s form), so the accessibility gate checks contrast
and glyphs of burned captions as it does for slides.

Word-by-word highlight (a style with ``highlight``): where the speech engine
gave word timings (``SpeechSegment.words``: espeak-ng's word events; piper
gives none), each cue's words are matched to the timed words in order
(:func:`word_times`) and the cue's piece is cut again at each word's start,
the spoken word redrawn in the highlight colour: one more still segment per
word. A cue whose words cannot be matched is drawn without highlight.

Limits: clips and crossfades are not captioned when burned (their segments
are encoded whole; a caption on them would need a filter in the encode): the
assembler logs how many cue frames fell on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelgraph.models import Caption
from reelgraph.plugins._media.caption_style import CaptionStyle, contrast_behind, draw_cue
from reelgraph.plugins.assembly._segments import Segment

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["Burned", "burn_segments", "word_times", "write_record"]


@dataclass(slots=True)
class Burned:
    """The burned render's segments and what it drew.

    The stills are drawn by the segments' ``prepare`` (in the worker that
    encodes them, :func:`~reelgraph.plugins.assembly._segments.encode_group`);
    ``records`` fills as they are drawn. :meth:`draw_all` draws the rest here.
    """

    segments: list[Segment]
    stills: list[Path]  # the drawn BMPs, one per (still, cue, word)
    uncaptioned_frames: int  # cue frames on clips or crossfades (not captioned)
    highlighted_cues: int  # cues drawn word by word
    #: per drawn still: cue index, text, box [l, t, r, b], contrast, glyphs (runs)
    records: list[dict[str, Any]]

    @property
    def lowest_contrast(self) -> float | None:
        """The worst WCAG ratio measured behind a drawn cue (None before any is drawn)."""
        return min((r["contrast"] for r in self.records), default=None)

    def draw_all(self) -> None:
        """Draw every still not drawn yet, in this thread (what the encoders would do)."""
        for seg in self.segments:
            if seg.prepare is not None:
                seg.prepare()


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


class _Drawing:
    """Draw one still's cues (once): the plain still and each ``(cue, word)`` as a BMP."""

    def __init__(
        self,
        source: Path,
        plain: Path,
        cues: list[tuple[Caption, int | None, Path]],
        draw: Callable[[Image.Image, Caption, Path, int | None], dict[str, Any]],
        load: Callable[[Path], Image.Image],
        records: list[dict[str, Any]],
    ) -> None:
        self.source, self.plain, self.cues = source, plain, cues
        self.draw, self.load, self.records = draw, load, records
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        picture = self.load(self.source)  # each still decoded once
        # the plain pieces read the same RGB form as the drawn ones (one pixel format
        # through the concat demuxer, no filter graph re-configured mid-stream)
        picture.save(self.plain, format="BMP")
        for cue, word, path in self.cues:
            self.records.append(self.draw(picture, cue, path, word))


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
    """Split still segments at cue boundaries; each captioned still becomes one group of pieces.

    Segments are in timeline order; segment ``k`` starts where ``k - 1``
    ends (frames at ``fps``). A still with cues becomes pieces (a cue, a
    word of it, or a gap without a cue) that share one encode,
    ``burn_KKKK.mp4`` (:func:`~reelgraph.plugins.assembly._segments.encode_group`):
    piece ``j`` keeps its segment's ``frames`` (capped at its own length),
    starts at packet ``offset`` of that file and repeats to its length like
    any still. The first piece's ``prepare`` draws the still's cues
    (``burn_KKKK_CCCCC_W.bmp``, ``W`` the highlighted word or -1) and the
    plain still (``burn_KKKK_plain.bmp``); see :class:`Burned`.

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
    out: list[Segment] = []
    uncaptioned = 0
    start = 0

    def draw(picture: Image.Image, cue: Caption, path: Path, word: int | None) -> dict[str, Any]:
        return _draw(picture, cue, style, language, path, word)

    for k, seg in enumerate(segments):
        end = start + seg.total
        inside = [(max(a, start), min(b, end), cue) for a, b, cue in spans if a < end and b > start]
        if seg.kind != "image" or seg.into is not None or not inside:
            uncaptioned += sum(b - a for a, b, _ in inside) if inside else 0
            out.append(seg)
            start = end
            continue
        pieces: list[tuple[int, int, Caption | None, int | None]] = []
        at = start
        for a, b, cue in inside:
            if a > at:
                pieces.append((at, a, None, None))
            times = timed.get(cue.index)
            pieces.extend((p, q, cue, w) for p, q, w in _word_pieces(a, b, times, fps))
            at = b
        if at < end:
            pieces.append((at, end, None, None))
        plain = tmp / f"burn_{k:04d}_plain.bmp"
        drawn: dict[tuple[int, int | None], Path] = {}
        group: list[Segment] = []
        offset = 0
        for a, b, cue, word in pieces:
            source = plain
            if cue is not None:
                key = (cue.index, word)
                if key not in drawn:
                    name = f"burn_{k:04d}_{cue.index:05d}_{-1 if word is None else word}.bmp"
                    drawn[key] = tmp / name
                source = drawn[key]
            frames = min(seg.frames, b - a)
            group.append(
                replace(
                    seg,
                    source=source,
                    frames=frames,
                    total=b - a,
                    out=tmp / f"burn_{k:04d}.mp4",
                    offset=offset,
                    grouped=True,
                )
            )
            offset += frames
        todo = [
            (next(c for _, _, c in inside if c.index == i), w, path)
            for (i, w), path in drawn.items()
        ]
        group[0] = replace(group[0], prepare=_Drawing(seg.source, plain, todo, draw, load, records))
        stills.extend(drawn.values())
        out.extend(group)
        start = end
    return Burned(out, stills, uncaptioned, len(timed), records)


def _draw(
    image: Image.Image,
    cue: Caption,
    style: CaptionStyle,
    language: str | None,
    path: Path,
    word: int | None = None,
) -> dict[str, Any]:
    """Draw ``cue`` (word ``word`` highlighted) on ``image``, save it at ``path``; its record."""
    from reelgraph.plugins.visuals.slides import glyph_record

    captioned, layout, runs = draw_cue(image, cue.text, style, language, word)
    # BMP: read once, by ffmpeg; written in 7 ms at 1080p against 31 ms for an
    # uncompressed PNG (Pillow, measured), which was half of a cue's drawing
    captioned.save(path, format="BMP")
    return {
        "cue": cue.index,
        "word": word,
        "text": cue.text,
        "box": list(layout.box),
        "size_px": layout.size_px,
        "contrast": round(contrast_behind(image, style, layout), 2),
        "glyphs": json.loads(glyph_record(runs)),
    }


def write_record(burned: Burned, style: CaptionStyle, path: Path) -> None:
    """Write ``burned_captions.json``: ``{"style": {...}, "cues": [records]}``."""
    from dataclasses import asdict

    cues = sorted(burned.records, key=lambda r: (r["cue"], -1 if r["word"] is None else r["word"]))
    data = {"style": asdict(style), "cues": cues}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
