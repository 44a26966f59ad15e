"""Property-based tests: whatever a spec contains, validation either accepts it or
raises SpecError, and every problem says where it is.

Specs are generated from scratch (random keys, wrong types, random references,
unknown hooks and providers, cycles) and by mutating the shipped
document-to-video spec (delete, rename or retype a field, swap references, add
junk keys, junk policies). Runs are derandomized so CI is reproducible.
"""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelgraph import Kernel, SpecError, load_spec
from reelgraph.spec.model import shipped_specs

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SHIPPED_PATH = shipped_specs()["document-to-video"]
SHIPPED_TEXT = SHIPPED_PATH.read_text(encoding="utf-8")
SHIPPED: dict = yaml.safe_load(SHIPPED_TEXT)
NODE_IDS = [node["id"] for node in SHIPPED["nodes"]]
HOOKS = ["ingest_document", "write_script", "render_shot", "synthesize_speech",
         "assemble_video", "check_quality", "estimate_cost", "no_such_hook", "_private"]  # fmt: skip
PROVIDERS = ["extractive", "slides", "espeak", "ffmpeg", "markdown", "duration", "nope", ""]
PARAMS = ["source", "document", "script", "scene", "sentences", "visuals", "narrations",
          "aspect", "voice", "gates", "targets", "options", "format", "bogus"]  # fmt: skip
NODE_KEYS = ["id", "hook", "provider", "with", "map", "needs", "cache", "review", "when",
             "retry", "timeout_s", "on_error", "concurrency", "description", "junk"]  # fmt: skip
SPEC_KEYS = ["name", "version", "description", "inputs", "nodes", "outputs", "defaults",
             "concurrency", "budget", "path", "junk"]  # fmt: skip


@functools.cache
def kernel() -> Kernel:
    """The installed plugins (entry points), no run store: only planning happens here."""
    return Kernel(entry_points=True, persist=False)


# -- strategies ----------------------------------------------------------------

names = st.sampled_from([*NODE_IDS, "inputs", "item", "x", "a-b", "_z"]) | st.text(max_size=6)
ref_paths = st.lists(
    st.sampled_from(
        [
            "scenes",
            "0",
            "-1",
            "--1",
            "1",
            "99",
            "title",
            "narration",
            "path",
            "titel",
            "sections",
            "model_fields",
            "_private",
            "blocking",
        ]
    ),  # fmt: skip
    max_size=4,
)
refs = st.builds(
    lambda root, path: "$" + ".".join([root, *path]),
    st.sampled_from([*NODE_IDS, "inputs", "item", "nope"]),
    ref_paths,
) | st.sampled_from(["$", "$$literal", "$ bad", "$inputs", "$inputs.document.x", "$1x"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | refs
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
conditions = st.sampled_from(
    [
        "inputs.aspect == '16:9'",
        "len(script.scenes) > 2",
        "nope.x",
        "script.",
        "(((",
        "",
        "__import__('os')",
        "1 if 2 else",
        "inputs.voice and slides",
        "video == video",
        "lambda: 1",
        "[x for x in range(10**9)]",
        "'a' * 10**9",
        "script.title.__class__",
    ]  # fmt: skip
) | st.text(max_size=12)


def mostly(good: st.SearchStrategy) -> st.SearchStrategy:
    """``good`` nine times in ten, else junk: most specs get past the schema."""
    return st.sampled_from(range(10)).flatmap(lambda n: junk if n == 9 else good)


node_ids = st.sampled_from(NODE_IDS)
policies = {
    "when": mostly(conditions),
    "retry": mostly(
        st.fixed_dictionaries(
            {},
            optional={
                "max_attempts": st.integers(1, 5),
                "initial_s": st.floats(0, 2),
                "deadline_s": st.floats(0.1, 10),
            },
        )
    ),
    "on_error": mostly(
        st.lists(
            st.fixed_dictionaries({"provider": st.sampled_from(PROVIDERS)})
            | st.fixed_dictionaries({"node": node_ids | names}),
            max_size=3,
        )
        | st.fixed_dictionaries({}, optional={"provider": names, "node": node_ids})
    ),
    "timeout_s": mostly(st.floats(0.01, 100)),
    "concurrency": mostly(st.integers(1, 4)),
    "needs": mostly(st.lists(node_ids | names, max_size=3)),
    "review": mostly(
        st.fixed_dictionaries(
            {"gate": node_ids}, optional={"max_revisions": st.integers(0, 3), "feedback": names}
        )
    ),
    "map": mostly(refs),
    "cache": mostly(st.booleans()),
}


@st.composite
def nodes(draw: st.DrawFn, ids: list[str]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": draw(mostly(st.sampled_from(ids))),
        "hook": draw(mostly(st.sampled_from(HOOKS))),
    }
    if draw(st.booleans()):
        node["provider"] = draw(mostly(st.sampled_from(PROVIDERS)))
    arguments = st.dictionaries(st.sampled_from(PARAMS), refs | scalars | junk, max_size=4)
    node["with"] = draw(mostly(arguments))
    for key in draw(st.lists(st.sampled_from(list(policies)), max_size=3, unique=True)):
        node[key] = draw(policies[key])
    if draw(st.sampled_from(range(10))) == 9:
        node[draw(st.sampled_from(NODE_KEYS) | st.text(max_size=5))] = draw(junk)
    if draw(st.sampled_from(range(10))) == 9:
        del node[draw(st.sampled_from(list(node)))]
    return node


@st.composite
def random_specs(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(node_ids, min_size=1, max_size=6))
    spec: dict[str, Any] = {
        "name": draw(mostly(st.text(max_size=8))),
        "nodes": draw(mostly(st.lists(nodes(ids), min_size=1, max_size=6))),
    }
    if draw(st.booleans()):
        declaration = st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["string", "file", "list", "integer", "object", "blob"]),
                "default": scalars,
                "secret": st.booleans(),
            },
        )
        inputs = st.dictionaries(st.sampled_from(["document", "aspect", "voice", "n"]), declaration)
        spec["inputs"] = draw(mostly(inputs))
    if draw(st.sampled_from(range(5))) == 4:
        spec[draw(st.sampled_from(SPEC_KEYS))] = draw(junk)
    if draw(st.booleans()):
        spec["outputs"] = draw(mostly(st.dictionaries(st.text(max_size=5), refs, max_size=3)))
    return spec


def _containers(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every dict and list inside ``value``."""
    found = []
    if isinstance(value, dict | list):
        found.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, inner in items:
            found.extend(_containers(inner, (*path, key)))
    return found


def _at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def mutated_specs(draw: st.DrawFn) -> dict[str, Any]:
    """The shipped spec after one to four random edits."""
    spec = copy.deepcopy(SHIPPED)
    for _ in range(draw(st.integers(1, 4))):
        places = _containers(spec)
        target = _at(spec, draw(st.sampled_from(places)))
        operation = draw(
            st.sampled_from(["delete", "rename", "retype", "junk_key", "policy", "swap", "cycle"])
        )
        if operation == "policy" and isinstance(spec.get("nodes"), list) and spec["nodes"]:
            node = draw(st.sampled_from(spec["nodes"]))
            if isinstance(node, dict):
                key = draw(st.sampled_from(list(policies)))
                node[key] = draw(policies[key])
        elif operation == "swap":
            found = [p for p in places if isinstance(_at(spec, p), dict)]
            first, second = draw(st.sampled_from(found)), draw(st.sampled_from(found))
            a, b = _at(spec, first), _at(spec, second)
            if a and b:
                ka, kb = draw(st.sampled_from(list(a))), draw(st.sampled_from(list(b)))
                a[ka], b[kb] = b[kb], a[ka]
        elif operation == "cycle" and isinstance(spec.get("nodes"), list):
            dicts = [n for n in spec["nodes"] if isinstance(n, dict)]
            if dicts:
                node = draw(st.sampled_from(dicts))
                if isinstance(node.get("with"), dict):
                    node["with"][draw(st.sampled_from(PARAMS))] = "$" + draw(
                        st.sampled_from(NODE_IDS)
                    )
        elif isinstance(target, dict) and target:
            key = draw(st.sampled_from(list(target)))
            if operation == "delete":
                del target[key]
            elif operation == "rename":
                target[draw(st.text(max_size=6) | st.sampled_from(NODE_KEYS))] = target.pop(key)
            elif operation == "retype":
                target[key] = draw(junk)
            else:
                target[draw(st.text(max_size=6))] = draw(junk)
        elif isinstance(target, list) and target:
            index = draw(st.integers(0, len(target) - 1))
            if operation == "delete":
                del target[index]
            elif operation in ("retype", "rename"):
                target[index] = draw(junk)
            else:
                target.insert(index, copy.deepcopy(target[draw(st.integers(0, len(target) - 1))]))
    return spec


# -- the property ----------------------------------------------------------------


def assert_validates_or_explains(source: Any, *, parsed: bool = True) -> None:
    """``load_spec`` + ``build_plan`` accept ``source`` or raise SpecError with locations.

    Any other exception (KeyError, TypeError, ValidationError...) fails the test.
    """
    try:
        kernel().plan(source)
    except SpecError as err:
        assert err.problems, "a SpecError without problems"
        for problem in err.problems:
            assert problem.file, problem
            assert isinstance(problem.message, str) and problem.message, problem
            assert problem.node is None or isinstance(problem.node, str), problem
            assert problem.field is None or isinstance(problem.field, str), problem
            if parsed:
                assert problem.node or problem.field, f"no location: {problem}"
        str(err)  # the report renders


@settings(SETTINGS, max_examples=80)
@given(random_specs())
def test_random_specs_validate_or_raise_spec_error(spec: dict) -> None:
    assert_validates_or_explains(spec)


@SETTINGS
@given(mutated_specs())
def test_mutated_shipped_spec_validates_or_raises_spec_error(spec: dict) -> None:
    assert_validates_or_explains(spec)


_FOLDER = Path(tempfile.mkdtemp(prefix="reelgraph-props-"))


@settings(SETTINGS, max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(SHIPPED_TEXT)),
            st.integers(0, 12),
            st.text(alphabet=":-[]{}$#&*!|>'\"%@`\t\n ab0", max_size=4),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_edited_yaml_text_validates_or_raises_spec_error(edits: list) -> None:
    text = SHIPPED_TEXT
    for start, length, insert in edits:
        start = min(start, len(text))
        text = text[:start] + insert + text[start + length :]
    path = _FOLDER / "edited.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    # a file that is not a YAML mapping is located by its file (and line), not a field
    assert_validates_or_explains(path, parsed=isinstance(data, dict))


def test_the_shipped_spec_itself_validates() -> None:
    plan = kernel().plan(copy.deepcopy(SHIPPED))
    assert plan.order[0] == "document"
    assert load_spec(SHIPPED_PATH).name == SHIPPED["name"]
