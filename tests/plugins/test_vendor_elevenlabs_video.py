"""document-to-video with its narration on elevenlabs: captions anchored on ElevenLabs' timings.

The shipped spec, with ``provider: elevenlabs`` on its two speech nodes,
runs against the fake ElevenLabs API (real SDK, espeak-ng audio, character
alignment from espeak's word events). The video is then assembled again by
the same ffmpeg assembler from the same narration with the word timings
removed: where a caption cue starts inside a sentence, the run's cue moved
from the characters' linear estimate by exactly what the alignment says.
About 30 s on the shared 2 cores.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
import yaml

from reelgraph import Kernel
from tests.fakes.elevenlabs_server import FakeElevenLabs

DOC = """# Captions that follow the voice

Reelgraph turns a written document into a narrated and captioned video, and every caption cue appears when its words are spoken rather than when a guess says so.

## Timing

The speech engine reports when each character is spoken, so the caption builder anchors every cue on the first word it shows instead of spreading the sentence evenly.
"""  # noqa: E501 - long sentences on purpose: each needs more than one cue


def elevenlabs_spec() -> dict:
    import reelgraph.specs

    path = Path(reelgraph.specs.__file__).with_name("document-to-video.yaml")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["name"] = "document-to-video-elevenlabs"
    for node in spec["nodes"]:
        if node["id"] in ("voice", "narration"):
            node["provider"] = "elevenlabs"
    spec["outputs"].update(
        script="$script", slides="$slides", narrations="$narration", assembled="$video"
    )
    return spec


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("elevenlabs-video")
    doc = root / "captions.md"
    doc.write_text(DOC, encoding="utf-8")
    key = "sk_" + secrets.token_hex(24)
    saved = {name: os.environ.get(name) for name in ("ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL")}
    # slower than captions are read, so cue starts follow the speech, not reading speed
    with FakeElevenLabs(key, rate_wpm=100) as server:
        os.environ["ELEVENLABS_API_KEY"] = key
        os.environ["ELEVENLABS_BASE_URL"] = server.base_url
        try:
            run = Kernel(home=root / "home").run(
                elevenlabs_spec(), inputs={"document": doc}, output_dir=root / "out"
            )
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return run, server, root, key


def test_the_spec_runs_on_elevenlabs_with_every_gate_passing(rendered):
    run, server, root, key = rendered
    assert run.status == "succeeded", run.error
    # every node succeeds but the stock footage credits, skipped for slides
    assert {i: n.status for i, n in run.nodes.items() if n.status != "succeeded"} == {
        "credits": "skipped"
    }
    narrations = run.outputs["narrations"]
    sentences = [s.text for n in narrations for s in n.segments]
    assert sorted(c.body["text"] for c in server.answered) == sorted(sentences)
    assert all(n.voice == "elevenlabs:JBFqnCBsd6RMkjVDRZzb" for n in narrations)
    assert {p.name for p in (root / "out").iterdir()} >= {"video.mp4", "video.srt", "video.vtt"}
    assert run.nodes["narration"].cost_usd == pytest.approx(
        sum(len(s) for s in sentences) * 100.0 / 1_000_000
    )
    assert key.encode() not in b"".join(
        p.read_bytes() for p in (root / "home").rglob("*") if p.is_file()
    )


def test_segment_words_are_the_alignment_the_server_sent(rendered):
    run, server, _root, _key = rendered
    by_text = {c.body["text"]: c.alignment for c in server.answered}
    for segment in (s for n in run.outputs["narrations"] for s in n.segments):
        alignment = by_text[segment.text]
        chars = "".join(alignment["characters"])
        assert chars == segment.text
        at = 0
        for word in segment.words:
            at = chars.index(word.text, at)
            assert word.start_s == alignment["character_start_times_seconds"][at]
            at += len(word.text)
        assert len(segment.words) == len(segment.text.split())


def test_cues_inside_a_sentence_move_by_what_the_alignment_says(rendered, tmp_path):
    from reelgraph.plugins.assembly import ffmpeg
    from reelgraph.run.context import NodeContext

    run, server, _root, _key = rendered
    video = run.outputs["assembled"]
    narrations = run.outputs["narrations"]
    plain = [
        n.model_copy(update={"segments": [s.model_copy(update={"words": []}) for s in n.segments]})
        for n in narrations
    ]
    ctx = NodeContext(
        run_id="r", node_id="again", hook="assemble_video", provider="ffmpeg", run_dir=tmp_path
    )
    linear = ffmpeg.assemble_video(
        script=run.outputs["script"],
        visuals=run.outputs["slides"],
        narrations=plain,
        fps=30,
        pause_s=0.75,
        options={},
        ctx=ctx,
    )
    assert [c.text for c in linear.captions] == [c.text for c in video.captions]
    segments = [s for n in narrations for s in n.segments]
    checked = 0
    for timed, guessed in zip(video.captions, linear.captions, strict=True):
        first = " ".join(timed.text.split()[:3])
        if any(s.text.startswith(first) for s in segments):
            continue  # the cue starts a sentence: its start is the sentence's
        for segment in segments:
            at = segment.text.find(first)
            if at <= 0:
                continue  # not in this sentence
            alignment = {c.body["text"]: c.alignment for c in server.answered}[segment.text]
            spoken_at = alignment["character_start_times_seconds"][at]
            linear_at = at / len(segment.text) * segment.duration_s
            if abs(spoken_at - linear_at) < 0.05:
                continue  # too close to tell apart at SubRip's millisecond resolution
            shift = timed.start_s - guessed.start_s
            assert shift == pytest.approx(spoken_at - linear_at, abs=0.002), timed.text
            checked += 1
    assert checked >= 1  # at least one cue inside a sentence was placed by the alignment
