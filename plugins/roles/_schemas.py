"""The JSON Schemas of a brief and of a script's beats, shipped beside the spec schema.

``specs/brief.schema.json`` describes a brief file (YAML, JSON or Markdown
front matter); ``specs/script.schema.json`` describes a script whose scenes
are beats in the 8-part structure (``part`` is one of
:data:`~reelgraph.models.BEAT_PARTS`, in that order). Both are generated
from the pydantic models; regenerate them with::

    python -m reelgraph.plugins.roles._schemas specs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reelgraph.models import BEAT_PARTS, Brief, Script

__all__ = ["SCHEMAS", "schema_text", "write_schemas"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _brief() -> dict[str, Any]:
    return {
        "$schema": _DRAFT,
        "title": "reelgraph brief",
        "description": (
            "A video brief (video requirements document): what the video must achieve. "
            "Write it as YAML, JSON, or the YAML front matter of a Markdown file whose body is "
            "the source document. Load one with the load_brief hook."
        ),
        **Brief.model_json_schema(),
    }


def _script() -> dict[str, Any]:
    schema = Script.model_json_schema()
    return {
        "$schema": _DRAFT,
        "title": "reelgraph script (beats in the 8-part structure)",
        "description": (
            "A script written from a brief: one scene per beat, beat_id b01..., part in the "
            f"8-part structure in this order: {', '.join(BEAT_PARTS)}; start_s and duration_s "
            "in seconds summing to the target within +-5 s; the first scene a title scene, the "
            "last a closing scene."
        ),
        **schema,
    }


#: file name -> the function that builds its schema
SCHEMAS = {"brief.schema.json": _brief, "script.schema.json": _script}


def schema_text(name: str) -> str:
    """The JSON text of the schema shipped as ``name`` (2-space indent, keys in model order)."""
    return json.dumps(SCHEMAS[name](), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; returns the paths written."""
    written = []
    for name in SCHEMAS:
        path = folder / name
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "specs")):
        print(path)
