"""document-to-video with its narration on openai speech, against the fake speech API.

The shipped spec with ``provider: openai`` on its two speech nodes: one
request per sentence, each segment exactly the audio returned for it, every
gate passing on the captioned video. About 25 s on the shared 2 cores.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
import yaml

from reelgraph import Kernel
from reelgraph.plugins.vendors.openai.speech import AUDIO_TOKENS_PER_S
from tests.fakes.openai_speech_server import FakeOpenAISpeech

DOC = """# Voices on demand

A paid voice reads the same script the offline engines read. Every sentence is one request.

## Timing

The audio the API returns for a sentence is that sentence's time on screen.
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    import reelgraph.specs

    root = tmp_path_factory.mktemp("openai-video")
    doc = root / "voices.md"
    doc.write_text(DOC, encoding="utf-8")
    spec = yaml.safe_load(
        Path(reelgraph.specs.__file__).with_name("document-to-video.yaml").read_text("utf-8")
    )
    spec["name"] = "document-to-video-openai"
    for node in spec["nodes"]:
        if node["id"] in ("voice", "narration"):
            node["provider"] = "openai"
            node["with"]["options"] = {"voice": "nova"}
    spec["outputs"].update(narrations="$narration", assembled="$video")
    key = "sk-proj-" + secrets.token_urlsafe(36)
    saved = {name: os.environ.get(name) for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    with FakeOpenAISpeech(key) as server:
        os.environ["OPENAI_API_KEY"] = key
        os.environ["OPENAI_BASE_URL"] = server.base_url
        try:
            run = Kernel(home=root / "home").run(
                spec, inputs={"document": doc}, output_dir=root / "out"
            )
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return run, server, root, key


def test_the_spec_runs_on_openai_speech_with_every_gate_passing(rendered):
    run, server, root, key = rendered
    assert run.status == "succeeded", run.error
    # every node succeeds but the stock footage credits, skipped for slides
    assert {i: n.status for i, n in run.nodes.items() if n.status != "succeeded"} == {
        "credits": "skipped"
    }
    segments = [s for n in run.outputs["narrations"] for s in n.segments]
    assert len(server.requests) == len(segments) == len(server.answered)
    assert {r.body["voice"] for r in server.requests} == {"nova"}
    by_text = {r.body["input"]: r.samples for r in server.answered}
    for segment in segments:
        assert segment.duration_s == pytest.approx(by_text[segment.text] / 24_000)
    assert {p.name for p in (root / "out").iterdir()} >= {"video.mp4", "video.srt", "video.vtt"}
    assert key.encode() not in b"".join(
        p.read_bytes() for p in (root / "home").rglob("*") if p.is_file()
    )


def test_cost_is_the_characters_and_audio_tokens_of_every_sentence(rendered):
    run, server, _root, _key = rendered
    chars = sum(len(r.body["input"]) for r in server.answered)
    tokens = sum(round(r.samples / 24_000 * AUDIO_TOKENS_PER_S) for r in server.answered)
    assert run.nodes["narration"].cost_usd == pytest.approx((chars * 0.60 + tokens * 12.0) / 1e6)


def test_every_sentence_is_captioned_in_order_without_overlapping_cues(rendered):
    run, _server, _root, _key = rendered
    video = run.outputs["assembled"]
    segments = [s for n in run.outputs["narrations"] for s in n.segments]
    words = " ".join(" ".join(c.text.split()) for c in video.captions)
    assert words == " ".join(s.text for s in segments)  # every sentence, in order
    assert video.captions[-1].end_s <= video.duration_s
    assert all(
        a.end_s <= b.start_s for a, b in zip(video.captions, video.captions[1:], strict=False)
    )
