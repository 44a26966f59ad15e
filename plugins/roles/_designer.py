"""The offline visual designer: beat parts mapped onto the shipped shot library.

The library (``shot_library.yaml`` beside this module, or ``options.library``)
holds shot types with framing, camera move, lighting, typical use,
complexity, a prompt template and a negative prompt, and says which shot
type each beat part gets per template (a scene without a part, as the
``extractive`` writer makes, uses its kind). One shot per scene; its
``duration_s`` is the beat's, or the scene's estimated spoken length.

Negative prompts add the brief's "no ..." / "avoid ..." / "never ..."
constraints. Reviewer feedback naming a beat and a library shot type
(``"b03: use a close_up"``) changes that beat's shot.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from reelgraph.errors import InvalidInputError
from reelgraph.models import ASPECT_SIZES, Brief, Scene, Script, Shot, ShotList
from reelgraph.plugins._text import normalize_space, shorten
from reelgraph.plugins.roles._writer import beat_index

__all__ = ["LIBRARY_PATH", "design_shots", "load_library"]

#: the shipped shot library
LIBRARY_PATH = Path(__file__).with_name("shot_library.yaml")
_FIELDS = ("framing", "camera_move", "lighting", "typical_use", "prompt", "negative_prompt")
_ASPECT_WORDS = {
    "16:9": "16:9 landscape frame",
    "9:16": "9:16 vertical frame",
    "1:1": "1:1 square frame",
}
#: spoken seconds of a scene without a planned duration: 130 wpm plus a 0.75 s pause
_WPM, _PAUSE_S = 130.0, 0.75


@cache
def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise InvalidInputError(f"shot library {path}: cannot read it: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("shots"), dict):
        raise InvalidInputError(f"shot library {path}: needs a 'shots' mapping of shot types")
    for name, shot in data["shots"].items():
        missing = [f for f in _FIELDS if not isinstance(shot, dict) or not shot.get(f)]
        if missing:
            raise InvalidInputError(f"shot library {path}: shot {name!r} lacks {missing}")
    for table in ("parts", "kinds"):
        for key, value in _flatten(data.get(table) or {}):
            if value not in data["shots"]:
                raise InvalidInputError(
                    f"shot library {path}: {table}.{key} names unknown shot type {value!r}; "
                    f"known: {', '.join(data['shots'])}"
                )
    return data


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for key, value in table.items():
        if isinstance(value, dict):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def load_library(path: str | Path | None = None) -> dict[str, Any]:
    """The shot library at ``path`` (default: the shipped one), checked.

    Raises:
        InvalidInputError: unreadable, or a shot type lacks a field, or a
            mapping names an unknown shot type.
    """
    return _read(Path(path).expanduser().resolve() if path else LIBRARY_PATH)


def _shot_type(scene: Scene, template: str, library: dict[str, Any]) -> str:
    if scene.part is not None:
        chosen = (library.get("parts") or {}).get(template, {}).get(scene.part)
        if chosen:
            return str(chosen)
    return str((library.get("kinds") or {}).get(scene.kind, "medium"))


def _asked(feedback: list[str], library: dict[str, Any]) -> dict[str, str]:
    """Shot types the reviewer asked for, by beat id (``"b03: use a close_up"``)."""
    asked = {}
    names = sorted(library["shots"], key=len, reverse=True)
    for item in feedback or []:
        beat, rest = beat_index(item)
        lowered = rest.lower().replace("-", "_").replace(" ", "_")
        found = next((n for n in names if n in lowered), None)
        if beat and found:
            asked[beat] = found
    return asked


def _negatives(brief: Brief | None) -> list[str]:
    """The brief's prohibitions, as things a generator must avoid."""
    out = []
    for rule in brief.constraints if brief else []:
        found = re.match(r"^\s*(?:no|avoid|never(?: show| use)?|without)\s+(.+)$", rule, re.I)
        if found:
            out.append(normalize_space(found.group(1)).rstrip("."))
    return out


def _seconds(scene: Scene) -> float:
    if scene.duration_s:
        return scene.duration_s
    words = sum(len(s.split()) for s in scene.narration)
    return round(max(1.0, words / _WPM * 60 + _PAUSE_S), 1)


def design_shots(
    script: Script,
    brief: Brief | None,
    aspect: str,
    feedback: list[str],
    options: dict[str, Any],
) -> ShotList:
    """One shot per scene from the library (see the module docstring).

    Raises:
        InvalidInputError: an unknown aspect, a script with no scene, or a bad library.
    """
    if aspect not in ASPECT_SIZES:
        raise InvalidInputError(f"unknown aspect {aspect!r}; use one of {', '.join(ASPECT_SIZES)}")
    if not script.scenes:
        raise InvalidInputError(f"script {script.title!r} has no scene to design shots for")
    unknown = sorted(set(options or {}) - {"library", "model", "temperature"})
    if unknown:
        raise InvalidInputError(f"unknown offline designer option(s) {unknown}; known: library")
    library = load_library((options or {}).get("library"))
    template = brief.template if brief else "presentation"
    style = brief.style if brief else "clean, modern"
    asked = _asked(feedback, library)
    avoid = _negatives(brief)
    shots = []
    for scene in script.scenes:
        kind = asked.get(scene.beat_id or "") or _shot_type(scene, template, library)
        entry = library["shots"][kind]
        subject = shorten(
            normalize_space(scene.key_messages[0] if scene.key_messages else scene.title), 90
        )
        intent = scene.visual_intent or entry["typical_use"]
        on_screen = shorten(normalize_space(scene.title), 60)
        values = {
            "subject": subject,
            "intent": intent,
            "style": style,
            "aspect_words": _ASPECT_WORDS[aspect],
            "on_screen": on_screen,
        }
        negative = ", ".join([normalize_space(entry["negative_prompt"]), *avoid])
        first = not shots
        points = "; ".join(scene.bullets[:3])
        shots.append(
            Shot(
                id=f"s{len(shots) + 1:02d}",
                scene_index=scene.index,
                beat_id=scene.beat_id,
                shot_type=kind,
                framing=entry["framing"],
                camera_move=entry["camera_move"],
                lighting=entry["lighting"],
                subject=subject,
                continuity=(
                    f"sets the look for every shot: {style} palette, type and lighting"
                    if first
                    else f"matches s01: the same {style} palette, type and light direction"
                ),
                prompt=normalize_space(entry["prompt"].format(**values)),
                negative_prompt=negative,
                storyboard_frame=(
                    f"{entry['framing']}; on screen: '{on_screen}'"
                    + (f"; points: {points}" if points else "")
                    + f"; shows {intent}"
                ),
                complexity=entry.get("complexity", "low"),
                duration_s=_seconds(scene),
            )
        )
    return ShotList(title=script.title, aspect=aspect, shots=shots)  # type: ignore[arg-type]
