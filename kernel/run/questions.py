"""Clarifying questions: what a node asks, what a run keeps, how answers are checked.

A hook that cannot go on without a human answer raises
:class:`~reelgraph.errors.NeedsInput` with its questions. The run stops with
status ``needs_input`` and keeps the questions; ``Kernel.answer(run_id,
{KEY: ANSWER})`` (``reelgraph answer RUN_ID -a KEY=ANSWER``) merges the
answers into the run's ``answers`` input and resumes it, so the node that
asked runs again with them and nothing that finished runs again.

The spec side of the contract: a spec whose nodes may ask declares the input
``answers`` (``type: object``, ``default: {}``) and passes it to them::

    inputs:
      answers: {type: object, default: {}, description: answers to clarifying questions}
    nodes:
      - id: plan
        hook: plan_video
        with: {brief: $brief, answers: $inputs.answers}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reelgraph.errors import InputError, NeedsInput, NodeError, Problem, did_you_mean

__all__ = ["ANSWERS_INPUT", "asking", "merge_answers", "question_list"]

#: the spec input answers are merged into
ANSWERS_INPUT = "answers"
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_TEXT_FIELDS = ("question", "why", "assumption")


def asking(error: BaseException) -> NeedsInput | None:
    """The :class:`NeedsInput` behind ``error`` (a node's :class:`NodeError`), or ``None``."""
    if isinstance(error, NodeError) and isinstance(error.cause, NeedsInput):
        return error.cause
    return None


def question_list(needs: NeedsInput, node_id: str) -> list[dict[str, str]]:
    """The questions of ``needs`` as stored: ``key``, ``question``, ``why``, ``assumption``,
    and the ``node`` that asked. Secrets in the text are redacted.

    Accepts mappings and models with those fields (a
    :class:`reelgraph.models.Question`).

    Raises:
        ValueError: no question, a question without ``key`` or ``question``
            text, a key that is not lower-case letters, digits and ``_``
            starting with a letter, or one key asked twice.
    """
    from reelgraph.observe.secrets import redact

    raw = needs.questions
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError("NeedsInput carried no questions: give at least one")
    out: list[dict[str, str]] = []
    for index, item in enumerate(raw):
        data = item.model_dump() if hasattr(item, "model_dump") else item
        if not isinstance(data, Mapping):
            raise ValueError(
                f"NeedsInput question {index} is a {type(item).__name__}, not a mapping"
            )
        key, text = data.get("key"), data.get("question")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(
                f"NeedsInput question {index}: key {key!r} is not lower-case letters, "
                "digits and '_' starting with a letter"
            )
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"NeedsInput question {key!r} has no question text")
        if any(q["key"] == key for q in out):
            raise ValueError(f"NeedsInput asks {key!r} twice")
        question = {"key": key, "node": node_id}
        for field in _TEXT_FIELDS:
            value = data.get(field)
            question[field] = redact(str(value)) if value is not None else ""
        out.append(question)
    return out


def merge_answers(
    *,
    run_id: str,
    status: str,
    spec: Any,
    questions: list[dict[str, Any]] | None,
    inputs: Mapping[str, Any],
    given: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check answers against the questions a run asked; return its new inputs and answers.

    Args:
        run_id: the run, for messages.
        status: the run's stored status; only ``needs_input`` takes answers.
        spec: the run's :class:`~reelgraph.spec.model.Spec`.
        questions: the questions stored with the run.
        inputs: the run's stored inputs.
        given: the new answers, by question key (text).

    Returns:
        ``(inputs, answers)``: the inputs with ``answers`` holding every
        answer given so far (later answers to a key replace earlier ones),
        and the new answers alone.

    Raises:
        ReelgraphError: the run is not waiting for answers.
        InputError: no answer, an empty one, a key no stored question asked
            (the message names the keys asked), or a spec without an
            ``answers`` object input.
    """
    from reelgraph.errors import ReelgraphError

    if status != "needs_input":
        raise ReelgraphError(
            f"run {run_id} has status {status}, it is not waiting for answers"
            + ("" if status == "succeeded" else f"; continue it with: reelgraph resume {run_id}")
        )
    asked = [q["key"] for q in questions or []]
    where = {q["key"]: q.get("node") for q in questions or []}
    problems = []
    decl = spec.inputs.get(ANSWERS_INPUT)
    if decl is None or decl.type != "object":
        problems.append(
            Problem(
                "this spec cannot take answers: it declares no object input 'answers'",
                spec.source,
                None,
                f"inputs.{ANSWERS_INPUT}",
                "declare `answers: {type: object, default: {}}` and pass "
                "`answers: $inputs.answers` to the node that asks",
            )
        )
    if not given:
        hint = "e.g. -a " + (f"{asked[0]}=..." if asked else "KEY=ANSWER")
        problems.append(Problem("no answer given", spec.source, None, ANSWERS_INPUT, hint))
    clean: dict[str, str] = {}
    for key, value in given.items():
        if key not in where:
            listed = "the questions asked: " + (", ".join(asked) or "none")
            hint = did_you_mean(key, asked, "")
            hint = f"{hint} {listed}" if hint else listed
            problems.append(
                Problem(f"no question asked '{key}'", spec.source, None, f"answers.{key}", hint)
            )
        elif not isinstance(value, str) or not value.strip():
            problems.append(
                Problem(
                    f"the answer to '{key}' is empty"
                    if isinstance(value, str)
                    else f"the answer to '{key}' is a {type(value).__name__}, not text",
                    spec.source,
                    where[key],
                    f"answers.{key}",
                    f"-a {key}=YOUR ANSWER",
                )
            )
        else:
            clean[key] = value.strip()
    if problems:
        raise InputError(problems)
    earlier = inputs.get(ANSWERS_INPUT)
    merged = {**(earlier if isinstance(earlier, Mapping) else {}), **clean}
    return {**inputs, ANSWERS_INPUT: merged}, clean
