"""Offline motion: ``provider: slides`` answers ``generate_clip`` with a Ken Burns move, no key."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from reelgraph import Kernel
from reelgraph.models import Visual
from reelgraph.plugins.visuals import motion, slides

SHOT = {
    "id": "s01",
    "scene_index": 0,
    "shot_type": "title_card",
    "framing": "full frame",
    "camera_move": "slow push in",
    "lighting": "flat",
    "subject": "Quarterly results",
    "prompt": "a title card",
    "storyboard_frame": "the title over a dark background",
    "duration_s": 2.5,
    "mode": "slide",
}


def run_clip(tmp_path: Path, **with_) -> object:
    spec = {
        "name": "motion",
        "nodes": [
            {
                "id": "clip",
                "hook": "generate_clip",
                "provider": "slides",
                "with": {"shot": SHOT, **with_},
            }
        ],
        "outputs": {"clip": "$clip"},
    }
    kernel = Kernel(plugins={"slides": slides}, entry_points=False, home=tmp_path / "home")
    return kernel.run(spec)


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


def test_a_slide_shot_becomes_a_moving_clip_of_its_length(tmp_path):
    run = run_clip(tmp_path, aspect="16:9")
    assert run.status == "succeeded", run.error
    clip = run.outputs["clip"]
    assert isinstance(clip, Visual) and clip.kind == "video" and clip.duration_s == 2.5
    frames = frames_of(clip.path)
    assert len(frames) == 75  # 2.5 s at 30 fps
    assert frames[0].shape == (1080, 1920)
    # it moves: the first and last frames differ, and so do neighbours mid-way
    first, last = frames[0].astype(int), frames[-1].astype(int)
    assert np.abs(first - last).mean() > 1.0
    assert np.abs(frames[37].astype(int) - frames[38].astype(int)).mean() > 0.01
    assert "Quarterly results" in clip.alt_text


def test_the_given_storyboard_frame_is_used_and_fitted_to_the_aspect(tmp_path):
    from PIL import Image

    still = tmp_path / "frame.png"
    Image.new("RGB", (1920, 1080), (200, 40, 40)).save(still)
    frame = {
        "scene_index": 0,
        "path": str(still),
        "width_px": 1920,
        "height_px": 1080,
        "alt_text": "a red frame",
    }
    run = run_clip(tmp_path, first_frame=frame, aspect="9:16")
    assert run.status == "succeeded", run.error
    clip = run.outputs["clip"]
    assert clip.alt_text == "a red frame"
    with av.open(str(clip.path)) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert picture.shape == (1920, 1080, 3)
    middle = picture[960, 540]
    assert middle[0] > 150 and middle[1] < 90  # red in the middle, padded above and below
    assert picture[50, 540].max() < 20  # black bars: 16:9 in a 9:16 frame


def test_zoom_direction_alternates_by_scene():
    even = motion.ken_burns_filter(1920, 1080, 150, zoom=0.08, zoom_in=True)
    odd = motion.ken_burns_filter(1920, 1080, 150, zoom=0.08, zoom_in=False)
    assert "z='1+0.0800*on/149'" in even and "z='1+0.0800*(1-on/149)'" in odd
    assert "scale=3840:2160" in even and ":d=150:s=1920x1080:fps=30" in even


@pytest.mark.parametrize(
    ("changes", "words"),
    [({"needs_audio": True}, "needs sound"), ({}, "options.zoom 0.9 is outside")],
)
def test_bad_requests_are_one_line_errors(tmp_path, changes, words):
    global SHOT
    saved = SHOT
    SHOT = {**SHOT, **changes}
    try:
        options = {} if changes else {"zoom": 0.9}
        run = run_clip(tmp_path, options=options)
    finally:
        SHOT = saved
    assert run.status == "failed" and words in str(run.error)


def test_auto_mode_leaves_a_shot_the_plan_gave_a_vendor(tmp_path):
    ctx_dir = tmp_path / "w"
    ctx_dir.mkdir()
    from reelgraph.run.context import NodeContext

    ctx = NodeContext.for_testing(ctx_dir, hook="generate_clip")
    plan = {"shots": [{"shot_id": "s01", "provider": "runway", "model": "gen4.5"}]}
    assert motion.generate_clip(SHOT, None, "16:9", {"plan": plan}, ctx) is None
    plan["shots"][0]["provider"] = "slides"
    made = motion.generate_clip(SHOT, None, "16:9", {"plan": plan}, ctx)
    assert made is not None and made.kind == "video"
