"""Pydantic schemas made strict for OpenAI Structured Outputs (plugins/vendors/openai/_schema.py)."""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

import reelgraph.models as kernel_models
from reelgraph.plugins.vendors.openai._schema import drop_nulls, strict_schema
from tests.fakes.openai_server import STRICT_KEYWORDS, _strict_problem


class Leaf(BaseModel):
    kind: Literal["leaf"] = "leaf"
    size_px: int = Field(ge=1, le=4096)


class Branch(BaseModel):
    kind: Literal["branch"] = "branch"
    children: list[Node] = Field(default_factory=list)


Node = Annotated[Leaf | Branch, Field(discriminator="kind")]
Branch.model_rebuild()


class Tree(BaseModel):
    """Recursion, a discriminated union, a described $ref, constraints strict mode lacks."""

    root: Branch = Field(description="the top of the tree")
    name: str = Field(min_length=1, max_length=40)
    tags: list[str] = Field(default_factory=list, max_length=5)
    colour: str | None = None
    fixed: Literal["yes"] = "yes"
    website: str = Field(default="", json_schema_extra={"format": "uri"})
    meta: dict[str, int] = Field(default_factory=dict)


def keywords(schema) -> set[str]:
    found: set[str] = set()

    def walk(node, under_properties=False):
        if isinstance(node, dict):
            for key, value in node.items():
                if not under_properties:
                    found.add(key)
                walk(value, under_properties=key in ("properties", "$defs"))
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def test_tree_schema_passes_the_strict_rules():
    made = strict_schema(Tree)
    assert made.strict and made.name == "Tree"
    assert _strict_problem(made.schema, ()) == ""
    assert keywords(made.schema) <= STRICT_KEYWORDS
    text = json.dumps(made.schema)
    for dropped in ('"default"', '"minLength"', '"maxLength"', '"oneOf"', '"discriminator"'):
        assert dropped not in text
    assert '"format": "uri"' not in text  # not a format strict mode knows
    assert made.dropped == ("Tree.meta",)  # a mapping with a default: left to its default
    # the described $ref was inlined (strict mode refuses a $ref with siblings)
    assert made.schema["properties"]["root"]["description"] == "the top of the tree"
    assert made.schema["properties"]["root"]["type"] == "object"
    # recursion survives through $defs
    assert "Branch" in made.schema["$defs"] and "Leaf" in made.schema["$defs"]


def test_constraints_strict_mode_supports_are_kept():
    leaf = strict_schema(Tree).schema["$defs"]["Leaf"]
    assert leaf["properties"]["size_px"]["minimum"] == 1
    assert leaf["properties"]["size_px"]["maximum"] == 4096
    assert leaf["properties"]["kind"]["anyOf"][0]["enum"] == ["leaf"]  # const -> enum, nullable


def test_null_for_a_defaulted_field_means_the_default_and_nesting_is_walked():
    answer = {
        "root": {
            "kind": "branch",
            "children": [{"kind": "leaf", "size_px": 3}, {"kind": "branch", "children": None}],
        },
        "name": "oak",
        "tags": None,
        "colour": None,
        "fixed": None,
        "website": None,
    }
    tree = Tree.model_validate(drop_nulls(answer, Tree))
    assert tree.tags == [] and tree.fixed == "yes" and tree.website == ""
    assert tree.colour is None  # a nullable field keeps its null
    assert tree.root.children[1].children == []


def test_required_field_null_still_fails_validation():
    with pytest.raises(ValueError):
        Tree.model_validate(drop_nulls({"root": None, "name": "x"}, Tree))


def test_a_required_mapping_makes_the_schema_non_strict():
    class Scores(BaseModel):
        by_name: dict[str, float]

    made = strict_schema(Scores)
    assert made.strict is False
    assert made.schema["properties"]["by_name"]["additionalProperties"] == {"type": "number"}


def test_every_kernel_model_has_a_schema_the_api_accepts():
    models = [
        value
        for value in vars(kernel_models).values()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__name__ in kernel_models.__all__
    ]
    assert len(models) > 20
    for model in models:
        made = strict_schema(model)
        if made.strict:
            assert _strict_problem(made.schema, ()) == "", model.__name__


def test_not_a_model_is_a_type_error():
    with pytest.raises(TypeError, match="pydantic model class"):
        strict_schema(dict)  # type: ignore[arg-type]
