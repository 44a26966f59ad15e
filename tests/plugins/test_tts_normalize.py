"""Text normalisation for speech: table-driven cases, the offset map, real text."""

from __future__ import annotations

from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

import reelgraph.plugins.speech.espeak as espeak
from reelgraph.plugins.speech._normalize import normalize

# (written, language, spoken): what a person says for what a README writes
CASES = [
    ("Version 1.11.3 is out.", "en", "Version one point eleven point three is out."),
    ("Upgrade to v2 or v2.1 now.", "en", "Upgrade to version two or version two point one now."),
    ("It uses 5 MB of memory.", "en", "It uses 5 megabytes of memory."),
    ("It needs 1 GB.", "en", "It needs 1 gigabyte."),
    ("Runs at 30 fps.", "en", "Runs at 30 frames per second."),
    ("Wait 10 ms, then 1 s.", "en", "Wait 10 milliseconds, then 1 second."),
    ("Reads 200 MB/s at 48 kHz.", "en", "Reads 200 megabytes per second at 48 kilohertz."),
    ("It is 2x faster.", "en", "It is 2 times faster."),
    ("Exports 1080p and 720p.", "en", "Exports ten eighty p and seven twenty p."),
    ("It costs $5.", "en", "It costs five dollars."),
    ("Pay $1.50 or €10.", "en", "Pay one dollar and fifty cents or ten euros."),
    ("Raised $3M.", "en", "Raised three million dollars."),
    ("Released 2024-05-01.", "en", "Released May first, twenty twenty-four."),
    ("Founded in 1999.", "en", "Founded in nineteen ninety-nine."),
    ("Use C# or F# on .NET.", "en", "Use C sharp or F sharp on dot net."),
    ("Takes ~5 minutes.", "en", "Takes about 5 minutes."),
    ("Takes ~5 ms.", "en", "Takes about 5 milliseconds."),
    ("Read/write access.", "en", "Read write access."),
    ("Use the CLI, i.e. the CI.", "en", "Use the C L I, that is the C I."),
    ("Python vs. Rust.", "en", "Python versus Rust."),
    ("Two CLIs and SaaS.", "en", "Two C L I's and sass."),
    ("Export to ONNX.", "en", "Export to onyx."),
    # left to espeak, which reads these well (checked with espeak_TextToPhonemes)
    ("It has 12,345 lines at 50%.", "en", "It has 12,345 lines at 50%."),
    ("The 3rd and 21st items.", "en", "The 3rd and 21st items."),
    ("Written in C++ with the API, JSON and SQL.", "en", None),
    ("Tools, e.g. ffmpeg, etc.", "en", None),
    ("Tom & Jerry.", "en", None),
    ("In the 1990s it took 3s.", "en", None),  # a decade; "3s" may be anything
    ("Python 3.11 is fast.", "en", None),  # one dot: a decimal as often as a version
    ('Wait <break time="3s"/> here.', "en", None),
    # other languages: number words from num2words in that language
    ("La version 1.11.3 coûte €10.", "fr", "La version un point onze point trois coûte dix euros."),
    ("Version 2.0.1 kostet €1.", "de", "Version zwei Punkt null Punkt eins kostet ein Euro."),
    ("La versión 1.2.3.", "es", "La versión uno punto dos punto tres."),
    ("C# est 5 MB.", "fr", "C sharp est 5 MB."),  # English units are not French words
    ("版本 1.11.3 需要 5 MB。", "zh", "版本 1.11.3 需要 5 MB。"),  # no num2words for zh
]


@pytest.mark.parametrize(("written", "language", "spoken"), CASES)
def test_spoken_form(written: str, language: str, spoken: str | None) -> None:
    assert normalize(written, language).text == (written if spoken is None else spoken)


@pytest.mark.parametrize(("written", "language", "spoken"), CASES)
def test_offsets_map_back_to_the_written_sentence(
    written: str, language: str, spoken: str | None
) -> None:
    result = normalize(written, language)
    indices = [result.source_index(i) for i in range(len(result.text) + 1)]
    assert indices == sorted(indices)
    assert indices[0] == 0 and indices[-1] == len(written)
    # every untouched character maps onto the same character
    for i, char in enumerate(result.text):
        if not any(start <= i < end for _, _, start, end in result.edits):
            assert written[indices[i]] == char


def test_language_none_is_english() -> None:
    assert normalize("It uses 5 MB.").text == "It uses 5 megabytes."


def _summaries(limit: int) -> list[str]:
    """Summary lines of installed packages' METADATA: real text nobody here wrote."""
    found = []
    for dist in metadata.distributions():
        text = dist.read_text("METADATA")
        if text:
            summary = Parser().parsestr(text, headersonly=True).get("Summary")
            if summary and summary.strip() and summary != "UNKNOWN":
                found.append(summary.strip())
    return sorted(set(found))[:limit]


def test_real_package_summaries_keep_every_word_in_place(tmp_path: Path) -> None:
    """Word timings on normalised speech still name the written words, in order."""
    summaries = _summaries(40)
    assert len(summaries) >= 20
    for i, summary in enumerate(summaries):
        segment = espeak.synthesize_to_wav(summary, tmp_path / f"{i}.wav")
        assert segment.text == summary
        if segment.words:
            assert " ".join(w.text for w in segment.words) == " ".join(summary.split())
