"""Burned-in styled captions (issue 18): styles, caption areas, contrast, the segment split,
and a burned render read back with tesseract OCR."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import av
import pytest
from PIL import Image

from reelgraph.errors import InvalidInputError
from reelgraph.models import Caption
from reelgraph.plugins._media.caption_style import (
    KEEP_OUT_9_16,
    CaptionStyle,
    caption_area,
    contrast_behind,
    draw_cue,
    layout_cue,
    load_styles,
    resolve_style,
)
from reelgraph.plugins.assembly._burn import burn_segments
from reelgraph.plugins.assembly._segments import Segment
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.run.context import NodeContext

TWO_LINES = "Burned captions obey the same reading\nspeed and line rules as the track."


def _inside(box: tuple[int, int, int, int], area: tuple[int, int, int, int]) -> bool:
    return area[0] <= box[0] and area[1] <= box[1] and box[2] <= area[2] and box[3] <= area[3]


# -- styles -----------------------------------------------------------------------


def test_presets_ship_and_a_user_file_extends_them(tmp_path: Path) -> None:
    styles = load_styles({"REELGRAPH_HOME": str(tmp_path)})
    assert {"clean", "bold-social", "lower-third"} <= set(styles)
    (tmp_path / "caption_styles.yaml").write_text(
        "styles:\n  clean: {size_px: 60}\n  mine: {font: bold, colour: '#ffff00'}\n"
    )
    merged = load_styles({"REELGRAPH_HOME": str(tmp_path)})
    assert merged["clean"].size_px == 60
    assert merged["clean"].box == styles["clean"].box  # other fields kept
    assert merged["mine"].colour == "#ffff00"


def test_a_bad_style_names_file_style_and_field(tmp_path: Path) -> None:
    user = tmp_path / "caption_styles.yaml"
    user.write_text("styles:\n  mine: {sise_px: 60}\n")
    with pytest.raises(InvalidInputError, match=r"caption_styles.yaml.*'mine'.*sise_px"):
        load_styles({"REELGRAPH_HOME": str(tmp_path)})
    user.write_text("styles:\n  mine: {position: middle}\n")
    with pytest.raises(InvalidInputError, match="position='middle'; allowed: bottom"):
        load_styles({"REELGRAPH_HOME": str(tmp_path)})
    with pytest.raises(InvalidInputError, match="choose one of .*bold-social"):
        resolve_style("glitter", {"REELGRAPH_HOME": str(tmp_path / "none")})


# -- where captions go ---------------------------------------------------------------


def test_caption_area_is_title_safe_in_16_9_and_clear_of_the_apps_in_9_16() -> None:
    assert caption_area(1920, 1080) == (96, 54, 1824, 1026)  # 5 % each side
    left, top, right, bottom = KEEP_OUT_9_16
    assert caption_area(1080, 1920) == (left, top, 1080 - right, 1920 - bottom)
    assert caption_area(720, 1280) == (40, 167, 597, 980)  # scaled by 720/1080
    assert caption_area(1080, 1080) == (54, 54, 1026, 1026)


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1080, 1080)])
@pytest.mark.parametrize("position", ["bottom", "centre", "top"])
def test_every_position_stays_in_the_area(size: tuple[int, int], position: str) -> None:
    style = CaptionStyle(name="t", font="bold", size_px=72, outline_px=6, box="#000000",
                         box_opacity=0.5, box_pad_px=12, position=position)  # fmt: skip
    lay = layout_cue(TWO_LINES, style, *size)
    area = caption_area(*size)
    assert _inside(lay.box, area), (lay.box, area)
    centre_y = (lay.box[1] + lay.box[3]) / 2
    third = (area[3] - area[1]) / 3
    expected = {"top": 0, "centre": 1, "bottom": 2}[position]
    assert int((centre_y - area[1]) // third) == expected


def test_size_scales_with_the_frame_and_shrinks_only_to_fit() -> None:
    style = CaptionStyle(name="t", size_px=48, outline_px=0)
    assert layout_cue("Short line", style, 1920, 1080).size_px == 48
    assert layout_cue("Short line", style, 1280, 720).size_px == 32  # 48 * 720 / 1080
    big = CaptionStyle(name="t", font="bold", size_px=72, outline_px=7)
    wide = layout_cue(TWO_LINES, big, 1080, 1920)  # 42 characters do not fit 836 px at 72 px
    assert wide.size_px < 72 and wide.lines == tuple(TWO_LINES.split("\n"))
    assert _inside(wide.box, caption_area(1080, 1920))
    assert layout_cue("a\nb\nc", CaptionStyle(name="t", max_lines=2), 1920, 1080).lines == (
        "a",
        "b c",
    )


# -- contrast ---------------------------------------------------------------------


def test_contrast_is_measured_on_the_pixels_behind_the_text() -> None:
    plain = CaptionStyle(name="t", colour="#ffffff", outline_px=0)
    black = Image.new("RGB", (1920, 1080), (0, 0, 0))
    white = Image.new("RGB", (1920, 1080), (255, 255, 255))
    lay = layout_cue("Hello", plain, 1920, 1080)
    assert contrast_behind(black, plain, lay) == pytest.approx(21.0)
    assert contrast_behind(white, plain, lay) == pytest.approx(1.0)
    # half of the area behind the text white: the worst part decides
    half = black.copy()
    half.paste((255, 255, 255), (0, 0, 1920, (lay.box[1] + lay.box[3]) // 2))
    assert contrast_behind(half, plain, lay) == pytest.approx(1.0)
    # a 55 % black box over white: 255 * 0.45 = 114.75, written as an 8-bit grey
    # (115, what Image.blend puts in the frame) -> WCAG ratio
    boxed = CaptionStyle(name="t", colour="#ffffff", outline_px=0, box="#000000",
                         box_opacity=0.55, box_pad_px=10)  # fmt: skip
    level = Image.blend(Image.new("L", (1, 1), 255), Image.new("L", (1, 1), 0), 0.55).getpixel(
        (0, 0)
    )
    assert level in (114, 115)
    c = level / 255
    grey = ((c + 0.055) / 1.055) ** 2.4
    assert contrast_behind(white, boxed, layout_cue("Hello", boxed, 1920, 1080)) == (
        pytest.approx(1.05 / (grey + 0.05), rel=1e-3)
    )
    # a black outline all round the glyphs carries white text over white
    outlined = CaptionStyle(name="t", colour="#ffffff", outline_px=4, outline_colour="#000000")
    assert contrast_behind(white, outlined, layout_cue("Hello", outlined, 1920, 1080)) > 4.5


def test_every_preset_passes_wcag_on_a_mid_grey_slide() -> None:
    grey = Image.new("RGB", (1920, 1080), (128, 128, 128))
    for style in load_styles({"REELGRAPH_HOME": "/nonexistent"}).values():
        _, lay, runs = draw_cue(grey, TWO_LINES, style, "en")
        assert contrast_behind(grey, style, lay) >= 4.5, style.name
        assert "".join(text for _, text in runs).replace(" ", "") == TWO_LINES.replace(
            "\n", ""
        ).replace(" ", "")


# -- the segment split ----------------------------------------------------------------


def test_still_segments_split_at_cue_edges_and_clips_stay_whole(tmp_path: Path) -> None:
    still = tmp_path / "slide.png"
    Image.new("RGB", (640, 360), (30, 30, 80)).save(still)
    segs = [
        Segment(0, still, "image", 12, 100, tmp_path / "a.mp4"),
        Segment(1, tmp_path / "clip.mp4", "video", 50, 50, tmp_path / "b.mp4"),
    ]
    cues = [
        Caption(index=1, start_s=0.8, end_s=2.0, text="First cue"),  # frames 20-50
        Caption(index=2, start_s=3.6, end_s=4.4, text="Over the edge"),  # 90-110
    ]
    style = CaptionStyle(name="t")
    burned = burn_segments(segs, cues, style, 25, tmp_path, "en")
    pieces = [(s.total, s.frames, s.offset, s.kind) for s in burned.segments]
    # the plain still is one picture (offset 0) for both gaps; each cue one more
    assert pieces == [(20, 1, 0, "image"), (30, 1, 1, "image"), (40, 1, 0, "image"),
                      (10, 1, 2, "image"), (50, 50, 0, "video")]  # fmt: skip
    # the slide's pictures share one encode and the skip frames; the clip keeps its own
    assert [s.out.name for s in burned.segments] == ["burn_0000.mp4"] * 4 + ["b.mp4"]
    assert [s.grouped for s in burned.segments] == [True] * 4 + [False]
    assert {s.skips.path.name for s in burned.segments[:4]} == {"burn_skips.mp4"}
    assert burned.segments[4].skips is None
    assert burned.uncaptioned_frames == 10  # cue 2's frames over the clip
    # drawn by the encoder (the group's first piece's pictures), not before
    assert burned.records == []
    assert burned.segments[0].pictures is not None
    assert all(s.pictures is None for s in burned.segments[1:])
    pictures = burned.draw_all()
    assert [p.size for p in pictures] == [(640, 360)] * 3
    assert pictures[0].getcolors() == [(640 * 360, (30, 30, 80))]  # the plain still
    assert [r["text"] for r in burned.records] == ["First cue", "Over the edge"]
    assert all(r["contrast"] >= 4.5 for r in burned.records)
    assert burned.draw_all() == []  # drawn once


def test_consecutive_stills_share_an_encode_up_to_its_size(tmp_path: Path) -> None:
    from reelgraph.plugins.assembly._burn import GROUP_PICTURES

    small, wide = tmp_path / "small.png", tmp_path / "wide.png"
    Image.new("RGB", (640, 360), (30, 30, 80)).save(small)
    Image.new("RGB", (1280, 720), (30, 30, 80)).save(wide)
    # 10 stills of 25 frames with a cue inside each (3 pieces, 2 pictures), then a still
    # of another size: 8 stills fill a group, 2 make the next, the wide still its own
    segs = [Segment(k, small, "image", 12, 25, tmp_path / f"{k}.mp4") for k in range(10)]
    segs.append(Segment(10, wide, "image", 12, 25, tmp_path / "10.mp4"))
    cues = [
        Caption(index=k + 1, start_s=k + 0.2, end_s=k + 0.8, text=f"Cue {k}") for k in range(11)
    ]
    burned = burn_segments(segs, cues, CaptionStyle(name="t"), 25, tmp_path, "en")
    assert GROUP_PICTURES == 16
    outs = [s.out.name for s in burned.segments]
    assert outs == ["burn_0000.mp4"] * 24 + ["burn_0001.mp4"] * 6 + ["burn_0002.mp4"] * 3
    assert [s.offset for s in burned.segments[21:27]] == [14, 15, 14, 0, 1, 0]
    assert [len(list(s.pictures())) for s in burned.segments if s.pictures] == [16, 4, 2]


@pytest.mark.parametrize("quick_still", [True, False])
def test_skip_frames_repeat_any_picture_to_the_bit(tmp_path: Path, quick_still: bool) -> None:
    # noise and a gradient, the hardest pictures for a copy: any motion vector or
    # residual in the shared skip frames would show; with and without the quick search
    # (a video with clips encodes its stills without it)
    import imageio_ffmpeg
    import numpy as np

    from reelgraph.plugins.assembly._segments import SkipFrames, encode_group, join_segments

    rng = np.random.default_rng(18)
    noise = Image.fromarray(rng.integers(0, 256, (360, 640, 3), dtype=np.uint8))
    gradient = Image.linear_gradient("L").resize((640, 360)).convert("RGB")
    skips = SkipFrames(tmp_path / "skips.mp4")
    common = {"grouped": True, "skips": skips, "quick_still": quick_still}
    pieces = [
        Segment(0, tmp_path / "a.png", "image", 1, 20, tmp_path / "g.mp4", offset=0, **common,
                pictures=lambda: [noise, gradient]),
        Segment(1, tmp_path / "b.png", "image", 1, 17, tmp_path / "g.mp4", offset=1, **common),
        Segment(2, tmp_path / "a.png", "image", 1, 5, tmp_path / "g.mp4", offset=0, **common),
    ]  # fmt: skip
    encode_group(imageio_ffmpeg.get_ffmpeg_exe(), pieces, (640, 360), 25, 20, "medium", 12)
    assert join_segments(pieces, tmp_path / "joined.mp4", 25) == 42
    with av.open(str(tmp_path / "joined.mp4")) as container:
        frames = [(f.key_frame, f.to_ndarray(format="yuv420p")) for f in container.decode(video=0)]
    assert [n for n, (key, _) in enumerate(frames) if key] == [0, 12, 20, 32, 37]
    for first, end in ((0, 20), (20, 37), (37, 42)):
        assert all(np.array_equal(frames[first][1], f) for _, f in frames[first:end])
    assert not np.array_equal(frames[0][1], frames[20][1])
    assert np.array_equal(frames[0][1], frames[37][1])  # one picture, one IDR frame
    with av.open(str(tmp_path / "g.mp4")) as container:
        assert container.streams.video[0].frames == 2


def test_stills_and_clips_burned_in_one_video_join_by_copy(media, tmp_path: Path) -> None:
    # a video with a clip encodes its stills without the quick search (one PPS): the
    # stills' pictures and the shared skip frames must be encoded the same way
    narrations = [
        media.narration([("A slide with its caption burned in.", 1.6)], 0),
        media.narration([("Then a clip with its own caption.", 1.4)], 1),
    ]
    ctx = NodeContext.for_testing(tmp_path / "run", node_id="video")
    fps = 25
    video = assemble_video(
        script=media.script(narrations),
        visuals=[media.image(0, (640, 360), (20, 40, 90)), media.clip(1, 2.0)],
        narrations=narrations,
        fps=fps,
        pause_s=0.3,
        options={"captions": "burned", "caption_style": "clean", "hold_for_reading": False},
        ctx=ctx,
    )
    still_end = round(video.captions[0].end_s * fps)
    with av.open(str(video.path)) as container:
        frames = [(f.key_frame, f.to_ndarray(format="yuv420p")) for f in container.decode(video=0)]
    assert len(frames) == round(video.duration_s * fps)
    changed = [
        n for n in range(1, still_end) if frames[n][1].tobytes() != frames[n - 1][1].tobytes()
    ]
    assert set(changed) <= {n for n, (key, _) in enumerate(frames) if key}
    record = json.loads(video.burned_captions_path.read_text())
    assert {r["cue"] for r in record["cues"]} == {c.index for c in video.captions}


# -- a burned render read back with OCR ---------------------------------------------


def _ocr_match(expected: str, read: str) -> float:
    """Share of the cue's characters (spaces ignored) that OCR read, in order."""
    a, b = "".join(expected.split()), "".join(read.split())
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(a)


def test_a_burned_frame_shows_its_cue(media, tmp_path: Path) -> None:
    pytesseract = pytest.importorskip("pytesseract")
    pytesseract.get_tesseract_version()  # fails (not skips) without the tesseract binary
    sentences = [
        ("Captions are drawn into the picture for social video.", 3.2),
        ("Short video apps ignore caption tracks entirely.", 3.0),
    ]
    narrations = [media.narration(sentences[:1], 0), media.narration(sentences[1:], 1)]
    visuals = [
        media.image(0, (1920, 1080), (20, 40, 90)),
        media.image(1, (1920, 1080), (230, 230, 230)),  # light slide: the box must carry it
    ]
    ctx = NodeContext.for_testing(tmp_path / "run", node_id="video")
    video = assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=25,
        pause_s=0.3,
        options={"captions": "burned", "caption_style": "clean", "hold_for_reading": False},
        ctx=ctx,
    )
    assert video.burned_captions_path is not None and len(video.captions) == 2
    record = json.loads(video.burned_captions_path.read_text())
    boxes = {r["cue"]: r["box"] for r in record["cues"]}
    with av.open(str(video.path)) as container:
        assert not container.streams.subtitles  # burned only: no soft track
    for cue in video.captions:
        middle = (cue.start_s + cue.end_s) / 2
        with av.open(str(video.path)) as container:
            frame = next(
                f for f in container.decode(video=0) if f.time is not None and f.time >= middle
            )
            picture = frame.to_image()
        left, top, right, bottom = boxes[cue.index]
        text = pytesseract.image_to_string(picture.crop((left, top, right, bottom)), lang="eng")
        assert _ocr_match(cue.text, text) >= 0.8, (cue.text, text)


@pytest.mark.parametrize("captions", ["burned", "both"])
def test_captions_start_and_end_on_their_frames_in_one_encode_per_slide(
    media, tmp_path: Path, captions: str
) -> None:
    # three cues on the first slide, one on the second, plain pauses after each scene;
    # each slide's pieces share one ffmpeg run
    sentences = [
        ("The first caption of this slide is long enough to stand alone.", 1.3),
        ("A second caption follows it on the same slide without a pause.", 1.1),
        ("Then a third one closes the scene before the pause begins.", 1.2),
    ]
    narrations = [
        media.narration(sentences, 0),
        media.narration([("The last slide has a single caption of its own.", 1.0)], 1),
    ]
    ctx = NodeContext.for_testing(tmp_path / "run", node_id="video")
    fps = 25
    video = assemble_video(
        script=media.script(narrations),
        visuals=[
            media.image(0, (640, 360), (20, 40, 90)),
            media.image(1, (640, 360), (90, 40, 20)),
        ],
        narrations=narrations,
        fps=fps,
        pause_s=0.3,
        options={"captions": captions, "caption_style": "clean", "hold_for_reading": False},
        ctx=ctx,
    )
    assert len(video.captions) >= 3
    work = ctx.workdir
    assert not list(work.glob("burn_*_*.mp4"))  # no encode per piece
    expected = set()
    for cue in video.captions:
        expected |= set(range(round(cue.start_s * fps), round(cue.end_s * fps)))
    record = json.loads(video.burned_captions_path.read_text())
    left, top, right, bottom = record["cues"][0]["box"]
    captioned, keyframes, changed = set(), [], []
    previous = None
    with av.open(str(video.path)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            band = frame.to_image().crop((left, top, right, bottom)).convert("L")
            lo, hi = band.getextrema()
            if hi - lo > 60:  # text and box, not the flat slide colour
                captioned.add(n)
            if frame.key_frame:
                keyframes.append(n)
            planes = frame.to_ndarray(format="yuv420p").tobytes()
            if planes != previous:
                changed.append(n)
            previous = planes
    assert captioned == expected  # every cue on exactly its frames
    # a picture is its IDR frame and skip frames: between keyframes nothing changes, to
    # the bit (the shared skip frames decode to whatever IDR frame they follow)
    assert set(changed) <= set(keyframes)
    edges = {round(c.start_s * fps) for c in video.captions}
    edges |= {round(c.end_s * fps) for c in video.captions}
    assert edges - {n + 1} <= set(changed)  # each cue's first and first-after frame change
    assert max(b - a for a, b in zip(keyframes, [*keyframes[1:], n + 1], strict=True)) <= 13


def test_both_keeps_the_soft_track(media, tmp_path: Path) -> None:
    narrations = [media.narration([("One short sentence here.", 1.5)], 0)]
    ctx = NodeContext.for_testing(tmp_path / "run", node_id="video")
    video = assemble_video(
        script=media.script(narrations),
        visuals=[media.image(0, (640, 360), (20, 40, 90))],
        narrations=narrations,
        fps=25,
        pause_s=0.3,
        options={"captions": "both", "caption_style": "lower-third"},
        ctx=ctx,
    )
    with av.open(str(video.path)) as container:
        assert [s.codec_context.name for s in container.streams.subtitles] == ["mov_text"]
    assert video.burned_captions_path is not None
    with pytest.raises(InvalidInputError, match="options.captions must be soft, burned or both"):
        assemble_video(
            script=media.script(narrations),
            visuals=[media.image(0, (640, 360), (20, 40, 90))],
            narrations=narrations,
            fps=25,
            pause_s=0.3,
            options={"captions": "burnt"},
            ctx=ctx,
        )


# -- the accessibility gate on burned captions -------------------------------------------


def _gate(video, tmp_path: Path, visuals=None):
    from reelgraph.plugins.gates.accessibility import check_quality

    ctx = NodeContext.for_testing(tmp_path / "gate", node_id="q")
    return check_quality(visuals=visuals, video=video, gates=None, thresholds={}, ctx=ctx)


def test_the_gate_checks_burned_contrast_and_glyphs(tmp_path: Path) -> None:
    from reelgraph.models import Video

    record = tmp_path / "burned_captions.json"
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    cues = [
        {"cue": 1, "contrast": 12.3, "glyphs": {"runs": [{"font": dejavu, "chars": "Hi"}]}},
        {"cue": 2, "contrast": 2.1, "glyphs": {"runs": [{"font": dejavu, "chars": "\u4e2d"}]}},
    ]
    record.write_text(json.dumps({"style": {}, "cues": cues}))
    video = Video(path=tmp_path / "v.mp4", duration_s=1, width_px=64, height_px=36, fps=25,
                  burned_captions_path=record)  # fmt: skip
    results = {r.details["check"]: r for r in _gate(video, tmp_path)}
    assert set(results) == {"caption_contrast", "caption_glyphs"}  # no visuals: burned only
    assert not results["caption_contrast"].passed
    assert results["caption_contrast"].measured == 2.1
    assert results["caption_contrast"].details["low_contrast_cues"] == [2]
    assert not results["caption_glyphs"].passed
    assert results["caption_glyphs"].details["missing"][0]["cue"] == 2
    soft = video.model_copy(update={"burned_captions_path": None})
    assert _gate(soft, tmp_path) is None  # soft captions, no visuals: nothing to check


@pytest.mark.slow
def test_the_readme_with_burned_captions_passes_its_gates(tmp_path: Path) -> None:
    from reelgraph import Kernel

    readme = Path(__file__).resolve().parents[2] / "README.md"
    run = Kernel(home=tmp_path / "home").run(
        "document-to-video",
        {"document": str(readme), "captions": "burned", "caption_style": "bold-social"},
        output_dir=str(tmp_path / "out"),
    )
    run.raise_for_status()
    record = json.loads((tmp_path / "out" / "burned_captions.json").read_text())
    assert len(record["cues"]) >= 20 and record["style"]["name"] == "bold-social"
    checks = {r.details.get("check"): r for r in run.quality_report if r.gate == "accessibility"}
    assert checks["caption_contrast"].passed and checks["caption_glyphs"].passed


def test_word_highlight_cuts_a_cue_at_each_spoken_word(tmp_path: Path) -> None:
    from reelgraph.plugins.assembly._burn import word_times

    cues = [
        Caption(index=1, start_s=0.0, end_s=1.2, text="Hello big\nworld."),
        Caption(index=2, start_s=1.2, end_s=2.0, text="Unmatched words"),
    ]
    words = [(0.0, "Hello"), (0.4, "big"), (0.8, "world."), (1.3, "something"), (1.6, "else")]
    assert word_times(cues, words) == {1: [0.0, 0.4, 0.8]}
    still = tmp_path / "slide.png"
    Image.new("RGB", (640, 360), (30, 30, 80)).save(still)
    segs = [Segment(0, still, "image", 12, 50, tmp_path / "a.mp4")]
    style = CaptionStyle(name="t", highlight="#ffd400", outline_px=0)
    burned = burn_segments(segs, cues, style, 25, tmp_path, "en", words=words)
    pictures = burned.draw_all()
    assert [(s.total, s.offset) for s in burned.segments] == [
        (10, 0),  # "Hello" lit until "big" starts at frame 10
        (10, 1),
        (10, 2),
        (20, 3),  # no timings matched: drawn once, unlit
    ]
    assert [(r["cue"], r["word"]) for r in burned.records] == [(1, 0), (1, 1), (1, 2), (2, None)]
    assert burned.highlighted_cues == 1
    # the lit word is drawn in the highlight colour, the others are not
    lit, plain = pictures[1], pictures[3]
    assert (255, 212, 0) in {c for _, c in lit.getcolors(1 << 16)}
    assert (255, 212, 0) not in {c for _, c in plain.getcolors(1 << 16)}
