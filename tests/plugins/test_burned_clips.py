"""Burned captions on clips and crossfades (issue 18): the layer's matte, the style made
safe for moving pictures, and cues on exactly their frames of a clip and through a crossfade,
with their contrast measured on the clip's own pixels."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reelgraph.errors import InvalidInputError
from reelgraph.plugins._media.caption_style import (
    CaptionStyle,
    contrast_behind,
    draw_cue,
    layout_cue,
    load_styles,
    resolve_style,
)
from reelgraph.plugins.assembly._burn_clips import draw_layer, style_for_clips, worst_contrast
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.run.context import NodeContext

CUE = "Captions ride on the moving\npicture of every clip."


def test_the_layer_composited_is_the_cue_drawn_on_the_picture(tmp_path: Path) -> None:
    # the RGBA layer over any picture gives what draw_cue draws on that picture
    rng = np.random.default_rng(7)
    picture = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), "RGB")
    for style in (resolve_style("clean"), resolve_style("lower-third")):
        layer = draw_layer((320, 240), CUE, style, "en", None, tmp_path / f"{style.name}.png")
        assert layer is not None and layer.x % 2 == 0 and layer.y % 2 == 0
        over = picture.convert("RGBA")
        over.alpha_composite(Image.open(layer.path), (layer.x, layer.y))
        drawn, _, _ = draw_cue(picture, CUE, style, "en")
        error = np.abs(np.asarray(over.convert("RGB"), dtype=int) - np.asarray(drawn, dtype=int))
        assert error.max() <= 3 and error.mean() < 0.2, (style.name, error.max())
        # the layer covers the cue's box and little more
        left, top, right, bottom = draw_cue(picture, CUE, style, "en")[1].box
        width, height = Image.open(layer.path).size
        assert layer.x <= max(0, left) and layer.x + width >= min(320, right) - 1
        assert layer.y <= top + 1 and layer.y + height >= min(240, bottom) - 1


def test_a_style_gets_a_box_that_holds_on_any_background() -> None:
    for style in load_styles({}).values():  # the presets hold already: unchanged
        assert worst_contrast(style) >= 4.5 and style_for_clips(style) is style
    bare = CaptionStyle(name="bare", colour="#ffffff", outline_px=0)
    assert worst_contrast(bare) < 2  # white text on a white part of a clip
    safe = style_for_clips(bare)
    assert safe.box == "#000000" and worst_contrast(safe) >= 4.5
    weaker = CaptionStyle(name="w", colour="#ffffff", outline_px=0, box="#000000",
                          box_opacity=round(safe.box_opacity - 0.05, 2), box_pad_px=10)  # fmt: skip
    assert worst_contrast(weaker) < 4.5  # the lowest opacity that holds, in 5 % steps
    dark = style_for_clips(CaptionStyle(name="dark", colour="#202020", outline_px=0))
    assert dark.box == "#ffffff" and worst_contrast(dark) >= 4.5
    with pytest.raises(InvalidInputError, match="caption_style 'same'.*opaque #ffffff box"):
        style_for_clips(CaptionStyle(name="same", colour="#ffffff", outline_px=0, box="#ffffff"))


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]


def test_cues_sit_on_their_frames_of_a_clip_and_through_a_crossfade(media, tmp_path: Path) -> None:
    fps = 25
    narrations = [
        media.narration(
            [
                ("Captions are drawn on the moving picture of a clip.", 1.6),
                ("This one runs on across the crossfade into the next.", 1.4),
            ],
            0,
        ),
        media.narration([("The second clip has its own caption.", 1.5)], 1),
    ]
    visuals = [media.clip(0, 4.0), media.clip(1, 3.0)]
    # no outline: the contrast is the box's and the clip's, not the outline's 21:1
    style = {"preset": "clean", "outline_px": 0, "box_opacity": 0.6}
    common = {"transition": "fade", "transition_s": 0.6, "hold_for_reading": False}
    renders = {}
    for captions in ("soft", "burned"):
        ctx = NodeContext.for_testing(tmp_path / captions, node_id="video")
        renders[captions] = assemble_video(
            script=media.script(narrations),
            visuals=visuals,
            narrations=narrations,
            fps=fps,
            pause_s=0.3,
            options={**common, "captions": captions, "caption_style": style},
            ctx=ctx,
        )
    burned = renders["burned"]
    record = json.loads(burned.burned_captions_path.read_text())["cues"]
    assert {r["on"] for r in record} == {"clip", "crossfade"}  # no still in this video
    plain, captioned = _frames(renders["soft"].path), _frames(burned.path)
    assert len(plain) == len(captioned)
    boxes = {r["cue"]: r["box"] for r in record}

    def differs(n: int, box: list[int]) -> bool:
        left, top, right, bottom = box
        a, b = plain[n][top:bottom, left:right], captioned[n][top:bottom, left:right]
        return float(np.abs(a - b).mean()) > 8

    expected: set[int] = set()
    for cue in burned.captions:
        frames = range(round(cue.start_s * fps), round(cue.end_s * fps))
        assert all(differs(n, boxes[cue.index]) for n in frames), cue.index
        expected |= set(frames)
    union = [min(b[0] for b in boxes.values()), min(b[1] for b in boxes.values()),
             max(b[2] for b in boxes.values()), max(b[3] for b in boxes.values())]  # fmt: skip
    assert {n for n in range(len(plain)) if differs(n, union)} == expected
    # the middle cue spans the crossfade between the clips and is drawn there too
    spanning = [r for r in record if r["on"] == "crossfade"]
    assert spanning and all(r["frames_sampled"] >= 1 for r in record)
    # contrast measured on the clip's own pixels behind the cue (the soft render's frames)
    safe = style_for_clips(resolve_style(style))
    for r in record:
        if r["on"] != "clip":
            continue
        cue = next(c for c in burned.captions if c.index == r["cue"])
        first, end = round(cue.start_s * fps), round(cue.end_s * fps)
        layout = layout_cue(cue.text, safe, burned.width_px, burned.height_px, "en")
        seen = [
            contrast_behind(Image.fromarray(plain[n].astype(np.uint8)), safe, layout)
            for n in range(first, end)
        ]
        assert 4.5 <= r["contrast"] < 21
        assert min(seen) - 0.3 <= r["contrast"] <= max(seen) + 0.3


def test_a_clip_cue_is_cut_at_each_spoken_word_with_a_highlight(tmp_path: Path) -> None:
    from reelgraph.models import Caption
    from reelgraph.plugins.assembly._burn import Burned
    from reelgraph.plugins.assembly._burn_clips import burn_clips
    from reelgraph.plugins.assembly._segments import Segment

    fps = 25
    clip = Segment(0, tmp_path / "c.mp4", "video", 100, 100, tmp_path / "shot_0000.mp4")
    still = Segment(1, tmp_path / "s.png", "image", 12, 50, tmp_path / "shot_0001.mp4")
    cues = [Caption(index=1, start_s=0.4, end_s=2.0, text="Three spoken words")]
    words = [(0.4, "Three"), (1.0, "spoken"), (1.5, "words")]
    burned = Burned([clip, still], [], uncaptioned_frames=40, highlighted_cues=0, records=[])
    for style, pieces in (
        ("bold-social", [(10, 25, 0), (25, 38, 1), (38, 50, 2)]),
        ("clean", [(10, 50, None)]),  # no highlight colour: one piece
    ):
        out = burn_clips(burned, cues, resolve_style(style), fps, tmp_path, "en", words=words)
        assert out.uncaptioned_frames == 0 and out.segments[1] is still
        encode = out.segments[0].encode
        assert [(p.first, p.end, p.word) for p in encode.pieces] == pieces
