"""Text layout for the ``slides`` plugin: fonts, safe areas, fitting, drawing.

Everything here measures text in pixels with the real font (FreeType through
Pillow), so a line that is said to fit does fit; line breaking lives in
``_wrap``. Sizes are in pixels; boxes are ``(left, top, right, bottom)`` in
frame pixels, right/bottom exclusive.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from reelgraph.plugins.visuals._fonts import FontFace, font_chars
from reelgraph.plugins.visuals._wrap import (
    ELLIPSIS,
    truncate_to_width,
    wrap_text,
)

__all__ = [
    "ELLIPSIS",
    "Canvas",
    "FONT_FILES",
    "Box",
    "FittedCode",
    "FittedText",
    "content_box",
    "face_for_role",
    "find_font_file",
    "fit_code",
    "fit_paragraphs",
    "FontChain",
    "Faces",
    "load_face",
    "load_faces",
    "load_font",
    "safe_box",
    "truncate_to_width",
    "wrap_text",
]

Box = tuple[int, int, int, int]
PillowFont = ImageFont.FreeTypeFont | ImageFont.ImageFont
#: Faces to draw a role with, first choice first (see ``_fonts.choose_faces``).
Faces = tuple[FontFace | None, ...]

#: Title-safe margin on each side, as a fraction of the frame's width/height
#: (SMPTE ST 2046-1 and EBU R95: title safe is the central 90 %).
TITLE_SAFE_MARGIN = 0.05
#: Extra breathing room inside the title-safe area, as a fraction of the
#: frame's short side (a design choice, not a standard).
PADDING = 0.03

#: DejaVu file names for each font role.
FONT_FILES: dict[str, str] = {
    "sans": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
}

# Where Debian/Ubuntu, Fedora, Arch and Homebrew put DejaVu; checked before a
# recursive search of the font roots.
_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu-sans-mono-fonts"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
)
_FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


# -- geometry -----------------------------------------------------------------


def safe_box(width_px: int, height_px: int) -> Box:
    """The title-safe box: the frame minus a 5 % margin on each side.

    Source: SMPTE ST 2046-1 / EBU R95 (title safe = 90 % of width and height).
    """
    mx = round(width_px * TITLE_SAFE_MARGIN)
    my = round(height_px * TITLE_SAFE_MARGIN)
    return (mx, my, width_px - mx, height_px - my)


def content_box(width_px: int, height_px: int) -> Box:
    """Where slide content is laid out: the title-safe box inset by 3 % of the short side."""
    left, top, right, bottom = safe_box(width_px, height_px)
    pad = round(min(width_px, height_px) * PADDING)
    return (left + pad, top + pad, right - pad, bottom - pad)


# -- fonts --------------------------------------------------------------------


def _matplotlib_font_dir() -> Path | None:
    # find_spec locates the package without importing it (matplotlib is heavy
    # and is not a dependency; its wheel bundles DejaVu in mpl-data).
    try:
        spec = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "mpl-data" / "fonts" / "ttf"
        if candidate.is_dir():
            return candidate
    return None


@functools.cache
def find_font_file(role: str) -> Path | None:
    """The DejaVu file for ``role`` (``sans``, ``bold``, ``mono``), or ``None``.

    Looks in the usual system font directories, then anywhere under
    ``/usr/share/fonts``, then in matplotlib's bundled fonts when matplotlib
    is installed. The answer is cached for the life of the process.
    """
    name = FONT_FILES[role]
    for folder in _FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    for root in _FONT_ROOTS:
        if root.is_dir():
            found = next(root.rglob(name), None)
            if found is not None:
                return found
    mpl = _matplotlib_font_dir()
    if mpl is not None and (mpl / name).is_file():
        return mpl / name
    return None


@functools.lru_cache(maxsize=256)
def load_font(role: str, size_px: int, use_system: bool = True) -> Font:
    """A font for ``role`` at ``size_px`` pixels (em size), cached.

    Uses DejaVu when found (see :func:`find_font_file`), else Pillow's bundled
    scalable default font (Pillow >= 10.1). ``use_system=False`` forces the
    fallback, for tests.
    """
    path = find_font_file(role) if use_system else None
    if path is not None:
        return ImageFont.truetype(str(path), size_px)
    return ImageFont.load_default(size=size_px)


def face_for_role(role: str, use_system: bool = True) -> FontFace | None:
    """The primary face for ``role`` (DejaVu, see :func:`find_font_file`); ``None``: Pillow's."""
    path = find_font_file(role) if use_system else None
    return None if path is None else FontFace(path)


@functools.lru_cache(maxsize=256)
def load_face(face: FontFace | None, size_px: int) -> PillowFont:
    """``face`` at ``size_px`` pixels (em size), cached; ``None`` is Pillow's bundled font."""
    if face is None:
        return ImageFont.load_default(size=size_px)
    return ImageFont.truetype(str(face.path), size_px, index=face.index)


def face_of(font: PillowFont) -> FontFace | None:
    """The face a Pillow font was loaded from; ``None`` for Pillow's bundled font."""
    path = getattr(font, "path", None)
    if not isinstance(font, ImageFont.FreeTypeFont) or not isinstance(path, str | Path):
        return None
    return FontFace(Path(path), font.index)


@dataclass(frozen=True)
class FontChain:
    """Several faces at one size acting as one font: each character is drawn with the
    first face that has it (per-character fallback for text mixing scripts).

    Measures like a Pillow font (``getlength``, ``getmetrics``, ``getbbox``);
    :meth:`runs` splits a string into ``(font, face, substring)`` runs that
    :meth:`Canvas.draw_text` draws one after another on a common baseline.
    A run keeps its face while that face has the next character, so spaces
    and punctuation stay with the text around them.
    """

    fonts: tuple[PillowFont, ...]
    faces: Faces

    def runs(self, text: str) -> list[tuple[PillowFont, FontFace | None, str]]:
        charsets = [font_chars(face) for face in self.faces]
        runs: list[tuple[int, str]] = []
        for ch in text:
            current = runs[-1][0] if runs else 0
            if ord(ch) not in charsets[current]:
                current = next((i for i, c in enumerate(charsets) if ord(ch) in c), current)
            if runs and runs[-1][0] == current:
                runs[-1] = (current, runs[-1][1] + ch)
            else:
                runs.append((current, ch))
        return [(self.fonts[i], self.faces[i], part) for i, part in runs]

    def getlength(self, text: str) -> float:
        return sum(font.getlength(part) for font, _, part in self.runs(text))

    def getmetrics(self) -> tuple[int, int]:
        metrics = [line_metrics(font) for font in self.fonts]
        return max(a for a, _ in metrics), max(d for _, d in metrics)

    def getbbox(self, text: str, anchor: str | None = None) -> tuple[float, float, float, float]:
        """The first face's box (used for the x-height of bullet dots)."""
        return self.fonts[0].getbbox(text, anchor=anchor)


Font = PillowFont | FontChain


def load_faces(faces: Faces, size_px: int) -> Font:
    """The faces at ``size_px``: one Pillow font, or a :class:`FontChain` for several."""
    if len(faces) == 1:
        return load_face(faces[0], size_px)
    return FontChain(tuple(load_face(face, size_px) for face in faces), faces)


def line_metrics(font: Font) -> tuple[int, int]:
    """``(ascent_px, descent_px)`` of a font: the height of one line is their sum."""
    if isinstance(font, ImageFont.FreeTypeFont | FontChain):
        return font.getmetrics()
    left, top, right, bottom = font.getbbox("Hg")
    return (bottom, 0)


# -- fitting --------------------------------------------------------------------


def _sizes(start_px: int, min_px: int) -> list[int]:
    """Font sizes to try, largest first: about 6 % smaller each step, ending at ``min_px``."""
    sizes = [start_px]
    while sizes[-1] > min_px:
        sizes.append(max(min_px, min(sizes[-1] - 1, round(sizes[-1] * 0.94))))
    return sizes


@dataclass(frozen=True)
class FittedText:
    """Paragraphs wrapped at one font size.

    Attributes:
        font: the font chosen.
        size_px: its size.
        paragraphs: the lines of each paragraph (trailing paragraphs may be
            dropped when truncated).
        line_step_px: baseline-to-baseline distance.
        paragraph_gap_px: extra space between paragraphs.
        height_px: the block's height, top of first line to bottom of last.
        truncated: whether text was cut to fit.
    """

    font: Font
    size_px: int
    paragraphs: list[list[str]]
    line_step_px: int
    paragraph_gap_px: int
    height_px: int
    truncated: bool


def _block_height(counts: Sequence[int], step: int, gap: int, line_px: int) -> int:
    total = sum(counts)
    if total == 0:
        return 0
    paragraphs = sum(1 for c in counts if c)
    return (total - 1) * step + line_px + (paragraphs - 1) * gap


def _truncate_paragraphs(
    paragraphs: list[list[str]], max_lines: int, font: Font, width: float
) -> list[list[str]]:
    """Keep the first ``max_lines`` lines in all; end the last one with an ellipsis."""
    kept: list[list[str]] = []
    left = max(1, max_lines)
    for lines in paragraphs:
        if left <= 0:
            break
        kept.append(lines[:left])
        left -= len(kept[-1])
    kept[-1][-1] = truncate_to_width(kept[-1][-1], font, width)
    return kept


@dataclass(frozen=True)
class _TextRequest:
    paragraphs: tuple[str, ...]
    role: str
    max_width_px: int
    max_height_px: int
    max_lines: int | None
    spacing: float
    gap_em: float
    indent_em: float
    use_system_fonts: bool
    faces: Faces | None

    def font_at(self, size: int) -> Font:
        if self.faces:
            return load_faces(self.faces, size)
        return load_font(self.role, size, self.use_system_fonts)

    def width_at(self, size: int) -> float:
        return self.max_width_px - self.indent_em * size

    def fits(self, fitted: FittedText) -> bool:
        lines = sum(len(p) for p in fitted.paragraphs)
        too_many = self.max_lines is not None and lines > self.max_lines
        return fitted.height_px <= self.max_height_px and not too_many


def fit_paragraphs(
    paragraphs: Sequence[str],
    role: str,
    *,
    start_px: int,
    min_px: int,
    max_width_px: int,
    max_height_px: int,
    max_lines: int | None = None,
    spacing: float = 1.25,
    gap_em: float = 0.0,
    indent_em: float = 0.0,
    use_system_fonts: bool = True,
    faces: Faces | None = None,
) -> FittedText:
    """Wrap paragraphs at the largest size from ``start_px`` down to ``min_px`` that fits.

    Each paragraph is wrapped to ``max_width_px - indent_em * size``. A size
    fits when the block is at most ``max_height_px`` tall and has at most
    ``max_lines`` lines. If even ``min_px`` does not fit, the text is cut after
    the last line that fits and that line ends with an ellipsis. ``spacing``
    is the line step in ems, ``gap_em`` the extra space between paragraphs.
    ``faces`` draw the text when given, else the role's DejaVu font.
    """
    request = _TextRequest(
        tuple(paragraphs),
        role,
        max_width_px,
        max_height_px,
        max_lines,
        spacing,
        gap_em,
        indent_em,
        use_system_fonts,
        faces,
    )
    sizes = _sizes(start_px, min_px)
    first = _layout_at(request, sizes[0])
    if request.fits(first):
        return first
    # Fewer lines at smaller sizes: the first size that fits is found by
    # bisection, a handful of layouts instead of one per size.
    best, lo, hi = None, 1, len(sizes) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = _layout_at(request, sizes[mid])
        if request.fits(candidate):
            best, hi = candidate, mid - 1
        else:
            lo = mid + 1
    if best is not None:
        return best
    return _cut_to_height(_layout_at(request, sizes[-1]), request)


def _layout_at(request: _TextRequest, size: int) -> FittedText:
    """Wrap at ``size``; stop wrapping once the text is known not to fit."""
    font = request.font_at(size)
    ascent, descent = line_metrics(font)
    line_px = ascent + descent
    step = max(line_px, round(size * request.spacing))
    gap = round(size * request.gap_em)
    budget = max(0, (request.max_height_px - line_px) // step + 1)
    if request.max_lines is not None:
        budget = min(budget, request.max_lines)
    wrapped: list[list[str]] = []
    for text in request.paragraphs:
        left = budget - sum(len(w) for w in wrapped)
        if left < 0:
            break
        lines = wrap_text(text, font, request.width_at(size), max_lines=left)
        if lines:
            wrapped.append(lines)
    height = _block_height([len(w) for w in wrapped], step, gap, line_px)
    return FittedText(font, size, wrapped, step, gap, height, False)


def _cut_to_height(fitted: FittedText, request: _TextRequest) -> FittedText:
    if not fitted.paragraphs:
        return fitted
    ascent, descent = line_metrics(fitted.font)
    line_px = ascent + descent
    # Count how many lines fit, paragraph gaps included.
    starts = [i == 0 for lines in fitted.paragraphs for i in range(len(lines))]
    fit, used = 0, 0
    for k, starts_paragraph in enumerate(starts):
        extra = line_px if k == 0 else fitted.line_step_px
        extra += fitted.paragraph_gap_px if (starts_paragraph and k > 0) else 0
        if used + extra > request.max_height_px:
            break
        used += extra
        fit += 1
    if request.max_lines is not None:
        fit = min(fit, request.max_lines)
    width = request.width_at(fitted.size_px)
    kept = _truncate_paragraphs([list(p) for p in fitted.paragraphs], fit, fitted.font, width)
    height = _block_height(
        [len(p) for p in kept], fitted.line_step_px, fitted.paragraph_gap_px, line_px
    )
    return replace(fitted, paragraphs=kept, height_px=height, truncated=True)


@dataclass(frozen=True)
class FittedCode:
    """Code lines at one monospace size; ``truncated`` when lines or columns were cut."""

    font: Font
    size_px: int
    lines: list[str]
    line_step_px: int
    height_px: int
    truncated: bool


def fit_code(
    code: str,
    *,
    start_px: int,
    min_px: int,
    max_width_px: int,
    max_height_px: int,
    spacing: float = 1.35,
    use_system_fonts: bool = True,
    faces: Faces | None = None,
) -> FittedCode:
    """Fit code in a box, keeping indentation (tabs become 4 spaces).

    Shrinks from ``start_px`` to ``min_px`` until every line fits the width and
    all lines fit the height. At ``min_px``, lines too wide end in an ellipsis
    and lines below the box are replaced by a final ellipsis line. ``faces``
    draw the code when given, else DejaVu Sans Mono.
    """
    lines = code.expandtabs(4).splitlines() or [""]
    lines = [line.rstrip() for line in lines]
    for size in _sizes(start_px, min_px):
        font = load_faces(faces, size) if faces else load_font("mono", size, use_system_fonts)
        ascent, descent = line_metrics(font)
        step = max(ascent + descent, round(size * spacing))
        height = (len(lines) - 1) * step + ascent + descent
        widest = max(font.getlength(line) for line in lines)
        if height <= max_height_px and widest <= max_width_px:
            return FittedCode(font, size, lines, step, height, False)
    rows = max(1, (max_height_px - (ascent + descent)) // step + 1)
    kept = lines if len(lines) <= rows else [*lines[: rows - 1], ELLIPSIS]
    kept = [
        line
        if font.getlength(line) <= max_width_px
        else truncate_to_width(line, font, max_width_px)
        for line in kept
    ]
    height = (len(kept) - 1) * step + ascent + descent
    return FittedCode(font, size, kept, step, height, True)


# -- drawing --------------------------------------------------------------------


@dataclass(frozen=True)
class Canvas:
    """Where a slide is drawn: an image's content box (see :func:`content_box`).

    Lengths are given as fractions of the frame's short side (:meth:`px`) so
    one layout serves every aspect; ``top`` arguments are in pixels from the
    top of the box. ``faces`` maps a role (``sans``, ``bold``, ``mono``) to
    the faces that draw it (a role not in it gets DejaVu); ``drawn`` records
    every ``(face, string)`` drawn, for the record the accessibility gate
    checks (see ``slides.GLYPHS_KEY``).
    """

    draw: ImageDraw.ImageDraw
    box: Box
    short_px: int
    portrait: bool
    faces: Mapping[str, Faces] = field(default_factory=dict)
    drawn: list[tuple[FontFace | None, str]] = field(default_factory=list)

    @classmethod
    def for_image(cls, image: Image.Image, faces: Mapping[str, Faces] | None = None) -> Canvas:
        width, height = image.size
        return cls(
            ImageDraw.Draw(image),
            content_box(width, height),
            min(width, height),
            height > width,
            dict(faces or {}),
        )

    def faces_for(self, role: str) -> Faces:
        """The faces that draw ``role``: from :attr:`faces`, else the role's DejaVu font."""
        return self.faces[role] if role in self.faces else (face_for_role(role),)

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def px(self, fraction: float) -> int:
        """A length given as a fraction of the frame's short side, in pixels (at least 1)."""
        return max(1, round(self.short_px * fraction))

    def fit(
        self, texts: Sequence[str], role: str, sizes: tuple[float, float], **kwargs: Any
    ) -> FittedText:
        """:func:`fit_paragraphs` across the box's width; ``sizes`` = (start, minimum) fractions."""
        return fit_paragraphs(
            [t for t in texts if t.strip()],
            role,
            start_px=self.px(sizes[0]),
            min_px=self.px(sizes[1]),
            max_width_px=self.width,
            faces=self.faces_for(role),
            **kwargs,
        )

    def draw_text(
        self, xy: tuple[int, int], text: str, font: Font, colour: tuple[int, int, int], anchor: str
    ) -> None:
        """Draw one string with Pillow and record it with the face that drew it.

        ``anchor`` is a Pillow anchor (``la`` left/ascender, ``ma``
        middle/ascender). A :class:`FontChain` draws its runs one after
        another on one baseline, the chain's ascent below ``xy``.
        """
        if not isinstance(font, FontChain):
            self.drawn.append((face_of(font), text))
            self.draw.text(xy, text, font=font, fill=colour, anchor=anchor)
            return
        x, y = xy
        if anchor[0] == "m":
            x -= font.getlength(text) / 2
        baseline = y + font.getmetrics()[0]
        for part_font, face, part in font.runs(text):
            self.drawn.append((face, part))
            self.draw.text((x, baseline), part, font=part_font, fill=colour, anchor="ls")
            x += part_font.getlength(part)

    def draw_block(
        self,
        block: FittedText,
        top: int,
        colour: tuple[int, int, int],
        *,
        centred: bool = False,
        indent_px: int = 0,
    ) -> None:
        """Draw a fitted block, its first line's top at ``top``, left-aligned or centred."""
        x = self.box[0] + (self.width // 2 if centred else indent_px)
        anchor = "ma" if centred else "la"  # Pillow anchors: middle/left, ascender
        y = self.box[1] + top
        for p, lines in enumerate(block.paragraphs):
            y += block.paragraph_gap_px if p else 0
            for line in lines:
                self.draw_text((x, y), line, block.font, colour, anchor)
                y += block.line_step_px

    def draw_rule(
        self, top: int, width: int, colour: tuple[int, int, int], *, centred: bool
    ) -> int:
        """Draw a horizontal rule 0.6 % of the short side thick at ``top``; return its height."""
        height = self.px(0.006)
        x0 = self.box[0] + ((self.width - width) // 2 if centred else 0)
        y0 = self.box[1] + top
        self.draw.rectangle((x0, y0, x0 + width - 1, y0 + height - 1), fill=colour)
        return height
