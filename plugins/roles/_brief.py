"""Briefs: read from YAML, JSON or Markdown front matter, or derived from a document.

A brief file is one of:

- YAML (``.yaml``/``.yml``) or JSON (``.json``): a mapping of
  :class:`~reelgraph.models.Brief` fields;
- Markdown with YAML front matter (``---`` lines around it, parsed with
  python-frontmatter): the front matter holds the fields, and a body with
  prose is the brief's source document.

Fields a brief leaves out are derived from its source document when one is
parsed (title; goal from its first paragraph; key messages from its
headings); ``overrides`` (the spec's inputs) win over both. Validation errors
name the file and the field, one per line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reelgraph.errors import InvalidInputError
from reelgraph.models import Block, Brief, Document, Section
from reelgraph.plugins._sentences import split_sentences
from reelgraph.plugins._text import is_url, normalize_space, prettify_stem, read_source

__all__ = [
    "BRIEF_SUFFIXES",
    "MAX_DERIVED_MESSAGES",
    "brief_document",
    "derive_from_document",
    "is_brief_file",
    "load_brief",
    "read_brief_file",
]

#: Suffixes of files read as briefs; a Markdown file is a brief when its front matter has a goal.
BRIEF_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".md", ".markdown"})
#: Headings taken as key messages when a brief names none (a 60-90 s video holds 3-5 points).
MAX_DERIVED_MESSAGES = 5
_GENERAL_AUDIENCE = Brief.model_fields["audience"].default


def _front_matter(text: str, source: Path) -> tuple[dict[str, Any], str] | None:
    """``(fields, body)`` of a Markdown file with front matter, else ``None``."""
    import frontmatter

    if not frontmatter.checks(text):
        return None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InvalidInputError(
            f"brief {source}: the front matter is not valid YAML: {problem}"
        ) from err
    return dict(post.metadata), post.content


def read_brief_file(source: Path) -> tuple[dict[str, Any], str]:
    """The fields of the brief file at ``source``, and its Markdown body ("" for YAML/JSON).

    Raises:
        InvalidInputError: unreadable, not YAML/JSON/front matter, or not a mapping.
    """
    text = read_source(source)
    suffix = source.suffix.lower()
    body = ""
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".md", ".markdown"):
            found = _front_matter(text, source)
            if found is None:
                raise InvalidInputError(
                    f"brief {source}: a Markdown brief needs YAML front matter between '---' "
                    "lines (title, goal, ...); to make a video from a plain document pass it "
                    "as -i document=FILE"
                )
            data, body = found
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as err:
        raise InvalidInputError(
            f"brief {source}: not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InvalidInputError(f"brief {source}: not valid YAML{where}: {problem}") from err
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"brief {source}: a brief must be a mapping of fields (title, goal, audience, "
            f"key_messages, duration_s, ...), got {type(data).__name__}"
        )
    return data, body


def is_brief_file(source: Path | str) -> bool:
    """True for a readable YAML/JSON mapping or front-matter Markdown file with a ``goal``."""
    if is_url(source):
        return False
    path = Path(source)
    if path.suffix.lower() not in BRIEF_SUFFIXES or not path.is_file():
        return False
    try:
        data, _ = read_brief_file(path)
    except InvalidInputError:
        return False
    return "goal" in data


def derive_from_document(document: Document) -> dict[str, Any]:
    """Brief fields read from a document: title, goal (first paragraph's first sentence), key messages.

    Key messages are the headings below the title (at most
    :data:`MAX_DERIVED_MESSAGES`, in document order, duplicates dropped).
    """
    fields: dict[str, Any] = {"title": normalize_space(document.title) or "Untitled"}
    language = document.language or "en"
    for section in document.sections:
        paragraph = next((b.text for b in section.blocks if b.kind == "paragraph" and b.text), "")
        if paragraph:
            sentences = split_sentences(normalize_space(paragraph), language)
            if sentences:
                fields["goal"] = sentences[0]
                break
    seen = {fields["title"].casefold()}
    messages: list[str] = []
    for section in document.sections:
        heading = normalize_space(section.heading)
        if section.level >= 1 and heading and heading.casefold() not in seen:
            seen.add(heading.casefold())
            messages.append(heading)
    if messages:
        fields["key_messages"] = messages[:MAX_DERIVED_MESSAGES]
    if document.language:
        fields["language"] = document.language
    return fields


def _validate(fields: dict[str, Any], where: str) -> Brief:
    """A :class:`Brief` from ``fields``; every invalid field named with ``where``."""
    unknown = sorted(set(fields) - set(Brief.model_fields))
    if unknown:
        known = ", ".join(Brief.model_fields)
        raise InvalidInputError(f"brief {where}: unknown field(s) {unknown}; known fields: {known}")
    try:
        return Brief.model_validate(fields)
    except ValidationError as err:
        lines = [
            f"brief {where}: field {'.'.join(str(p) for p in e['loc']) or '?'}: {e['msg']}"
            for e in err.errors()
        ]
        raise InvalidInputError("; ".join(lines)) from None


def load_brief(source: Path | None, document: Document | None, overrides: dict[str, Any]) -> Brief:
    """The brief: file fields, then what the document gives for missing ones, then ``overrides``.

    ``Brief.document`` is the source to ingest: ``overrides["document"]``,
    else the file's ``document`` field (relative to the file), else the brief
    file itself (a brief is its own source material), else the parsed
    document's source. Without a file or a parsed document, a document path in
    ``overrides`` gives the title (from its file name) and a generic goal,
    until the document is parsed and the brief is loaded again with it.

    Raises:
        InvalidInputError: nothing to load from; an unreadable or invalid file.
    """
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "document" in given:
        given["document"] = str(given["document"])
    fields: dict[str, Any] = {}
    where = "(from the inputs)"
    if source is not None:
        source = Path(source)
        where = str(source)
        fields, _body = read_brief_file(source)  # the body is ingested with the file
        named = fields.get("document")
        if isinstance(named, str) and named and not is_url(named):
            fields["document"] = str((source.parent / named).resolve())
        if not fields.get("document"):
            fields["document"] = str(source)
    if document is not None:
        for key, value in derive_from_document(document).items():
            fields.setdefault(key, value)
        if document.source:
            fields.setdefault("document", document.source)
    elif source is None:
        path = given.get("document")
        if not path:
            raise InvalidInputError(
                "no brief and no document: pass a brief file (-i brief=FILE: YAML, JSON or "
                "Markdown with front matter) or a document (-i document=FILE)"
            )
        title = prettify_stem(path)
        fields = {"title": title, "goal": f"Present the main points of {title}."}
    fields.update(given)
    return _validate(fields, where)


def brief_document(source: Path, fields: dict[str, Any], body: str) -> Document:
    """A brief file as a document: its Markdown body, else the brief's own words.

    Used when a brief names no other source: the video then draws on the
    brief itself (title, goal, audience, key messages as sections).
    """
    from reelgraph.plugins.ingest.markdown import parse_markdown

    title = normalize_space(str(fields.get("title") or "")) or prettify_stem(source)
    if body.strip():
        parsed = parse_markdown(body, source)
        return parsed.model_copy(update={"title": title, "source": str(source)})
    lead = [Block(kind="paragraph", text=str(fields.get("goal") or ""))]
    audience = fields.get("audience")
    if audience and audience != _GENERAL_AUDIENCE:
        lead.append(Block(kind="paragraph", text=f"This video is for {audience}."))
    sections = [Section(heading=title, level=1, blocks=[b for b in lead if b.text])]
    for message in fields.get("key_messages") or []:
        sections.append(Section(heading=str(message), level=2))
    language = fields.get("language")
    return Document(
        title=title,
        sections=sections,
        source=str(source),
        format="markdown",
        language=str(language) if language else None,
    )
