"""Slides draw no missing glyph: cmap checks, fontconfig fallback, CJK wrapping, clear stops.

Text comes from documents nobody on the project wrote: the Chinese, Japanese
and Korean sentences of rich's demo (``rich/__main__.py``; rich is a
dependency of typer) and the Gherkin keywords in Russian, Ukrainian and
Arabic that pygments lists (``pygments/lexers/testing.py``; a dependency of
rich).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from structlog.testing import capture_logs

import reelgraph.plugins.visuals._fonts as _fonts
import reelgraph.plugins.visuals._layout as _layout
import reelgraph.plugins.visuals._wrap as _wrap
import reelgraph.plugins.visuals.slides as slides
from reelgraph import InvalidInputError
from reelgraph.models import Scene
from reelgraph.run.context import NodeContext

DARK = slides.THEMES["dark"]


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).read_text(encoding="utf-8")


def cjk_lines() -> tuple[str, str, str]:
    """``(chinese, japanese, korean)`` sentences from rich's demo."""
    lines = re.findall(r":flag_for_\w+:\s+([^\\\n\"]+)", _source("rich.__main__"))
    assert len(lines) >= 3, "rich's demo no longer holds its CJK sentences"
    zh, ja, ko = (line.strip() for line in lines[:3])
    return zh, ja, ko


def gherkin_keywords(block: str) -> list[str]:
    """Keywords of one Unicode block (a regex character range) from pygments' Gherkin lexer."""
    return sorted(set(re.findall(rf"[{block}][{block} ]+", _source("pygments.lexers.testing"))))


def fc_match(pattern: str) -> _fonts.FontFace:
    out = subprocess.run(
        ["fc-match", "-f", "%{file}\t%{index}", pattern], capture_output=True, text=True
    ).stdout
    file, _, index = out.partition("\t")
    return _fonts.FontFace(Path(file), int(index or 0))


@pytest.fixture(scope="module")
def cjk_installed() -> None:
    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig is not installed (apt-get install fontconfig)")
    found = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True)
    if not found.stdout.strip():
        pytest.skip("no Japanese font installed (apt-get install fonts-noto-cjk)")


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path, node_id="slides")


def recorded_runs(path: Path) -> list[dict]:
    with Image.open(path) as image:
        return json.loads(image.text[slides.GLYPHS_KEY])["runs"]


def cmap_of(font: str | None, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font, fontNumber=index) as tt:
        return frozenset(tt.getBestCmap())


# -- coverage and fallback ------------------------------------------------------


def test_dejavu_lacks_cjk_and_the_fallback_covers_every_character(cjk_installed) -> None:
    zh, ja, ko = cjk_lines()
    scene = Scene(index=0, kind="content", title=zh, bullets=[ja, ko])
    assert _fonts.missing_chars(zh, _layout.face_for_role("bold"))  # DejaVu draws boxes
    faces = slides.slide_faces(scene)
    for role, texts in slides.role_texts(scene).items():
        (face,) = faces[role]  # one face has every character: no per-character mixing
        assert face is not None and "CJK" in face.path.name
        assert _fonts.missing_chars(texts, face) == ""
    assert "Bold" in faces["bold"][0].path.name  # the title keeps its weight


def test_han_glyph_forms_follow_the_language(cjk_installed) -> None:
    zh, _, _ = cjk_lines()  # Han and full-width punctuation only: no kana to say "Japanese"
    scene = Scene(index=0, kind="title", title=zh)
    (default,) = slides.slide_faces(scene)["bold"]
    (japanese,) = slides.slide_faces(scene, language="ja")["bold"]
    (traditional,) = slides.slide_faces(scene, language="zh-Hant")["bold"]
    assert default == fc_match("sans-serif:weight=bold:lang=zh-cn")
    assert japanese == fc_match("sans-serif:weight=bold:lang=ja")
    assert traditional == fc_match("sans-serif:weight=bold:lang=zh-tw")
    assert len({default, japanese, traditional}) == 3
    # The two faces draw the same characters with different glyphs.
    a, _ = slides.render_slide(scene, 960, 540, DARK, language="zh")
    b, _ = slides.render_slide(scene, 960, 540, DARK, language="ja")
    assert ImageChops.difference(a, b).getbbox() is not None


def test_kana_means_japanese_and_hangul_korean() -> None:
    zh, ja, ko = cjk_lines()
    assert _fonts.language_for(ja) == "ja"
    assert _fonts.language_for(ja, "zh") == "ja"  # kana wins over a wrong tag
    assert _fonts.language_for(ko) == "ko"
    assert _fonts.language_for(zh) == "zh-cn"
    assert _fonts.language_for(zh, "zh-TW") == "zh-tw"
    assert _fonts.language_for("".join(gherkin_keywords("\u0400-\u04ff"))) == "ru"
    assert _fonts.language_for("".join(gherkin_keywords("\u0600-\u06ff"))) == "ar"


@pytest.mark.parametrize("block", ["\u0400-\u04ff", "\u0600-\u06ff"], ids=["cyrillic", "arabic"])
def test_dejavu_covers_these_cyrillic_and_arabic_keywords_so_no_fallback(block, ctx) -> None:
    words = gherkin_keywords(block)
    assert len(words) >= 5
    scene = Scene(index=4, kind="content", title=words[0], bullets=words[1:8])
    faces = slides.slide_faces(scene)
    assert faces == {role: (_layout.face_for_role(role),) for role in ("bold", "sans")}
    visual = slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    for run in recorded_runs(visual.path):
        assert "DejaVu" in run["font"]
        assert {ord(ch) for ch in run["chars"]} <= cmap_of(run["font"], run["index"])


def test_render_shot_records_what_each_font_drew(cjk_installed, ctx) -> None:
    zh, ja, ko = cjk_lines()
    scene = Scene(
        index=2,
        kind="code",
        title=ja,
        code=f"# {zh}\nprint('{ko}')\n",
        code_language="python",
    )
    visual = slides.render_shot(scene=scene, aspect="9:16", options={}, ctx=ctx)
    runs = recorded_runs(visual.path)
    drawn = "".join(run["chars"] for run in runs)
    for ch in "ライ该库이라print":
        assert ch in drawn
    for run in runs:  # checked here with fontTools directly, not with the plugin's helper
        assert {ord(ch) for ch in run["chars"]} <= cmap_of(run["font"], run["index"])
    # The code holds Hangul and Han, no kana: the Korean monospace face draws it.
    mono = [run for run in runs if "(" in run["chars"]]
    assert len(mono) == 1
    assert _fonts.FontFace(Path(mono[0]["font"]), mono[0]["index"]) == fc_match("monospace:lang=ko")


def test_options_font_draws_every_role(cjk_installed, ctx) -> None:
    zh, ja, _ = cjk_lines()
    path = fc_match("sans-serif:lang=ja").path
    scene = Scene(index=0, kind="content", title=zh, bullets=[ja])
    visual = slides.render_shot(
        scene=scene, aspect="1:1", options={"font": str(path), "theme": "light"}, ctx=ctx
    )
    assert {run["font"] for run in recorded_runs(visual.path)} == {str(path.resolve())}


@pytest.mark.parametrize("value", ["/no/such/font.ttf", 12])
def test_options_font_must_be_a_font_file(value, ctx) -> None:
    scene = Scene(index=0, kind="title", title="Fonts")
    with pytest.raises(InvalidInputError, match="options.font"):
        slides.render_shot(scene=scene, aspect="16:9", options={"font": value}, ctx=ctx)


def test_options_font_that_is_not_a_font_names_the_file(ctx) -> None:
    not_a_font = Path(importlib.util.find_spec("rich").origin)  # rich/__init__.py
    scene = Scene(index=0, kind="title", title="Fonts")
    with pytest.raises(InvalidInputError, match=re.escape(str(not_a_font))):
        slides.render_shot(scene=scene, aspect="16:9", options={"font": str(not_a_font)}, ctx=ctx)


def test_scripts_no_single_font_has_are_drawn_per_character(cjk_installed, ctx) -> None:
    # Arabic (DejaVu has it, Noto CJK does not) and Hangul (the reverse) in one bullet.
    _, _, ko = cjk_lines()
    arabic = " ".join(gherkin_keywords("\u0600-\u06ff")[:3])
    scene = Scene(index=5, kind="content", title="Gherkin", bullets=[f"{ko} {arabic}"])
    chain = slides.slide_faces(scene)["sans"]
    assert len(chain) == 2 and chain[0] == _layout.face_for_role("sans")
    assert chain[1] == fc_match("sans-serif:lang=ko")
    visual = slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    runs = {Path(run["font"]).name: run["chars"] for run in recorded_runs(visual.path)}
    assert "이" in runs[chain[1].path.name] and arabic[0] in runs["DejaVuSans.ttf"]
    for run in recorded_runs(visual.path):
        assert {ord(ch) for ch in run["chars"]} <= cmap_of(run["font"], run["index"])
    # Measured as the sum of its runs, so wrapping still keeps lines inside the width.
    font = _layout.load_faces(chain, 40)
    assert isinstance(font, _layout.FontChain)
    text = f"{ko} {arabic}"
    parts = font.runs(text)
    assert "".join(part for _, _, part in parts) == text and len(parts) >= 2
    assert font.getlength(text) == pytest.approx(sum(f.getlength(p) for f, _, p in parts))
    for line in _wrap.wrap_text(text * 3, font, 500):
        assert font.getlength(line) <= 500


def test_control_characters_are_not_drawn_as_boxes(ctx) -> None:
    # A terminal escape pasted into a code block: FreeType would draw ESC as a box.
    code = "printf '\x1b[1mbold\x1b[0m'\n"
    scene = Scene(index=6, kind="code", title="Colours", code=code, code_language="sh")
    visual = slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    assert all("\x1b" not in run["chars"] for run in recorded_runs(visual.path))
    clean = scene.model_copy(update={"code": code.replace("\x1b", "")})
    with Image.open(visual.path) as drawn:
        expected, _ = slides.render_slide(clean, 1920, 1080, DARK)
        assert ImageChops.difference(drawn.convert("RGB"), expected).getbbox() is None


# -- stopping clearly -------------------------------------------------------------


def test_characters_no_font_has_stop_with_the_package_to_install(ctx) -> None:
    # Linear B (U+10000..): neither DejaVu nor Noto CJK has it.
    scene = Scene(
        index=7, kind="content", title="Knossos tablets", bullets=["\U00010000\U00010001"]
    )
    with pytest.raises(InvalidInputError) as caught:
        slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    message = str(caught.value)
    assert "U+10000" in message and "Linear B" in message
    # dpkg -c fonts-noto-core_20201225-1_all.deb lists NotoSansLinearB-Regular.ttf
    assert "apt-get install fonts-noto-core" in message and "options.font=" in message
    assert "\n" not in message
    assert not (ctx.workdir / "scene-007.png").exists()


def _dpkg_installed(package: str) -> bool:
    if shutil.which("dpkg-query") is None:
        return False
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return done.stdout.strip() == "install ok installed"


def test_emoji_no_font_has_are_left_off_the_slide_with_a_warning(ctx) -> None:
    # rich's README (tests/corpus/markdown/rich.md) prints these in a code block;
    # U+1F99D RACCOON (Unicode 11) is newer than every font installed here.
    if subprocess.run(["fc-list", ":charset=1f99d"], capture_output=True, text=True).stdout.strip():
        pytest.skip("an installed font has U+1F99D: nothing to leave off")
    code = 'print(":raccoon: \U0001f99d :thumbs_up: \U0001f44d")\n'
    scene = Scene(index=8, kind="code", title="Emoji \U0001f99d", code=code, code_language="py")
    with capture_logs() as logs:
        visual = slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    drawn = "".join(run["chars"] for run in recorded_runs(visual.path))
    assert "\U0001f99d" not in drawn
    for run in recorded_runs(visual.path):
        assert {ord(ch) for ch in run["chars"]} <= cmap_of(run["font"], run["index"])
    warnings = [e for e in logs if e["event"] == "slides.dropped_characters"]
    assert len(warnings) == 1 and "U+1F99D" in warnings[0]["characters"]
    if _dpkg_installed("fonts-symbola"):
        # the thumbs-up is drawn by Symbola, the code around it still in DejaVu Sans Mono
        runs = {Path(run["font"]).name: run["chars"] for run in recorded_runs(visual.path)}
        assert "\U0001f44d" in runs["Symbola_hint.ttf"] and "p" not in runs["Symbola_hint.ttf"]
        assert "p" in runs["DejaVuSansMono.ttf"]


def test_letters_no_font_has_stop_the_run_even_beside_emoji(ctx) -> None:
    scene = Scene(
        index=9, kind="content", title="Tablets", bullets=["\U00010000\U00010001 \U0001f99d"]
    )
    with pytest.raises(InvalidInputError, match="U\\+10000") as caught:
        slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    assert "U+1F99D" not in str(caught.value)  # the emoji alone would have been dropped


def test_an_installed_package_is_not_named_as_the_fix(ctx) -> None:
    # U+30000 (CJK Unified Ideographs Extension G, Unicode 13): Noto Sans CJK lacks it.
    if not _dpkg_installed("fonts-noto-cjk"):
        pytest.skip("fonts-noto-cjk is not installed: the message rightly names it")
    if subprocess.run(["fc-list", ":charset=30000"], capture_output=True, text=True).stdout.strip():
        pytest.skip("an installed font has U+30000")
    scene = Scene(index=10, kind="title", title="\U00030000")
    with pytest.raises(InvalidInputError) as caught:
        slides.render_shot(scene=scene, aspect="16:9", options={}, ctx=ctx)
    message = str(caught.value)
    assert "U+30000" in message and "apt-get install" not in message
    assert "installed fonts-noto-cjk" in message and "options.font=" in message


def test_without_fontconfig_the_message_says_so(monkeypatch, ctx, tmp_path) -> None:
    zh, _, _ = cjk_lines()
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no fc-match on it
    _fonts._fc_match.cache_clear()
    _fonts._fc_list.cache_clear()
    try:
        with pytest.raises(InvalidInputError, match="install fontconfig and fonts-noto-cjk"):
            slides.render_shot(
                scene=Scene(index=0, kind="title", title=zh), aspect="16:9", options={}, ctx=ctx
            )
    finally:
        _fonts._fc_match.cache_clear()
        _fonts._fc_list.cache_clear()


def test_the_package_named_fits_the_script() -> None:
    zh, ja, ko = cjk_lines()
    assert _fonts.font_package(zh + ja + ko) == "fonts-noto-cjk"
    # an emoji from httpx's PyPI description (METADATA): Symbola has outline emoji
    assert _fonts.font_package("\U0001f98b") == "fonts-symbola"
    assert _fonts.font_package("\U00010000" + zh) == "fonts-noto-core fonts-noto-cjk"


def test_describe_chars_names_codes_and_scripts() -> None:
    zh, ja, _ = cjk_lines()
    text = _fonts.describe_chars(_fonts.drawn_chars([ja]), limit=3)
    assert text.count("U+") == 3 and "more" in text
    assert "Han" in text and "Katakana" in text


# -- wrapping -------------------------------------------------------------------


def _cjk_font() -> _layout.Font:
    return _layout.load_face(fc_match("sans-serif:lang=ja"), 40)


@pytest.mark.parametrize("width", [130, 200, 333, 480, 590])
def test_cjk_wraps_between_characters_with_kinsoku(cjk_installed, width) -> None:
    zh, ja, ko = cjk_lines()
    font = _cjk_font()
    for text in (zh, ja, f"{ja}「{zh}」"):
        lines = _wrap.wrap_text(text, font, width)
        assert "".join(lines) == text  # no spaces in CJK text: nothing lost or added
        assert len(lines) > 1
        for line in lines:
            assert font.getlength(line) <= width or len(line) == 1
        for line in lines[1:]:
            assert line[0] not in _wrap.NO_LINE_START, lines
        for line in lines[:-1]:
            assert line[-1] not in _wrap.NO_LINE_END, lines


@pytest.mark.parametrize("width", [200, 333, 480])
def test_chinese_and_japanese_lines_end_between_phrases(cjk_installed, width) -> None:
    import budoux

    zh, ja, _ = cjk_lines()
    font = _cjk_font()
    for text, parser in (
        (ja, budoux.load_default_japanese_parser()),
        (zh, budoux.load_default_simplified_chinese_parser()),
    ):
        phrases = parser.parse(text.replace(" ", ""))
        starts = {sum(len(p) for p in phrases[:i]) for i in range(len(phrases))}
        lines = _wrap.wrap_text(text, font, width)
        at = 0
        for line in lines[:-1]:
            at += len(line.replace(" ", ""))
            # a break inside a phrase only where the phrase is wider than the line
            phrase = next(p for i, p in enumerate(phrases) if at < sum(map(len, phrases[: i + 1])))
            assert at in starts or font.getlength(phrase) > width, (lines, phrases)


def test_latin_words_in_cjk_text_stay_whole(cjk_installed) -> None:
    zh, ja, _ = cjk_lines()
    text = f"{zh} pip install reelgraph {ja} Python"
    font = _cjk_font()
    for width in (200, 260, 400):
        lines = _wrap.wrap_text(text, font, width)
        words = [w for line in lines for w in re.findall(r"[A-Za-z]+", line)]
        assert words == ["pip", "install", "reelgraph", "Python"], lines
        assert " ".join(lines).replace(" ", "") == text.replace(" ", "")


def test_korean_keeps_its_spaces(cjk_installed) -> None:
    _, _, ko = cjk_lines()
    lines = _wrap.wrap_text(ko, _cjk_font(), 10_000)
    assert lines == [ko]
