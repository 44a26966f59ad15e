"""Keep secrets out of every text reelgraph writes: logs, spans, events, errors, the store.

A process-wide redactor replaces three kinds of secret with a marker:

- values of environment variables whose names look secret (``*_API_KEY``,
  ``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*_CREDENTIALS``, ``*PASSWORD*``;
  e.g. ``ACME_API_KEY``), when the value has at least 8 characters. The
  environment is re-read lazily: a key set after import counts from the next
  call on;
- values registered with :func:`register_secret` (the kernel registers spec
  inputs declared ``secret: true``);
- key *shapes*, found in any text even when nobody registered the key: the
  token of ``Bearer <token>`` (RFC 6750 section 2.1), and the patterns
  plugins declare through the ``secret_patterns`` hook (a vendor's key
  format), added with :func:`register_pattern` when the plugin registers.
  The kernel itself knows no vendor's key format.

Markers name what was found, so a log stays useful: an environment value
becomes ``[REDACTED:ACME_API_KEY]``, a registered value
``[REDACTED:<name>]`` (or ``[REDACTED]`` without a name), a plugin's key
shape ``[REDACTED:<pattern name>]``, and ``Bearer abc123...`` becomes
``Bearer [REDACTED]``. Redacting twice changes nothing more.

Cheap when there is nothing to redact: a 200-character string with five
registered secrets costs about 2 us per :func:`redact` call (substring tests,
no regex search), plus about 0.5 us per secret-looking environment variable
to notice a changed value. A pattern that starts with a literal (``sk-``) is
searched for only in text holding that literal. Nothing happens at import
time.

Example::

    from reelgraph.observe.secrets import redact, register_secret
    register_secret(token, name="inputs.api_key")
    log.info("calling", detail=redact(response.text))
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

__all__ = [
    "Redactor",
    "compile_key_pattern",
    "literal_prefix",
    "looks_secret",
    "redact",
    "redact_processor",
    "redact_value",
    "register_pattern",
    "register_secret",
    "with_redaction",
]

#: environment values shorter than this are not treated as secrets
MIN_ENV_SECRET_LEN = 8
#: registered values shorter than this are ignored (they would redact ordinary words)
MIN_REGISTERED_LEN = 4

_SECRET_NAME_SUFFIXES = ("_API_KEY", "_KEY", "_TOKEN", "_SECRET", "_CREDENTIALS")

# Characters of a bearer token (RFC 6750 section 2.1, b64token, plus trailing '=').
_TOKEN = r"[A-Za-z0-9\-._~+/]"
# The scheme is case-insensitive (RFC 9110 section 11.1). A token is redacted
# when it has 20+ characters, or 8+ with a digit, so prose ("Bearer token",
# "Bearer authentication") is left alone.
_BEARER_TOKEN = rf"(?P<token>(?={_TOKEN}{{20}}|(?={_TOKEN}{{8}}){_TOKEN}*?\d){_TOKEN}+=*)"
# (cheap substring every match contains, pattern). Each starts with a literal
# so the regex engine can skip ahead to it.
_BEARER_SHAPES = (
    ("earer", rf"(?P<scheme>[Bb]earer)\s+{_BEARER_TOKEN}"),
    ("EARER", rf"(?P<scheme>BEARER)\s+{_BEARER_TOKEN}"),
)

#: a pattern name goes into the marker: ``[REDACTED:<name>]``
_PATTERN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
#: ordinary text no key pattern may match (a pattern that does would redact prose)
_PROSE = "The quick brown fox jumps over the lazy dog 1234 times: sk-learn, task-runner, key_id."
_REGEX_META = frozenset(".^$*+?{}[]|()\\")


def literal_prefix(pattern: str) -> str:
    """The literal text every match of ``pattern`` starts with (``"sk-"`` for
    ``sk-(?:proj-)?[A-Za-z0-9]{20,}``), or ``""`` when there is none to rely on.

    The redactor searches a text with the pattern only when the text holds
    this prefix, which keeps redaction cheap for text without keys.
    """
    if _top_level_alternation(pattern):
        return ""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            following = pattern[index + 1 : index + 2]
            if not following or following.isalnum():  # \d, \w, \b...: not a literal
                break
            out.append(following)
            index += 2
            continue
        if char in _REGEX_META:
            break
        out.append(char)
        index += 1
    if index < len(pattern) and pattern[index] in "*?{":
        out = out[:-1]  # the last literal is optional ("ab?" promises only "a")
    return "".join(out)


def _top_level_alternation(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside groups and classes (``a|b``)."""
    depth, in_class, index = 0, False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def compile_key_pattern(name: str, pattern: str) -> re.Pattern[str]:
    """Check and compile a key pattern a plugin declared (``secret_patterns``).

    Raises:
        ValueError: the name is not 1-40 letters, digits, ``_.-``; the
            pattern does not compile, matches empty text, ordinary prose, or
            the marker it would leave (redacting twice must change nothing).
    """
    if not isinstance(name, str) or not _PATTERN_NAME.fullmatch(name):
        raise ValueError(f"secret pattern name {name!r}: use 1-40 letters, digits, '_', '.', '-'")
    try:
        compiled = re.compile(pattern)
    except (re.error, TypeError) as err:
        raise ValueError(f"secret pattern {name!r} does not compile: {err}") from None
    if compiled.search("") is not None:
        raise ValueError(f"secret pattern {name!r} matches empty text")
    if compiled.search(_PROSE) is not None:
        raise ValueError(f"secret pattern {name!r} matches ordinary prose ({_PROSE!r})")
    if compiled.search(f"[REDACTED:{name}]") is not None:
        raise ValueError(f"secret pattern {name!r} matches its own marker [REDACTED:{name}]")
    return compiled


_PLAIN = (int, float, bool, type(None))


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    upper = name.upper()
    return upper.endswith(_SECRET_NAME_SUFFIXES) or "PASSWORD" in upper


class Redactor:
    """Replaces secret values and key shapes in text; safe to share between threads.

    Args:
        environ: the environment to take secrets from (``os.environ`` by
            default); read again whenever it changes.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._lock = threading.Lock()
        self._registered: dict[str, str] = {}  # value -> marker
        # What the environment looked like when last read: its size and the
        # values of the secret-looking names (a changed value is seen too).
        self._env_len = -1
        self._env_seen: tuple[tuple[str, str], ...] = ()
        self._env_secrets: dict[str, str] = {}
        # What the hot path reads, without the lock: the secret values
        # (longest first), one pattern matching any of them, and the function
        # giving each match its marker. Replaced as a whole, never mutated.
        self._state: tuple[tuple[str, ...], re.Pattern[str] | None, Any] = ((), None, None)
        # Key shapes: (hint every match contains, pattern, marker or None for a
        # bearer token). Replaced as a whole when a plugin adds a pattern.
        self._shapes: tuple[tuple[str, re.Pattern[str], str | None], ...] | None = None
        self._patterns: dict[tuple[str, str], tuple[str, re.Pattern[str], str]] = {}

    def register(self, value: str, name: str | None = None) -> bool:
        """Redact ``value`` from now on; ``name`` goes into the marker.

        Returns ``False`` (and registers nothing) for a value shorter than
        four characters.
        """
        value = str(value)
        if len(value) < MIN_REGISTERED_LEN:
            return False
        marker = f"[REDACTED:{name}]" if name else "[REDACTED]"
        with self._lock:
            if self._registered.get(value) != marker:
                self._registered[value] = marker
                self._rebuild()
        return True

    def add_pattern(self, name: str, pattern: str) -> None:
        """Redact every match of ``pattern`` (a key format) as ``[REDACTED:<name>]`` from now on.

        Adding the same name and pattern again changes nothing.

        Raises:
            ValueError: see :func:`compile_key_pattern`.
        """
        if (name, pattern) in self._patterns:
            return
        compiled = compile_key_pattern(name, pattern)
        with self._lock:
            self._patterns[(name, pattern)] = (
                literal_prefix(pattern),
                compiled,
                f"[REDACTED:{name}]",
            )
            self._shapes = None

    def patterns(self) -> list[tuple[str, str]]:
        """The ``(name, pattern)`` key formats added with :meth:`add_pattern`, in order."""
        return list(self._patterns)

    def _shape_list(self) -> tuple[tuple[str, re.Pattern[str], str | None], ...]:
        shapes = self._shapes
        if shapes is None:
            with self._lock:
                bearer = [(hint, re.compile(p), None) for hint, p in _BEARER_SHAPES]
                # the longest literal first: "sk-ant-" is tried before "sk-"
                vendor = sorted(self._patterns.values(), key=lambda shape: -len(shape[0]))
                self._shapes = shapes = (*vendor, *bearer)
        return shapes

    def secret_values(self) -> tuple[str, ...]:
        """Every literal secret currently redacted (environment and registered)."""
        self._refresh_env()
        return self._state[0]

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its marker (non-strings go through ``str``)."""
        if not isinstance(text, str):
            text = str(text)
        self._refresh_env()
        return self._redact(text)

    def redact_value(self, obj: Any) -> Any:
        """``obj`` with secrets redacted from every string in it.

        Walks dicts (keys and values), lists and tuples; other objects are
        returned as they are. Returns ``obj`` itself when nothing changed, so
        clean data is not copied.
        """
        self._refresh_env()
        return self._walk(obj)

    def _redact(self, text: str) -> str:
        if len(text) < MIN_REGISTERED_LEN:
            return text  # shorter than any secret or key shape
        values, literal, marker = self._state
        for value in values:
            if value in text:
                text = literal.sub(marker, text)  # type: ignore[union-attr]
                break
        for hint, pattern, marker in self._shape_list():
            if hint in text:
                if marker is None:
                    text = pattern.sub(_bearer_marker, text)
                else:
                    text = pattern.sub(marker, text)  # a name holds no backslash: a plain template
        return text

    def _walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self._redact(obj)
        if isinstance(obj, dict):
            out = {}
            changed = False
            for key, value in obj.items():
                new_key = self._redact(key) if isinstance(key, str) else key
                new_value = value if isinstance(value, _PLAIN) else self._walk(value)
                changed = changed or new_key is not key or new_value is not value
                out[new_key] = new_value
            return out if changed else obj
        if isinstance(obj, list | tuple):
            items = [v if isinstance(v, _PLAIN) else self._walk(v) for v in obj]
            if all(a is b for a, b in zip(items, obj, strict=True)):
                return obj
            return items if isinstance(obj, list) else tuple(items)
        return obj

    def _refresh_env(self) -> None:
        environ = self._environ
        if len(environ) == self._env_len:
            try:
                for name, value in self._env_seen:
                    if environ[name] != value:
                        break
                else:
                    return
            except KeyError:
                pass
        with self._lock:
            seen = tuple((n, v) for n, v in environ.items() if looks_secret(n))
            self._env_secrets = {
                v: f"[REDACTED:{n}]" for n, v in seen if v and len(v) >= MIN_ENV_SECRET_LEN
            }
            self._env_seen = seen
            self._env_len = len(environ)
            self._rebuild()

    def _rebuild(self) -> None:
        """Recompile the literal pattern (longest value first); holds the lock."""
        markers = {**self._env_secrets, **self._registered}
        values = tuple(sorted(markers, key=len, reverse=True))
        if not values:
            self._state = ((), None, None)
            return
        pattern = re.compile("|".join(map(re.escape, values)))

        def marker(match: re.Match[str]) -> str:
            return markers[match.group(0)]

        self._state = (values, pattern, marker)


def _bearer_marker(match: re.Match[str]) -> str:
    return f"{match.group('scheme')} [REDACTED]"


_REDACTOR = Redactor()


def register_pattern(name: str, pattern: str) -> None:
    """Redact every match of a key format everywhere in this process from now on.

    The kernel calls it for the ``(name, pattern)`` pairs each plugin's
    ``secret_patterns`` hook returns, when the plugin registers.

    Args:
        name: shown in the marker, e.g. ``"acme"`` gives ``[REDACTED:acme]``.
        pattern: a Python regular expression matching the whole key; start it
            with the key's literal prefix (``acme_``), which makes the search
            cheap for text without one.

    Raises:
        ValueError: see :func:`compile_key_pattern`.
    """
    _REDACTOR.add_pattern(name, pattern)


def register_secret(value: str, name: str | None = None) -> bool:
    """Redact ``value`` everywhere in this process from now on.

    Args:
        value: the secret (an API key, a password); at least 4 characters.
        name: shown in the marker, e.g. ``inputs.api_key`` gives
            ``[REDACTED:inputs.api_key]``.

    Returns:
        whether the value was registered (``False`` when too short).
    """
    return _REDACTOR.register(value, name)


def redact(text: str) -> str:
    """``text`` with secret values and key shapes replaced by ``[REDACTED...]`` markers."""
    return _REDACTOR.redact(text)


def redact_value(obj: Any) -> Any:
    """Redact every string in ``obj`` (dicts, lists, tuples, strings); see :class:`Redactor`."""
    return _REDACTOR.redact_value(obj)


def redact_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor that redacts every value of the event dict.

    Put it just before the renderer (:func:`with_redaction` does). An
    ``exc_info`` still in the event is formatted into an ``exception``
    string first (structlog's ``format_exc_info``) so the traceback is
    redacted too. Objects that are not strings or containers are checked
    through their ``repr``, which is what the renderers print.
    """
    if event_dict.get("exc_info"):
        from structlog.processors import format_exc_info

        event_dict = format_exc_info(logger, method_name, event_dict)
    _REDACTOR._refresh_env()
    for key, value in event_dict.items():
        if isinstance(value, str | dict | list | tuple):
            event_dict[key] = _REDACTOR._walk(value)
        elif not isinstance(value, _PLAIN):
            text = repr(value)
            clean = _REDACTOR._redact(text)
            if clean != text:
                event_dict[key] = clean
    return event_dict


def with_redaction(processors: Sequence[Any]) -> list[Any]:
    """structlog ``processors`` with :func:`redact_processor` just before the last (the renderer).

    For a logger of your own configuration::

        processors = with_redaction(structlog.get_config()["processors"])
        log = structlog.wrap_logger(None, processors=processors)
    """
    chain = list(processors)
    if redact_processor in chain:
        return chain
    return [*chain[:-1], redact_processor, *chain[-1:]]
