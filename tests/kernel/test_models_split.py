"""The models live in one module per family (kernel/_models_*.py) behind
``reelgraph.models``: every public name imports from there, and stored values and
cache keys name them ``reelgraph.models:Name`` as before the split."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from reelgraph import models
from reelgraph.models import FigureSource, Link, Standard
from reelgraph.store.artifacts import ArtifactStore
from reelgraph.store.serialize import digest_value, dump_value, load_value

#: one model of each family module
SAMPLES = [
    Link(text="the spec", url="https://example.org/spec"),
    FigureSource(url="https://example.org/prices", date="2026-12-01", basis="vendor"),
    Standard(
        id="MS-LS1-6", statement="Construct an explanation.", framework="NGSS", subject="science"
    ),
]


def test_every_public_name_is_exported() -> None:
    assert all(hasattr(models, name) for name in models.__all__)
    assert {type(s).__module__ for s in SAMPLES} == {
        "reelgraph._models_media",
        "reelgraph._models_production",
        "reelgraph._models_text",
    }


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_stored_names_and_digests_are_those_of_reelgraph_models(value, tmp_path) -> None:
    name = f"reelgraph.models:{type(value).__name__}"
    artifacts = ArtifactStore(tmp_path / "artifacts")
    stored = dump_value(value, artifacts)
    assert stored["$model"] == name
    assert load_value(json.loads(json.dumps(stored)), artifacts) == value
    canonical = {"$model": name, "data": value.model_dump(mode="python", by_alias=True)}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert digest_value(value) == hashlib.sha256(text.encode()).hexdigest()


def test_a_family_module_imported_first_works() -> None:
    """As an unpickling Dask worker does: the defining module before reelgraph.models."""
    code = (
        "import pickle, reelgraph._models_production as p, reelgraph._models_text as t\n"
        "from reelgraph.models import ToolCatalog, LessonPlan\n"
        "assert p.ToolCatalog is ToolCatalog and t.LessonPlan is LessonPlan\n"
        "f = p.FigureSource(url='https://e.org', date='2026-12-01', basis='vendor')\n"
        "assert pickle.loads(pickle.dumps(f)) == f\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
