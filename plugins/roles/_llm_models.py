"""What a language model is asked to answer, per role: only what needs judgement.

Ids, start times, scene kinds, the title and the target duration are not
asked for: the roles set them from their inputs (:mod:`._llm_checks`), so
they are right by construction. No numeric bounds in the schemas (strict
structured output supports few); the checks enforce them, in words a model
can act on in its repair call.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from reelgraph.models import BeatPart, CriterionScore, Question, Revision

__all__ = [
    "Beat",
    "Beats",
    "Plan",
    "PlannedPart",
    "PlannedShot",
    "SceneSpeech",
    "Shots",
    "Speech",
    "Verdict",
]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannedPart(_Answer):
    """One part of the director's structure."""

    part: BeatPart
    purpose: str
    duration_s: float
    key_messages: list[str]


class Plan(_Answer):
    """The director's answer: audience, structure, placed messages, questions."""

    audience_analysis: str
    parts: list[PlannedPart]
    key_messages: list[str]
    questions: list[Question]
    assumptions: list[str]


class Beat(_Answer):
    """One beat as the scriptwriter writes it (ids and start times are added)."""

    part: BeatPart
    on_screen_text: str
    bullets: list[str]
    narration: list[str]
    duration_s: float
    key_messages: list[str]
    visual_intent: str


class Beats(_Answer):
    """The scriptwriter's (or the optimizer's) answer: beats in order."""

    beats: list[Beat]


class PlannedShot(_Answer):
    """One shot as the visual designer plans it (ids are added)."""

    scene_index: int
    shot_type: str
    framing: str
    camera_move: str
    lighting: str
    subject: str
    continuity: str
    prompt: str
    negative_prompt: str
    storyboard_frame: str
    complexity: Literal["low", "medium", "high"]
    duration_s: float
    mode: Literal["slide", "text_to_video", "image_to_video"]


class Shots(_Answer):
    """The visual designer's answer."""

    shots: list[PlannedShot]


class SceneSpeech(_Answer):
    """What the engine is given for each narration sentence of one scene."""

    sentences: list[str]


class Speech(_Answer):
    """The narrator's answer: one entry per scene, one string per sentence."""

    scenes: list[SceneSpeech]


class Verdict(_Answer):
    """The reviewer's answer: scores with reasons, and revisions."""

    scores: list[CriterionScore]
    revisions: list[Revision]
