"""openai speech: the real SDK against a fake /v1/audio/speech on loopback, under the kernel.

The fake speaks each request with espeak-ng (24 kHz WAV), so segment
durations are compared with the samples the server really sent.
"""

from __future__ import annotations

import json
import logging
import secrets
import wave
from pathlib import Path

import pytest

from reelgraph import Kernel
from reelgraph.errors import ConfigurationError, InvalidInputError
from reelgraph.models import Narration
from reelgraph.plugins.vendors._pricing import load_prices
from reelgraph.plugins.vendors.openai import OpenAIPlugin
from reelgraph.plugins.vendors.openai.speech import AUDIO_TOKENS_PER_S
from tests.fakes.openai_speech_server import FakeOpenAISpeech, Step

SENTENCES = ["Reelgraph turns documents into video.", "Every node is a span.", "Try it today."]


@pytest.fixture
def key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(36)


@pytest.fixture
def server(key, monkeypatch):
    fake = FakeOpenAISpeech(key)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    yield fake
    fake.close()


def speech_spec(sentences=SENTENCES, provider="openai", budget=None, **options) -> dict:
    node = {
        "id": "voice",
        "hook": "synthesize_speech",
        "provider": provider,
        "with": {"sentences": sentences, "options": options},
        "retry": {"max_attempts": 3, "initial_s": 0, "jitter_s": 0, "max_s": 10},
    }
    spec: dict = {"name": "speech-only", "nodes": [node], "outputs": {"narration": "$voice"}}
    if budget is not None:
        spec["budget"] = {"max_cost_usd": budget}
    return spec


def kernel_for(plugin=None) -> Kernel:
    return Kernel(plugins={"openai": plugin or OpenAIPlugin()}, entry_points=False)


def wav_frames(path: Path) -> tuple[int, int]:
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return wav.getnframes(), wav.getframerate()


@pytest.mark.parametrize("placeholder_sizes", [False, True])
def test_one_request_per_sentence_and_exact_durations(key, monkeypatch, placeholder_sizes):
    with FakeOpenAISpeech(key, wav_placeholder_sizes=placeholder_sizes) as server:
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        run = kernel_for().run(speech_spec(voice="coral", speed=1.25))
    assert run.status == "succeeded", run.error
    narration = run.outputs["narration"]
    assert isinstance(narration, Narration) and narration.voice == "openai:coral"
    assert [r.body["input"] for r in server.requests] == SENTENCES
    assert {r.body["voice"] for r in server.requests} == {"coral"}
    assert {r.body["response_format"] for r in server.requests} == {"wav"}
    assert {r.body["speed"] for r in server.requests} == {1.25}
    assert {r.body["model"] for r in server.requests} == {"gpt-4o-mini-tts"}
    for segment, request, text in zip(narration.segments, server.requests, SENTENCES, strict=True):
        frames, rate = wav_frames(segment.path)
        assert segment.text == text and rate == segment.sample_rate_hz == 24_000
        assert frames == request.samples  # the server's audio, sample for sample
        assert segment.duration_s == pytest.approx(request.samples / 24_000)
    assert len({s.duration_s for s in narration.segments}) == 3  # really per sentence
    assert narration.duration_s == pytest.approx(sum(s.duration_s for s in narration.segments))


def test_cost_is_characters_and_audio_tokens_at_the_price(server):
    run = kernel_for().run(speech_spec())
    assert run.status == "succeeded", run.error
    price = load_prices("openai")["gpt-4o-mini-tts"]
    chars = sum(len(s) for s in SENTENCES)
    tokens = sum(round(r.samples / 24_000 * AUDIO_TOKENS_PER_S) for r in server.requests)
    expected = (chars * price.input + tokens * price.output) / 1_000_000
    assert run.nodes["voice"].cost_usd == pytest.approx(expected)
    # about $0.015 a minute, as OpenAI estimates
    minutes = run.outputs["narration"].duration_s / 60
    assert run.nodes["voice"].cost_usd == pytest.approx(0.015 * minutes, rel=0.05)


def test_tts_1_is_billed_per_character_and_its_estimate_is_exact(server):
    plugin = OpenAIPlugin()
    arguments = {"sentences": SENTENCES, "options": {"model": "tts-1"}}
    estimate = plugin.estimate_speech_cost("synthesize_speech", "openai", arguments)
    run = kernel_for(plugin).run(speech_spec(model="tts-1"))
    assert run.status == "succeeded", run.error
    expected = sum(len(s) for s in SENTENCES) * 15.0 / 1_000_000
    assert run.nodes["voice"].cost_usd == pytest.approx(expected) == pytest.approx(estimate)


def test_the_estimate_bounds_the_cost_and_a_budget_below_it_spends_nothing(server):
    plugin = OpenAIPlugin()
    arguments = {"sentences": SENTENCES, "options": {}}
    estimate = plugin.estimate_speech_cost("synthesize_speech", "openai", arguments)
    assert estimate is not None and estimate > 0
    assert plugin.estimate_speech_cost("synthesize_speech", "espeak", arguments) is None
    assert plugin.estimate_speech_cost("render_shot", "openai", arguments) is None
    # through the hook, as the kernel asks: the speech estimate answers first
    answer = (
        kernel_for(plugin)
        .registry.load()
        .pm.hook.estimate_cost(hook="synthesize_speech", provider="openai", arguments=arguments)
    )
    assert answer == pytest.approx(estimate)

    run = kernel_for(plugin).run(speech_spec(budget=estimate * 0.9))
    assert run.status == "over_budget"
    assert server.requests == []
    run = kernel_for(plugin).run(speech_spec(budget=estimate * 1.01))
    assert run.status == "succeeded", run.error
    assert 0 < run.nodes["voice"].cost_usd <= estimate


def test_429_then_success_is_retried_by_the_kernel_honouring_retry_after(server):
    server.queue(Step.rate_limited(retry_after_s=0.4))
    run = kernel_for().run(speech_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["voice"].attempts == 2
    first, second = server.requests[:2]
    assert first.status == 429 and second.at - first.at >= 0.4
    assert len(server.answered) == 3
    assert [e.type for e in run.events].count("node.retrying") == 1


def test_a_rejected_key_is_a_configuration_error_never_retried(server):
    server.api_key = "sk-proj-" + secrets.token_urlsafe(36)
    run = kernel_for().run(speech_spec())
    assert run.status == "failed"
    assert run.nodes["voice"].attempts == 1 and len(server.requests) == 1
    assert isinstance(run.error.cause, ConfigurationError)
    assert "OPENAI_API_KEY" in str(run.error)


def test_no_key_fails_before_any_request(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    run = kernel_for().run(speech_spec())
    assert run.status == "failed" and "OPENAI_API_KEY" in str(run.error)
    assert server.requests == []


@pytest.mark.parametrize(
    ("options", "sentences", "message"),
    [
        ({"speed": 9}, SENTENCES, "options.speed"),
        ({}, ["Fine.", "   "], "sentences[1]"),
        ({}, ["x" * 4097], "4096"),
    ],
)
def test_bad_input_is_refused_before_any_request(server, options, sentences, message):
    run = kernel_for().run(speech_spec(sentences=sentences, **options))
    assert run.status == "failed" and message in str(run.error)
    assert isinstance(run.error.cause, InvalidInputError)
    assert server.requests == []


def test_unknown_voice_on_the_official_api_is_refused_before_any_request(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + secrets.token_urlsafe(36))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    run = kernel_for().run(speech_spec(voice="nobody"))
    assert run.status == "failed" and "'nobody' is not a voice of gpt-4o-mini-tts" in str(run.error)
    run = kernel_for().run(speech_spec(voice="marin", model="tts-1"))  # a newer voice only
    assert run.status == "failed" and "'marin' is not a voice of tts-1" in str(run.error)


def test_answers_only_when_pinned_and_refuses_languages_it_does_not_speak(server, tmp_path):
    from reelgraph.run.context import NodeContext

    plugin = OpenAIPlugin()

    def ctx(provider):
        return NodeContext(
            run_id="r", node_id="n", hook="synthesize_speech", provider=provider, run_dir=tmp_path
        )

    args = {"sentences": SENTENCES, "voice": None, "rate_wpm": None, "options": {}, "speech": []}
    assert (
        plugin.synthesize_speech(**args, ctx=ctx(None), language=None) is None
    )  # offline engines answer
    with pytest.raises(InvalidInputError, match="do not speak 'yo'"):
        plugin.synthesize_speech(**args, ctx=ctx("openai"), language="yo")
    assert server.requests == []
    narration = plugin.synthesize_speech(**args, ctx=ctx("openai"), language="fr-CA")
    assert narration is not None and len(server.requests) == 3


def test_prepared_plain_speech_is_sent_and_ssml_is_not(server):
    spec = speech_spec(sentences=["It costs $5.", "Done."])
    spec["nodes"][0]["with"]["speech"] = ["It costs five dollars.", "<speak>Done.</speak>"]
    run = kernel_for().run(spec)
    assert run.status == "succeeded", run.error
    assert [r.body["input"] for r in server.requests] == ["It costs five dollars.", "Done."]
    assert [s.text for s in run.outputs["narration"].segments] == ["It costs $5.", "Done."]


def test_audio_that_does_not_decode_is_invalid_input(server):
    server.audio_override = b"RIFF not really a wave file"
    run = kernel_for().run(speech_spec())
    assert run.status == "failed" and "not audio PyAV can decode" in str(run.error)
    assert isinstance(run.error.cause, InvalidInputError)
    assert run.nodes["voice"].attempts == 1


def everything_written(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def test_planted_key_appears_nowhere(key, server, reelgraph_home, capsys, caplog):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    caplog.set_level(logging.DEBUG)
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    kernel = Kernel(
        plugins={"openai": OpenAIPlugin()}, entry_points=False, tracer_provider=tracer_provider
    )
    server.queue(Step.rate_limited(0.05))
    good = kernel.run(speech_spec())
    assert good.status == "succeeded", good.error
    server.api_key = "sk-proj-" + secrets.token_urlsafe(36)
    bad = kernel.run(speech_spec(), cache=False)
    assert bad.status == "failed"
    assert any(key in r.headers.get("authorization", "") for r in server.requests)  # it was sent
    texts = [
        str(bad.error),
        repr(bad.error.cause),
        json.dumps([e.to_dict() for run in (good, bad) for e in run.events], default=str),
        json.dumps([n.to_dict() for run in (good, bad) for n in run.nodes.values()], default=str),
        capsys.readouterr().out,
        caplog.text,
        *(span.to_json() for span in spans.get_finished_spans()),
    ]
    assert len(texts) > 6  # the spans are there to search
    for text in texts:
        assert key not in text
    assert key.encode() not in everything_written(reelgraph_home)


def test_the_registered_openai_plugin_speaks_without_loading_the_sdk():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        "info = registry.info('openai')\n"
        "print(info.error, 'synthesize_speech' in info.hooks, 'openai' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "None True False"


def test_a_retry_after_a_429_mid_narration_pays_each_sentence_once(server):
    server.queue(Step(), Step.rate_limited(retry_after_s=0.05))  # the second sentence
    run = kernel_for().run(speech_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["voice"].attempts == 2
    assert [r.body["input"] for r in server.answered] == SENTENCES  # the first, once
    price = load_prices("openai")["gpt-4o-mini-tts"]
    chars = sum(len(s) for s in SENTENCES)
    tokens = sum(round(r.samples / 24_000 * AUDIO_TOKENS_PER_S) for r in server.answered)
    assert run.nodes["voice"].cost_usd == pytest.approx(
        (chars * price.input + tokens * price.output) / 1_000_000
    )
    first = run.outputs["narration"].segments[0]
    assert first.duration_s == pytest.approx(server.answered[0].samples / 24_000)


def test_an_unpriced_model_has_no_estimate_and_estimating_never_speaks(server):
    plugin = OpenAIPlugin()
    arguments = {"sentences": SENTENCES, "options": {"model": "kokoro-local"}}
    answer = (
        kernel_for(plugin)
        .registry.load()
        .pm.hook.estimate_cost(hook="synthesize_speech", provider="openai", arguments=arguments)
    )
    assert answer is None  # unknown, not free; and no other estimate runs the hook
    assert server.requests == []
