"""The ffmpeg assembler with several shots per scene and crossfades, on real lavfi clips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.models import Visual
from reelgraph.plugins.assembly._shots import group, place, segments
from reelgraph.plugins.assembly.ffmpeg import assemble_video
from reelgraph.run.context import NodeContext

FPS = 30
PAUSE_S = 0.5
RED, GREEN, BLUE = (200, 40, 40), (40, 160, 60), (40, 60, 200)


def colour_clip(path: Path, rgb: tuple[int, int, int], seconds: float) -> Path:
    """A solid-colour H.264 clip at 25 fps from ffmpeg's lavfi ``color`` source."""
    import imageio_ffmpeg

    colour = "0x{:02X}{:02X}{:02X}".format(*rgb)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"color=c={colour}:size=320x180:rate=25:duration={seconds}"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def clip_visual(path: Path, scene: int, seconds: float) -> Visual:
    return Visual(
        scene_index=scene,
        kind="video",
        path=path,
        width_px=320,
        height_px=180,
        alt_text="colour",
        duration_s=seconds,
    )


def run(media, visuals, narrations, workdir: Path, **options):
    events: list[tuple] = []
    ctx = NodeContext(
        run_id="t",
        node_id="video",
        hook="assemble_video",
        provider="ffmpeg",
        run_dir=workdir,
        progress=lambda *args: events.append(args),
    )
    video = assemble_video(
        script=media.script(narrations),
        visuals=visuals,
        narrations=narrations,
        fps=FPS,
        pause_s=PAUSE_S,
        options={"hold_for_reading": False, **options},
        ctx=ctx,
    )
    return video, events


def frames(path: Path) -> list:
    """Every decoded frame's centre pixel (RGB), in order."""
    with av.open(str(path)) as container:
        return [f.to_image().getpixel((160, 90)) for f in container.decode(video=0)]


def close(rgb, want, tol: int = 14) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=False))


@pytest.fixture(scope="module")
def shots_media(tmp_path_factory, make_media):
    """Scene 0: a red clip planned 1 s then a green one planned 3 s; scene 1: a blue still."""
    media = make_media(tmp_path_factory.mktemp("shots"))
    red = colour_clip(media.root / "red.mp4", RED, 1.0)
    green = colour_clip(media.root / "green.mp4", GREEN, 3.0)
    narrations = [
        media.narration([("Two shots share this scene.", 2.0)], 0),
        media.narration([("One still.", 1.0)], 1),
    ]
    still = media.image(1, (320, 180), BLUE)
    visuals = [clip_visual(red, 0, 1.0), clip_visual(green, 0, 3.0), still]
    return media, visuals, narrations


# scene 0: 2.0 s + 0.5 s = 75 frames; red gets 1/4 of it on the running sum: 19 frames
SCENE0, SCENE1, RED_FRAMES = 75, 45, 19


@pytest.fixture(scope="module")
def cut(shots_media, tmp_path_factory):
    media, visuals, narrations = shots_media
    return run(media, visuals, narrations, tmp_path_factory.mktemp("cut"))


@pytest.fixture(scope="module")
def faded(shots_media, tmp_path_factory):
    media, visuals, narrations = shots_media
    root = tmp_path_factory.mktemp("fade")
    return run(media, visuals, narrations, root, transition="fade", transition_s=0.4)


def test_two_shots_in_a_scene_both_appear_for_their_share(cut):
    video, events = cut
    pixels = frames(video.path)
    assert len(pixels) == SCENE0 + SCENE1
    assert video.duration_s == pytest.approx((SCENE0 + SCENE1) / FPS)
    assert all(close(p, RED) for p in pixels[:RED_FRAMES])
    assert all(close(p, GREEN) for p in pixels[RED_FRAMES:SCENE0])
    assert all(close(p, BLUE) for p in pixels[SCENE0:])
    # three segments, named as such in the progress
    assert any("encoding segment 3/3 (scene 2)" in e[4] for e in events)


def test_audio_and_captions_stay_on_the_narration(cut, shots_media, tmp_path):
    """The shots split the picture only: captions and the track are those of one shot a scene."""
    video, _ = cut
    media, visuals, narrations = shots_media
    single, _ = run(media, [visuals[0], visuals[2]], narrations, tmp_path / "one")
    assert [(c.start_s, c.end_s, c.text) for c in video.captions] == [
        (c.start_s, c.end_s, c.text) for c in single.captions
    ]
    assert video.captions[1].start_s == pytest.approx(SCENE0 / FPS)
    with av.open(str(video.path)) as container:
        audio = container.streams.audio[0]
        audio_s = float(audio.duration * audio.time_base)
    assert audio_s == pytest.approx(video.duration_s, abs=1024 / 48_000)


def test_a_crossfade_blends_at_the_boundary_and_keeps_the_length(faded, cut):
    video, _ = faded
    pixels = frames(video.path)
    assert len(pixels) == SCENE0 + SCENE1  # the same length as with cuts
    assert video.duration_s == cut[0].duration_s
    # 12 frames of fade centred on frame 19: frames 13-24; halfway it is half and half
    mid = pixels[RED_FRAMES]
    assert not close(mid, RED, 30) and not close(mid, GREEN, 30)
    halfway = tuple((a + b) / 2 for a, b in zip(RED, GREEN, strict=True))
    assert close(mid, halfway, 30)
    # the fade moves monotonically from red to green in the red channel
    reds = [p[0] for p in pixels[RED_FRAMES - 6 : RED_FRAMES + 6]]
    assert reds == sorted(reds, reverse=True) and reds[0] - reds[-1] > 100
    assert close(pixels[RED_FRAMES - 8], RED) and close(pixels[RED_FRAMES + 8], GREEN)
    # across the scene boundary too (a clip into a still)
    assert not close(pixels[SCENE0], GREEN, 30) and not close(pixels[SCENE0], BLUE, 30)
    assert close(pixels[SCENE0 + 8], BLUE) and close(pixels[-1], BLUE)
    # captions do not move with the picture
    assert [c.start_s for c in video.captions] == [c.start_s for c in cut[0].captions]


def test_place_splits_in_proportion_and_fades_no_longer_than_half_a_shot(tmp_path):
    still = Visual(scene_index=0, path=tmp_path / "a.png", width_px=2, height_px=2, alt_text="a")
    clip = still.model_copy(update={"kind": "video", "duration_s": 3.0})
    shots = place([[still, clip], [still]], [(0, 40), (40, 8)], 12)
    assert [(s.start, s.frames) for s in shots] == [(0, 10), (10, 30), (40, 8)]
    assert [(s.fade_in, s.fade_out) for s in shots] == [(0, 5), (5, 4), (4, 0)]
    jobs = segments(shots, 15, tmp_path)
    # bodies and fades tile the timeline exactly
    assert sum(j.total for j in jobs) == 48
    assert [j.into is not None for j in jobs] == [False, True, False, True, False]
    cuts = place([[still, clip], [still]], [(0, 40), (40, 8)], 0)
    assert [j.total for j in segments(cuts, 15, tmp_path)] == [10, 30, 8]


def test_visuals_out_of_scene_order_or_missing_a_scene_are_refused(tmp_path):
    def v(scene: int) -> Visual:
        return Visual(
            scene_index=scene, path=tmp_path / "a.png", width_px=2, height_px=2, alt_text="a"
        )

    assert [len(g) for g in group([v(0), v(0), v(1)], 2)] == [2, 1]
    with pytest.raises(InvalidInputError, match=r"visuals\[2\].scene_index 0 comes after scene 1"):
        group([v(0), v(1), v(0)], 2)
    with pytest.raises(InvalidInputError, match=r"none for scene\(s\) \[1\]"):
        group([v(0), v(0), v(2)], 3)
    with pytest.raises(InvalidInputError, match=r"visuals\[1\].scene_index is 5"):
        group([v(0), v(5), v(1)], 2)


def test_bad_transition_option_is_named(shots_media, tmp_path):
    media, visuals, narrations = shots_media
    with pytest.raises(InvalidInputError, match=r"options.transition must be one of"):
        run(media, visuals, narrations, tmp_path, transition="wipe")


def test_slides_with_crossfades_join_by_copy_and_keep_the_length(media, tmp_path):
    """Stills only: bodies and fades all use the stills' quick search (one PPS)."""
    narrations = [media.narration([(f"Slide {i}.", 1.0)], i) for i in range(3)]
    visuals = [media.image(i, (320, 180), rgb) for i, rgb in enumerate((RED, GREEN, BLUE))]
    video, events = run(media, visuals, narrations, tmp_path / "r", transition="fade")
    pixels = frames(video.path)
    assert len(pixels) == 3 * 45
    assert close(pixels[10], RED) and close(pixels[67], GREEN) and close(pixels[120], BLUE)
    assert not close(pixels[45], RED, 30) and not close(pixels[45], GREEN, 30)
    assert sum("encoding segment" in e[4] for e in events) == 5  # 3 bodies, 2 fades
