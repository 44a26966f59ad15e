"""`reelgraph schema`: the JSON Schema of specs, shipped as specs/spec.schema.json."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from reelgraph import SpecError, load_spec
from reelgraph.spec.model import shipped_specs

CLI = [sys.executable, "-m", "reelgraph.cli"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def shipped_schema_text() -> str:
    return (resources.files("reelgraph.specs") / "spec.schema.json").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(shipped_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)  # the schema itself is valid
    return jsonschema.Draft202012Validator(schema)


def shipped_spec() -> dict:
    return yaml.safe_load(shipped_specs()["document-to-video"].read_text(encoding="utf-8"))


def test_shipped_schema_is_what_the_command_generates(tmp_path: Path) -> None:
    printed = cli("schema")
    assert printed.returncode == 0, printed.stderr
    target = tmp_path / "spec.schema.json"
    target.write_text("stale", encoding="utf-8")  # --output replaces a file
    written = cli("schema", "--output", str(target))
    assert written.returncode == 0, written.stderr
    fresh = target.read_text(encoding="utf-8")
    # regenerate with: reelgraph schema --output specs/spec.schema.json
    assert fresh == shipped_schema_text()
    assert printed.stdout == fresh
    assert [p.name for p in tmp_path.iterdir()] == ["spec.schema.json"]  # no temp file left


def test_schema_describes_the_spec_without_its_load_path() -> None:
    schema = json.loads(shipped_schema_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "reelgraph spec" and "$id" not in schema
    assert "path" not in schema["properties"]
    assert set(schema["required"]) == {"name", "nodes"}
    node = schema["$defs"]["NodeSpec"]["properties"]
    assert "with" in node and "with_" not in node
    bare = [
        f"{where}.{name}"
        for where, model in [("Spec", schema), *schema["$defs"].items()]
        for name, field in model.get("properties", {}).items()
        if not field.get("description")
    ]
    assert bare == []


def test_shipped_spec_validates_against_the_schema(validator) -> None:
    errors = list(validator.iter_errors(shipped_spec()))
    assert errors == []


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["nodes"][0].update(wiht={}), ["nodes", 0]),
        (lambda d: d["inputs"]["voice"].update(type="text"), ["inputs", "voice", "type"]),
        (lambda d: d["nodes"][1].pop("hook"), ["nodes", 1]),
        (lambda d: d["nodes"][2].update(id="has space"), ["nodes", 2, "id"]),
        (lambda d: d["nodes"][3].update(retry={"max_attempts": 0}), ["nodes", 3, "retry"]),
        (lambda d: d.update(concurrency={"providers": {"slides": 0}}), ["concurrency"]),
        (lambda d: d.update(nodes=[]), ["nodes"]),
    ],
)
def test_schema_and_loader_reject_the_same_mistakes(validator, mutate, where) -> None:
    data = shipped_spec()
    mutate(data)
    errors = list(validator.iter_errors(data))
    assert errors, "the schema accepted a spec the loader rejects"
    assert any(list(e.absolute_path)[: len(where)] == where for e in errors), [
        (list(e.absolute_path), e.message) for e in errors
    ]
    with pytest.raises(SpecError):
        load_spec(data)


def test_policies_validate_in_both_shapes(validator) -> None:
    data = shipped_spec()
    slides = data["nodes"][3]
    slides.update(
        retry={"max_attempts": 4, "initial_s": 0.5, "deadline_s": 60},
        timeout_s=30,
        concurrency=2,
        on_error={"provider": "other"},  # one fallback, not a list: the loader accepts it too
    )
    data["defaults"] = {"retry": {"max_attempts": 2}, "timeout_s": 120}
    data["concurrency"] = {"max": 8, "providers": {"slides": 2}}
    data["budget"] = {"max_cost_usd": 1.5, "max_duration_s": 600}
    assert list(validator.iter_errors(data)) == []
    assert load_spec(copy.deepcopy(data)).nodes[3].on_error[0].provider == "other"
    slides["on_error"] = [{"provider": "other"}, {"node": "video"}]
    assert list(validator.iter_errors(data)) == []


def test_schema_help_has_an_example() -> None:
    result = cli("schema", "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout and "reelgraph schema --output" in result.stdout
    assert "yaml-language-server: $schema=" in result.stdout
