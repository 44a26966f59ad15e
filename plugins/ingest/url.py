"""The ``url`` ingest plugin: an ``https://`` document -> :class:`~reelgraph.models.Document`.

Takes a ``source`` that is an ``http(s)://`` URL given as text (``-i
document=https://...``), downloads it with the SSRF-safe
:func:`reelgraph.plugins._media.fetch.fetch` (public addresses only, 20 MiB
cap, redirects re-checked), writes the body into the run directory and hands
it to the plugin of its format:

- the format is ``-i format=NAME`` when given; else the response's media
  type: ``text/html`` and ``application/xhtml+xml`` -> html,
  ``text/markdown`` -> markdown, ``text/x-rst`` -> rst, ``application/pdf`` ->
  pdf, the Word ``.docx`` type -> docx; ``text/plain`` and
  ``application/octet-stream`` (what raw file hosts send) -> the URL path's
  suffix or the content's magic bytes, as for a local file;
- a text body is re-encoded to UTF-8 from the ``charset`` the server declared
  (when it decodes with it), so the declared encoding wins over guessing.

``Document.source`` is the final URL (after redirects). Any other media type
is refused before the body is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import Document
from reelgraph.plugins._media.fetch import fetch
from reelgraph.plugins._text import format_name, is_url, sniff_format

if TYPE_CHECKING:
    from reelgraph.run.context import NodeContext

__all__ = ["MEDIA_TYPES", "ingest_document"]

# IANA media types -> ingest format (None: decide from the suffix or content)
MEDIA_TYPES: dict[str, str | None] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/x-rst": "rst",
    "text/prs.fallenstein.rst": "rst",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": None,
    "application/octet-stream": None,
}
_SUFFIX = {
    "html": ".html",
    "markdown": ".md",
    "rst": ".rst",
    "pdf": ".pdf",
    "docx": ".docx",
    "text": ".txt",
}
_TEXT_FORMATS = {"html", "markdown", "rst", "text"}


@hookimpl
def ingest_document(source: Path, format: str | None, ctx: NodeContext) -> Document | None:
    """Fetch and parse a document given as an ``https://`` URL.

    Returns ``None`` when ``source`` is not a URL.

    Raises:
        InvalidInputError: the URL is refused or fails (see
            :func:`~reelgraph.plugins._media.fetch.fetch`), or the body is not
            a document the format's plugin can read.
    """
    if not is_url(source):
        return None
    url = str(source).strip()
    wanted = format_name(format) if format is not None else None
    fetched = fetch(url, accept=None if wanted else MEDIA_TYPES)
    body = fetched.data
    path_suffix = PurePosixPath(urlsplit(fetched.url).path).suffix.lower()
    folder = Path(ctx.run_dir) / "fetched"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(body).hexdigest()[:16]
    fmt = wanted or MEDIA_TYPES.get(fetched.content_type)
    if fmt is None:  # text/plain or octet-stream: the suffix, then the bytes, decide
        probe = folder / f"{digest}{path_suffix}"
        probe.write_bytes(body)
        fmt = sniff_format(probe)
        if fetched.content_type == "text/plain" and fmt in ("pdf", "docx"):
            fmt = "text"  # the server said text; a binary body fails as text
    if fmt in _TEXT_FORMATS and fetched.charset:
        # a wrong or unknown label: the reader detects the encoding instead
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            body = body.decode(fetched.charset).encode("utf-8")
    # named after the URL's file (the fallback title), in a folder of its digest
    stem = re.sub(r"[^\w.-]+", "_", PurePosixPath(urlsplit(fetched.url).path).stem).strip("._")
    path = folder / digest / f"{stem or urlsplit(fetched.url).hostname or 'document'}{_SUFFIX[fmt]}"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(body)
    ctx.log.info(
        "fetched document",
        url=fetched.url,
        content_type=fetched.content_type,
        bytes=len(fetched.data),
        format=fmt,
    )
    try:
        document = _parser(fmt)(path, fmt, ctx)
    except InvalidInputError as err:
        raise InvalidInputError(f"{fetched.url} (read as {fmt}): {err}") from None
    if document is None:  # pragma: no cover - every format above has a plugin
        raise InvalidInputError(f"cannot read {url}: no plugin reads {fmt}")
    return document.model_copy(update={"source": fetched.url})


def _parser(fmt: str):  # noqa: ANN202 - the plugins' ingest_document
    from reelgraph.plugins.ingest import docx, html, markdown, pdf, rst, text

    modules = {
        "html": html,
        "markdown": markdown,
        "rst": rst,
        "pdf": pdf,
        "docx": docx,
        "text": text,
    }
    return modules[fmt].ingest_document
