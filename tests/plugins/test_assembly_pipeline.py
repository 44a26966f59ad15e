"""The music bed through the ai-video spec: checked before any clip, mixed into the video.

The early check is the ``music`` gate (plugins/assembly/music.py), run by the
spec's ``music`` node, which the ``clips`` node needs.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from reelgraph import Kernel, load_spec
from reelgraph.errors import InvalidInputError
from reelgraph.plugins.assembly.music import check_quality as music_gate
from reelgraph.run.context import NodeContext
from tests.plugins.conftest import make_tone_wav

SPEC = Path(__file__).resolve().parents[2] / "specs" / "ai-video.yaml"
BRIEF = {
    "title": "Why we test backups",
    "goal": "Get every team to restore a backup once a quarter.",
    "audience": "engineering teams",
    "key_messages": [
        "A backup you never restored is a hope, not a backup",
        "Restore drills find missing data before an outage does",
    ],
    "duration_s": 25,
    "tone": "plain",
    "style": "clean",
    "template": "presentation",
}


@pytest.fixture
def brief(tmp_path) -> Path:
    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump(BRIEF), encoding="utf-8")
    return path


def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext(
        run_id="t", node_id="music", hook="check_quality", provider="music", run_dir=tmp_path
    )


def test_the_music_gate_measures_a_good_file_and_names_the_input_for_a_bad_one(tmp_path):
    good = tmp_path / "bed.wav"
    make_tone_wav(good, 1.5, freq_hz=440)
    (result,) = music_gate(targets={"music": good}, gates=["music"], ctx=ctx(tmp_path))
    assert result.passed and result.measured == pytest.approx(1.5, abs=0.01)
    assert "LUFS" in result.message
    assert music_gate(targets={}, gates=["music"], ctx=ctx(tmp_path)) is None
    assert music_gate(targets={"music": good}, gates=["loudness"], ctx=ctx(tmp_path)) is None
    text = tmp_path / "notes.mp3"
    text.write_text("these are not sounds\n")
    with pytest.raises(InvalidInputError, match=r"^input music: .*notes.mp3"):
        music_gate(targets={"music": text}, gates=["music"], ctx=ctx(tmp_path))
    empty = tmp_path / "empty.wav"
    make_tone_wav(empty, 0.0)
    with pytest.raises(InvalidInputError, match=r"^input music: .*empty.wav has no audio samples"):
        music_gate(targets={"music": empty}, gates=["music"], ctx=ctx(tmp_path))
    image = tmp_path / "cover.png"
    from tests.plugins.conftest import make_png

    make_png(image, (8, 8), (1, 2, 3))
    with pytest.raises(InvalidInputError, match=r"^input music: .*cover.png"):
        music_gate(targets={"music": image}, gates=["music"], ctx=ctx(tmp_path))


def test_ai_video_with_an_undecodable_music_file_stops_before_any_clip(brief, tmp_path):
    bad = tmp_path / "bed.mp3"
    bad.write_bytes(b"ID3" + bytes(200))  # an MP3 header and nothing that decodes
    run = Kernel(home=tmp_path / "home").run(
        load_spec(SPEC), {"brief": str(brief), "music": str(bad)}
    )
    assert run.status == "failed"
    assert "input music" in str(run.error) and "bed.mp3" in str(run.error)
    clips = run.nodes.get("clips")
    assert clips is None or clips.status != "succeeded"
    assert not list((tmp_path / "home").rglob("clips/*/s*.mp4"))  # no clip was made


@pytest.mark.slow  # a whole offline render; run with -m slow
def test_ai_video_offline_with_a_music_bed(brief, tmp_path):
    import imageio_ffmpeg

    music = tmp_path / "bed.mp3"
    tone = "0.2*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*330*t)"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"aevalsrc={tone}:s=44100:d=8", "-c:a", "libmp3lame", str(music)]
    subprocess.run(cmd, check=True, capture_output=True)
    started = time.perf_counter()
    run = Kernel(home=tmp_path / "home").run(
        load_spec(SPEC), {"brief": str(brief), "music": str(music)}
    )
    seconds = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    gates = [r for node in ("video_quality", "black_frames") for r in run.quality[node]]
    assert gates and all(r.passed for r in gates), [r.message for r in gates if not r.passed]
    loudness = {r.details["check"]: r.measured for r in gates if r.gate == "loudness"}
    print(
        f"ai-video offline with music: {seconds:.0f} s wall; "
        f"{loudness['integrated']} LUFS, {loudness['true_peak']} dBTP"
    )
    assert loudness["integrated"] == pytest.approx(-16.0, abs=1.0)
    assert loudness["true_peak"] <= -1.0
