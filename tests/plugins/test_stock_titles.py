"""Stock clip titles (issue 18): the slides' font with glyph fallback, contrast measured on
the footage and the band darkened until it passes, the record the accessibility gate reads.

The footage is a white clip (lavfi ``color=white``), the worst case for white text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

import reelgraph.plugins.gates.accessibility as gate_accessibility
from reelgraph.models import Visual
from reelgraph.plugins._media.caption_style import _luminance, _ratio
from reelgraph.plugins._media.probe import ffmpeg_exe
from reelgraph.plugins.gates.accessibility import missing_glyphs
from reelgraph.plugins.stock._footage import (
    BAND_ALPHA,
    _tag,
    make_clip,
    title_layout,
    title_record,
)
from reelgraph.run.context import NodeContext

JA_TITLE = "日本の古い橋と川の洪水についての物語"
LONG_TITLE = "A long title about rivers that flood the lower fields in early spring rain"


@pytest.fixture(scope="module")
def white(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("footage") / "white.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", "color=white:s=1920x1080:r=30:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture(scope="module")
def clips(white: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    made = {}
    for name, title, minimum in (("ja", JA_TITLE, 4.5), ("strict", LONG_TITLE, 12.0)):
        target = root / f"{name}.mp4"
        make_clip(
            white, target, aspect="16:9", duration_s=1.0, title=title, what=name,
            language="ja" if name == "ja" else None, min_contrast=minimum,
        )  # fmt: skip
        made[name] = target
    return made


def _frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def _beside_each_line(frame: np.ndarray, title: str, language: str | None) -> list[float]:
    """WCAG ratio of white against the footage right of each line's ink (no glyphs there),
    in the written clip: the actual pixels behind the title's rows."""
    layout = title_layout(title, "16:9", language)
    ratios = []
    for _left, top, right, bottom in layout.boxes:
        strip = frame[top + 4 : bottom - 4, right + 16 : frame.shape[1] - 96].astype(np.float64)
        assert strip.size, "no room right of the line"
        ratios.append(_ratio(1.0, float(_luminance(strip.reshape(-1, 3)).max())))
    return ratios


def test_a_japanese_title_is_drawn_in_a_font_that_has_it(clips: dict[str, Path]) -> None:
    record = title_record(clips["ja"])
    assert record is not None and record["text"] == JA_TITLE
    runs = record["glyphs"]["runs"]
    drawn = {ch for run in runs for ch in run["chars"]}
    assert set(JA_TITLE) <= drawn
    assert missing_glyphs(record["glyphs"]) == []  # the gate's own cmap check
    assert all("DejaVu" not in run["font"] for run in runs if set(run["chars"]) & set(JA_TITLE))
    # the kana and kanji are in the written frame: white ink in the title rows
    frame = _frame(clips["ja"])
    box = title_layout(JA_TITLE, "16:9", "ja").boxes[0]
    assert frame[box[1] : box[3], box[0] : box[2]].max() > 230


def test_the_title_passes_wcag_on_white_footage(clips: dict[str, Path]) -> None:
    record = title_record(clips["ja"])
    assert record["frames"] >= 1 and record["contrast"] >= 4.5
    assert record["band_alpha"] == BAND_ALPHA  # the band alone is enough on white
    assert min(_beside_each_line(_frame(clips["ja"]), JA_TITLE, "ja")) >= 4.5


def test_the_band_is_darkened_until_a_stricter_minimum_holds(clips: dict[str, Path]) -> None:
    record = title_record(clips["strict"])
    assert len(record["lines"]) == 3
    assert record["band_alpha"] > BAND_ALPHA and record["contrast"] >= 12
    # measured on the written clip: every line, the third too (it sat on the fade before)
    assert min(_beside_each_line(_frame(clips["strict"]), LONG_TITLE, None)) >= 11


def test_the_gate_reads_the_title_record(clips: dict[str, Path], tmp_path: Path) -> None:
    ctx = NodeContext.for_testing(tmp_path)

    def check(path: Path) -> dict:
        visual = Visual(scene_index=3, kind="video", path=path, width_px=1920, height_px=1080,
                        alt_text="Video: rivers", duration_s=1.0)  # fmt: skip
        results = gate_accessibility.check_quality(
            visuals=[visual], video=None, gates=None, thresholds={}, ctx=ctx
        )
        return {r.details["check"]: r for r in results}

    found = check(clips["ja"])
    assert found["contrast"].passed and found["contrast"].measured >= 4.5
    assert found["contrast"].details["slides"][0]["scene"] == 3
    assert found["glyphs"].passed and found["glyphs"].measured == 0
    assert "safe_area" not in found  # not measured on footage
    assert found["clips"].details["titled_scenes"] == [3]
    # a record of boxes (DejaVu drew the kana) and of low contrast fails both checks
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(clips["ja"].read_bytes())
    record = title_record(bad)
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    _tag(bad, {**record, "contrast": 2.1,
               "glyphs": {"runs": [{"font": dejavu, "index": 0, "chars": JA_TITLE}]}}, "bad")  # fmt: skip
    found = check(bad)
    assert not found["contrast"].passed and found["contrast"].measured == 2.1
    assert not found["glyphs"].passed and found["glyphs"].measured == 1


def test_a_vertical_title_keeps_out_of_the_platforms_overlays() -> None:
    # 9:16: TikTok's, Shorts' and Reels' own buttons and captions cover the top
    # 250 px and the right 184 px at 1080x1920 (caption_style.KEEP_OUT_9_16)
    from reelgraph.plugins._media.caption_style import KEEP_OUT_9_16

    left, top, right, _ = KEEP_OUT_9_16
    layout = title_layout("Tokyo at night: streets, trains and neon lights", "9:16")
    assert layout.boxes and all(box[1] >= top for box in layout.boxes)
    assert all(box[0] >= left and box[2] <= 1080 - right for box in layout.boxes)
    wide = title_layout("Tokyo at night: streets, trains and neon lights", "16:9")
    assert wide.boxes[0][1] < top  # 16:9 keeps its place, 8 % from the top
