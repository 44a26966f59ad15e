"""py3langid's model kept decompressed in the user's cache folder: same answers, safe fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from reelgraph.plugins import _language

SAMPLES = [
    "The kernel schedules every node of the graph as soon as its inputs are ready.",
    "Le noyau planifie chaque nœud du graphe dès que ses entrées sont prêtes.",
    "Der Kern plant jeden Knoten des Graphen, sobald seine Eingaben bereit sind.",
    "Ядро планирует каждый узел графа, как только его входные данные готовы.",
    "カーネルは入力が揃うとすぐにグラフの各ノードを実行します。",
    "pip install reelgraph",
]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _language._identifier.cache_clear()
    yield tmp_path / "cache"
    _language._identifier.cache_clear()


@pytest.fixture(scope="module")
def shipped() -> LanguageIdentifier:
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def test_the_decompressed_copy_answers_as_the_shipped_model(cache_home, shipped):
    cached = _language._identifier()
    (copy,) = (cache_home / "reelgraph").glob("py3langid-*.npz")
    assert copy.stat().st_size > 10 * (MODEL_DIR / MODEL_FILE).stat().st_size  # decompressed
    for text in SAMPLES:
        assert cached.classify(text) == shipped.classify(text)
        assert cached.rank(text)[:5] == shipped.rank(text)[:5]
    # the next process loads the copy instead of decompressing again
    _language._identifier.cache_clear()
    before = copy.stat().st_mtime_ns
    assert _language._identifier().classify(SAMPLES[1]) == shipped.classify(SAMPLES[1])
    assert copy.stat().st_mtime_ns == before
    assert not list((cache_home / "reelgraph").glob("*.tmp"))  # no temporary file left


def test_an_unwritable_cache_folder_falls_back_to_the_shipped_model(tmp_path, monkeypatch, shipped):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    _language._identifier.cache_clear()
    try:
        assert _language._cached_model(MODEL_DIR / MODEL_FILE) is None
        assert _language._identifier().classify(SAMPLES[2]) == shipped.classify(SAMPLES[2])
    finally:
        _language._identifier.cache_clear()


def test_a_damaged_copy_falls_back_to_the_shipped_model(cache_home, shipped):
    copy = _language._cached_model(MODEL_DIR / MODEL_FILE)
    assert copy is not None
    copy.write_bytes(b"PK\x03\x04 truncated")
    _language._identifier.cache_clear()
    assert _language._identifier().classify(SAMPLES[3]) == shipped.classify(SAMPLES[3])
    assert not copy.exists()  # dropped: the next run decompresses it again
