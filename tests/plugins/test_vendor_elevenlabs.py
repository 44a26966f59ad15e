"""elevenlabs speech: the real SDK against a fake ElevenLabs API on loopback, under the kernel.

The fake speaks with espeak-ng and aligns characters from espeak's word
events, so word timings are checked against what the server really sent.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import wave
from pathlib import Path

import pytest

from reelgraph import Kernel
from reelgraph.errors import ConfigurationError, InvalidInputError, RateLimitedError
from reelgraph.models import Narration
from reelgraph.observe.secrets import redact
from reelgraph.plugins.vendors._pricing import load_prices
from reelgraph.plugins.vendors.elevenlabs import ElevenLabsSpeech
from reelgraph.plugins.vendors.elevenlabs._alignment import word_timings
from reelgraph.plugins.vendors.elevenlabs.plugin import KEY_PATTERNS
from tests.fakes.elevenlabs_server import FakeElevenLabs, Fault

SENTENCES = ["Reelgraph turns documents into video.", "Every node is a span.", "Try it today."]


@pytest.fixture
def key() -> str:
    return "sk_" + secrets.token_hex(24)


@pytest.fixture
def server(key, monkeypatch):
    fake = FakeElevenLabs(key, voices=("JBFqnCBsd6RMkjVDRZzb", "voice-b"))
    monkeypatch.setenv("ELEVENLABS_API_KEY", key)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.base_url)
    yield fake
    fake.close()


def speech_spec(sentences=SENTENCES, budget=None, voice=None, **options) -> dict:
    node = {
        "id": "voice",
        "hook": "synthesize_speech",
        "provider": "elevenlabs",
        "with": {"sentences": sentences, "options": options, "voice": voice},
        "retry": {"max_attempts": 3, "initial_s": 0, "jitter_s": 0, "max_s": 10},
    }
    spec: dict = {"name": "speech-only", "nodes": [node], "outputs": {"narration": "$voice"}}
    if budget is not None:
        spec["budget"] = {"max_cost_usd": budget}
    return spec


def kernel_for(plugin=None) -> Kernel:
    return Kernel(plugins={"elevenlabs": plugin or ElevenLabsSpeech()}, entry_points=False)


# --- audio and timings ----------------------------------------------------------------


def test_segment_per_sentence_exact_durations_and_words_from_the_alignment(server):
    run = kernel_for().run(speech_spec(model="eleven_flash_v2_5", output_format="pcm_22050"))
    assert run.status == "succeeded", run.error
    narration = run.outputs["narration"]
    assert isinstance(narration, Narration)
    assert narration.voice == "elevenlabs:JBFqnCBsd6RMkjVDRZzb"
    assert [c.body["text"] for c in server.calls] == SENTENCES
    assert {c.query["output_format"] for c in server.calls} == {"pcm_22050"}
    assert {c.body["model_id"] for c in server.calls} == {"eleven_flash_v2_5"}
    for segment, call in zip(narration.segments, server.calls, strict=True):
        with wave.open(str(segment.path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
            assert wav.getframerate() == segment.sample_rate_hz == 22_050
            assert wav.getnframes() == call.samples
        assert segment.duration_s == pytest.approx(call.samples / 22_050)
        # each word starts where the alignment put its first character
        alignment = call.alignment
        text = "".join(alignment["characters"])
        expected = [
            (m.group(), alignment["character_start_times_seconds"][m.start()])
            for m in re.finditer(r"\S+", text)
        ]
        assert [(w.text, w.start_s) for w in segment.words] == expected
        assert len(segment.words) == len(call.body["text"].split())
    assert narration.duration_s == pytest.approx(sum(s.duration_s for s in narration.segments))


def test_word_timings_group_characters_and_split_wide_scripts():
    chars = list("Hi  there. 你好")
    starts = [0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.8, 0.9]
    words = word_timings(chars, starts, starts, duration_s=0.85)
    assert [(w.text, w.start_s) for w in words] == [
        ("Hi", 0.0),
        ("there.", 0.3),
        ("你", 0.8),
        ("好", 0.85),  # held at the audio's end
    ]
    with pytest.raises(InvalidInputError, match="differ in length"):
        word_timings(chars, starts[:-1], starts, 1.0)


def test_voice_language_and_settings_are_sent(server):
    spec = speech_spec(
        voice="voice-b", model="eleven_flash_v2_5", voice_settings={"stability": 0.4}, seed=7
    )
    spec["nodes"][0]["with"]["language"] = "fr-CA"
    run = kernel_for().run(spec)
    assert run.status == "succeeded", run.error
    assert run.outputs["narration"].voice == "elevenlabs:voice-b"
    call = server.calls[0]
    assert call.voice_id == "voice-b" and call.body["language_code"] == "fr"
    assert call.body["voice_settings"]["stability"] == 0.4 and call.body["seed"] == 7


def test_multilingual_v2_gets_no_language_code(server):
    spec = speech_spec()
    spec["nodes"][0]["with"]["language"] = "de"
    run = kernel_for().run(spec)
    assert run.status == "succeeded", run.error
    assert all("language_code" not in c.body for c in server.calls)


def test_answers_only_when_pinned_and_refuses_languages_the_model_does_not_speak(server, tmp_path):
    from reelgraph.run.context import NodeContext

    plugin = ElevenLabsSpeech()

    def ctx(provider):
        return NodeContext(
            run_id="r", node_id="n", hook="synthesize_speech", provider=provider, run_dir=tmp_path
        )

    args = {"sentences": SENTENCES, "voice": None, "rate_wpm": None, "options": {}, "speech": []}
    assert plugin.synthesize_speech(**args, ctx=ctx(None), language="en") is None
    with pytest.raises(InvalidInputError, match="eleven_multilingual_v2 does not speak 'vi'"):
        plugin.synthesize_speech(**args, ctx=ctx("elevenlabs"), language="vi")
    assert server.calls == []
    flash = {**args, "options": {"model": "eleven_flash_v2_5"}}
    assert plugin.synthesize_speech(**flash, ctx=ctx("elevenlabs"), language="vi") is not None
    assert len(server.calls) == 3


def test_prepared_plain_speech_is_sent_and_ssml_is_not(server):
    spec = speech_spec(sentences=["It costs $5.", "Done."])
    spec["nodes"][0]["with"]["speech"] = ["It costs five dollars.", "<speak>Done.</speak>"]
    run = kernel_for().run(spec)
    assert run.status == "succeeded", run.error
    assert [c.body["text"] for c in server.calls] == ["It costs five dollars.", "Done."]
    assert [s.text for s in run.outputs["narration"].segments] == ["It costs $5.", "Done."]


# --- money -----------------------------------------------------------------------------


def test_cost_is_characters_at_the_price_and_the_estimate_is_exact(server):
    plugin = ElevenLabsSpeech()
    arguments = {"sentences": SENTENCES, "options": {"model": "eleven_flash_v2_5"}}
    estimate = plugin.estimate_cost("synthesize_speech", "elevenlabs", arguments)
    assert plugin.estimate_cost("synthesize_speech", "openai", arguments) is None
    assert plugin.estimate_cost("render_shot", "elevenlabs", arguments) is None
    run = kernel_for(plugin).run(speech_spec(model="eleven_flash_v2_5"))
    assert run.status == "succeeded", run.error
    price = load_prices("elevenlabs")["eleven_flash_v2_5"]
    expected = sum(len(s) for s in SENTENCES) * price.input / 1_000_000
    assert price.input == 50.0  # $0.05 per 1,000 characters
    assert run.nodes["voice"].cost_usd == pytest.approx(expected) == pytest.approx(estimate)


def test_a_budget_below_the_estimate_spends_nothing(server):
    plugin = ElevenLabsSpeech()
    estimate = plugin.estimate_cost("synthesize_speech", "elevenlabs", {"sentences": SENTENCES})
    run = kernel_for(plugin).run(speech_spec(budget=estimate * 0.99))
    assert run.status == "over_budget"
    assert server.calls == []


# --- errors and retries ----------------------------------------------------------------


def test_429_then_success_is_retried_by_the_kernel_honouring_retry_after(server):
    server.queue(Fault.rate_limited(retry_after_s=1))
    run = kernel_for().run(speech_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["voice"].attempts == 2
    first, second = server.calls[:2]
    assert first.status == 429 and second.at - first.at >= 1.0  # initial_s is 0
    assert len(server.answered) == 3
    assert [e.type for e in run.events].count("node.retrying") == 1


def test_429_is_classified_as_rate_limited_with_retry_after(server, key):
    from elevenlabs.client import ElevenLabs

    server.queue(Fault.rate_limited(retry_after_s=3))
    client = ElevenLabs(api_key=key, base_url=server.base_url)
    with pytest.raises(Exception) as caught:
        client.text_to_speech.convert_with_timestamps(
            "JBFqnCBsd6RMkjVDRZzb", text="x", request_options={"max_retries": 0}
        )
    found = ElevenLabsSpeech().classify_error(caught.value)
    assert isinstance(found, RateLimitedError) and found.retry_after_s == 3
    assert "too_many_concurrent_requests" in str(found)
    assert ElevenLabsSpeech().classify_error(ValueError("x")) is None


def test_a_rejected_key_is_a_configuration_error_never_retried(server):
    server.api_key = "sk_" + secrets.token_hex(24)
    run = kernel_for().run(speech_spec())
    assert run.status == "failed"
    assert run.nodes["voice"].attempts == 1 and len(server.calls) == 1
    assert isinstance(run.error.cause, ConfigurationError)
    assert "ELEVENLABS_API_KEY" in str(run.error) and "invalid_api_key" in str(run.error)


def test_quota_exceeded_is_a_configuration_error_never_retried(server):
    server.queue(Fault.quota_exceeded())
    run = kernel_for().run(speech_spec())
    assert run.status == "failed" and run.nodes["voice"].attempts == 1
    assert isinstance(run.error.cause, ConfigurationError)
    assert "quota_exceeded" in str(run.error) and "no characters left" in str(run.error)


def test_5xx_is_retried(server):
    server.queue(Fault.server_error())
    run = kernel_for().run(speech_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["voice"].attempts == 2


def test_unknown_voice_is_invalid_input(server):
    run = kernel_for().run(speech_spec(voice="nobody"))
    assert run.status == "failed" and run.nodes["voice"].attempts == 1
    assert isinstance(run.error.cause, InvalidInputError)
    assert "voice_not_found" in str(run.error) and "voice id" in str(run.error)


def test_no_key_and_bad_options_fail_before_any_request(server, monkeypatch):
    run = kernel_for().run(speech_spec(output_format="mp3_44100_128"))
    assert run.status == "failed" and "options.output_format" in str(run.error)
    run = kernel_for().run(speech_spec(sentences=["Fine.", " "]))
    assert run.status == "failed" and "sentences[1]" in str(run.error)
    monkeypatch.delenv("ELEVENLABS_API_KEY")
    run = kernel_for().run(speech_spec())
    assert run.status == "failed" and "ELEVENLABS_API_KEY" in str(run.error)
    assert server.calls == []


# --- the key appears nowhere ----------------------------------------------------------


def test_key_pattern_redacts_the_key_shape(key):
    ((_name, pattern),) = KEY_PATTERNS
    assert re.fullmatch(pattern, key)
    assert not re.fullmatch(pattern, "sk-proj-abc")


def everything_written(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


@pytest.mark.parametrize("how", ["environment", "secret_input"])
def test_planted_key_appears_nowhere(how, key, server, reelgraph_home, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    spec = speech_spec()
    inputs: dict = {}
    if how == "secret_input":
        monkeypatch.delenv("ELEVENLABS_API_KEY")
        spec["inputs"] = {"voice_key": {"type": "string", "secret": True}}
        spec["nodes"][0]["with"]["options"]["api_key"] = "$inputs.voice_key"
        inputs = {"voice_key": key}
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    kernel = Kernel(
        plugins={"elevenlabs": ElevenLabsSpeech()},
        entry_points=False,
        tracer_provider=tracer_provider,
    )
    server.queue(Fault.rate_limited(retry_after_s=0))
    good = kernel.run(spec, inputs=inputs)
    assert good.status == "succeeded", good.error
    server.api_key = "sk_" + secrets.token_hex(24)
    bad = kernel.run(spec, inputs=inputs, cache=False)
    assert bad.status == "failed"
    assert any(c.headers.get("xi-api-key") == key for c in server.calls)  # it was sent
    texts = [
        str(bad.error),
        repr(bad.error.cause),
        repr(bad.error.cause.__cause__),
        json.dumps([e.to_dict() for run in (good, bad) for e in run.events], default=str),
        json.dumps([n.to_dict() for run in (good, bad) for n in run.nodes.values()], default=str),
        capsys.readouterr().out,
        caplog.text,
        *(span.to_json() for span in spans.get_finished_spans()),
    ]
    assert len(texts) > 7  # the spans are there to search
    for text in texts:
        assert key not in text
    assert key.encode() not in everything_written(reelgraph_home)
    assert key not in redact(f"ELEVENLABS_API_KEY={key}")


# --- installing and loading --------------------------------------------------------


def _python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_loading_the_plugin_does_not_import_the_sdk():
    out = _python(
        "import sys\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        "info = registry.info('elevenlabs')\n"
        "print(info.error, sorted(info.hooks), 'elevenlabs' in sys.modules)\n"
    )
    assert out.startswith("None") and out.endswith("False"), out
    for hook in ("synthesize_speech", "classify_error", "estimate_cost", "secret_patterns"):
        assert hook in out


def test_without_the_sdk_the_plugin_fails_soft_with_the_install_line():
    out = _python(
        "import sys\n"
        "sys.modules['elevenlabs'] = None  # as if not installed\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        "print(registry.info('elevenlabs').error)\n"
        "print(registry.info('markdown').error)\n"
    )
    error, other = out.splitlines()
    assert "pip install 'reelgraph[elevenlabs]'" in error
    assert other == "None"


def test_environment_variables_name_what_the_provider_reads():
    names = [name for name, _ in ElevenLabsSpeech().environment_variables()]
    assert names[:2] == ["ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL"]


def test_a_retry_after_a_429_mid_narration_pays_each_sentence_once(server):
    server.queue(None, Fault.rate_limited(retry_after_s=0))  # the second sentence
    run = kernel_for().run(speech_spec())
    assert run.status == "succeeded", run.error
    assert run.nodes["voice"].attempts == 2
    assert [c.body["text"] for c in server.answered] == SENTENCES  # the first, once
    price = load_prices("elevenlabs")["eleven_multilingual_v2"]
    assert run.nodes["voice"].cost_usd == pytest.approx(
        sum(len(s) for s in SENTENCES) * price.input / 1_000_000
    )
    first = run.outputs["narration"].segments[0]
    assert first.words and first.words[-1].text == "video."  # reused with its timings
