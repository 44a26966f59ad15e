"""The LLM roles, written once for every language-model vendor.

A vendor plugin subclasses :class:`LLMRoles` and implements one method,
:meth:`LLMRoles.structured`: send a system and a user message, get back an
instance of a pydantic model (structured output), with the vendor's own
repair turn, error classification, usage and cost reporting. Everything else
(the prompts for each role, the role hook implementations, the checks on what
comes back) is here, so ``openai``, ``anthropic`` and a third party's provider
behave the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class StructuredRequest:
    """One structured-output call.

    Attributes:
        role: the production role asking (``director``, ``scriptwriter``,
            ``visual_designer``, ``narrator``, ``reviewer``, ``optimizer``);
            goes on the span as the operation's name.
        system: the system prompt.
        user: the user message (the brief, the script... as text or JSON).
        output: the pydantic model the answer must validate against; its JSON
            Schema is what the vendor is asked to follow.
        model: the vendor's model name; empty for the plugin's default.
        max_tokens: the most output tokens the answer may use.
        temperature: sampling temperature, ``None`` for the vendor's default.
        options: the node's remaining provider options.
    """

    role: str
    system: str
    user: str
    output: type[BaseModel]
    model: str = ""
    max_tokens: int = 4096
    temperature: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


class LLMRoles:
    """Base class of a language-model vendor plugin: the six role hooks on one method.

    Subclasses set ``reelgraph_name`` and implement :meth:`structured`.
    """

    reelgraph_name = "llm"

    def structured(self, request: StructuredRequest, ctx: NodeContext) -> BaseModel:
        """Answer ``request`` with an instance of ``request.output``.

        Raises:
            ConfigurationError: no key, or the vendor rejected it (never retried).
            RateLimitedError, TransientError: 429, 5xx, timeouts (the node's
                retry policy applies).
            InvalidInputError: the answer still does not validate after one
                repair turn, a refusal, a content filter, or a length cut.
        """
        raise NotImplementedError
