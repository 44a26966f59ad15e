"""Format sniffing, text encodings, reStructuredText, PDF and DOCX ingest, on real documents.

Real documents: the long descriptions of installed distributions (jsonschema,
networkx, pluggy, ruff, attrs, httpx: read through importlib.metadata at test time),
an excerpt of the bzip2 manual PDF and CPython's CJK encoding test texts
(``tests/fixtures/docs/formats/SOURCES.md`` gives their licences), and a
manual page set to PDF by groff when groff is installed.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pluggy
import pytest

import reelgraph.plugins.ingest.docx as ingest_docx
import reelgraph.plugins.ingest.html as ingest_html
import reelgraph.plugins.ingest.markdown as ingest_markdown
import reelgraph.plugins.ingest.pdf as ingest_pdf
import reelgraph.plugins.ingest.rst as ingest_rst
import reelgraph.plugins.ingest.text as ingest_text
import reelgraph.plugins.ingest.url as ingest_url
from reelgraph import hookspecs
from reelgraph.errors import InvalidInputError
from reelgraph.models import Document
from reelgraph.plugins._text import decode_text, read_source, sniff_format
from reelgraph.run.context import NodeContext
from tests.package_text import description_of, package_description

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"
FORMATS = DOCS / "formats"
BZIP2_PDF = FORMATS / "bzip2-manual-p1-8.pdf"
# markup a listener must never hear from a reStructuredText document
RST_LEAKS = re.compile(
    r"^\.\. |\.\. [\w-]+::|\|[\w -]+\||:[\w:]+:`|`_|image::|:alt:|:target:|^[=\-~^*#]{4,}$",
    re.MULTILINE,
)


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


@pytest.fixture
def hook(ctx: NodeContext):
    """The ingest hook with every ingest plugin registered, text last (tried first)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module in (
        ingest_markdown,
        ingest_html,
        ingest_rst,
        ingest_pdf,
        ingest_docx,
        ingest_url,
        ingest_text,
    ):
        pm.register(module)

    def ingest(source: Path | str, format: str | None = None) -> Document:
        return pm.hook.ingest_document(source=source, format=format, ctx=ctx)

    return ingest


def _description(name: str) -> str:
    return package_description(name)


def _texts(document: Document) -> list[str]:
    out: list[str] = []
    for section in document.sections:
        out.append(section.heading)
        for block in section.blocks:
            if block.kind != "code":
                out.append(block.text)
                out.extend(block.items)
    return [text for text in out if text]


# -- encodings ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["gb18030", "shift_jis"])
def test_cjk_legacy_encodings_are_read(name: str, tmp_path: Path) -> None:
    expected = (FORMATS / f"{name}-utf8.txt").read_text("utf-8")
    path = tmp_path / f"{name}.txt"
    shutil.copy(FORMATS / f"{name}.txt", path)
    assert read_source(path) == expected


def test_utf16_with_bom_and_cp1252_are_read(tmp_path: Path) -> None:
    passage = ""
    for name, heading in (("ruff", "## Testimonials"), ("attrs", "## Sponsors")):
        text = _description(name)
        start = text.index(heading)
        passage += text[start : text.index("\n## ", start + 5)]
    assert "Sebastián Ramírez" in passage and "’" in passage  # ’ is 0x92 in cp1252 only
    for codec, data in (
        ("utf-16", passage.encode("utf-16")),  # BOM + little-endian
        ("utf-16-be", b"\xfe\xff" + passage.encode("utf-16-be")),
        ("cp1252", passage.encode("cp1252")),
    ):
        path = tmp_path / f"{codec}.md"
        path.write_bytes(data)
        assert read_source(path) == passage, codec


def test_utf16_markdown_file_is_ingested(hook, tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_bytes(_description("httpx").encode("utf-16"))
    doc = hook(path)
    assert doc.format == "markdown"
    assert "Features" in [section.heading for section in doc.sections]


def test_binary_is_refused_with_one_line(tmp_path: Path) -> None:
    png = (DOCS / "pixel.png").read_bytes()
    with pytest.raises(InvalidInputError, match="not UTF-8 text nor any text encoding") as info:
        decode_text(png, "pixel.png")
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidInputError, match="binary data"):
        decode_text(b"\xfe\xff\x00A\x00\x00", "nul.txt")  # UTF-16 that decodes to a NUL


# -- sniffing -----------------------------------------------------------------


def test_formats_are_sniffed_from_content(tmp_path: Path) -> None:
    pdf = tmp_path / "report.bin"
    shutil.copy(BZIP2_PDF, pdf)
    assert sniff_format(pdf) == "pdf"
    lying = tmp_path / "notes.txt"  # magic bytes beat the suffix
    shutil.copy(BZIP2_PDF, lying)
    assert sniff_format(lying) == "pdf"
    page = tmp_path / "index"
    page.write_text("<!DOCTYPE html>\n<html lang='en'><body><p>Hi.</p></body></html>", "utf-8")
    assert sniff_format(page) == "html"
    description = tmp_path / "DESCRIPTION"
    description.write_text(_description("jsonschema"), "utf-8")
    assert sniff_format(description) == "rst"
    plain = tmp_path / "LICENSE"
    plain.write_text("Permission is hereby granted, free of charge.\n", "utf-8")
    assert sniff_format(plain) == "text"
    readme = tmp_path / "README.md"  # raw HTML at the top of a README stays Markdown
    readme.write_text('<p align="center"><img src="logo.png" alt="Logo"></p>\n\n# X\n', "utf-8")
    assert sniff_format(readme) == "markdown"
    assert sniff_format(tmp_path / "missing.pdf") == "pdf"  # the reader reports it


def test_dispatch_by_sniffing_and_override(hook, tmp_path: Path) -> None:
    pdf = tmp_path / "download.bin"
    shutil.copy(BZIP2_PDF, pdf)
    assert hook(pdf).format == "pdf"
    description = tmp_path / "PKG-INFO-description"
    description.write_text(_description("jsonschema"), "utf-8")
    assert hook(description).format == "rst"
    assert hook(description, "text").format == "text"  # -i format=text wins
    with pytest.raises(InvalidInputError, match="unknown document format 'latex'"):
        hook(description, "latex")


# -- reStructuredText ----------------------------------------------------------


@pytest.mark.parametrize("name", ["jsonschema", "networkx", "pluggy"])
def test_rst_descriptions_read_as_rendered(hook, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.rst"
    path.write_text(_description(name), "utf-8")
    doc = hook(path)
    assert doc.format == "rst"
    assert [s for s in doc.sections if s.level >= 1]
    for text in _texts(doc):
        assert not RST_LEAKS.search(text), text


def test_rst_jsonschema_structure(hook, tmp_path: Path) -> None:
    path = tmp_path / "jsonschema.rst"
    path.write_text(_description("jsonschema"), "utf-8")
    doc = hook(path)
    assert doc.title == "jsonschema"
    headings = [(s.heading, s.level) for s in doc.sections]
    assert headings[0] == ("jsonschema", 1)
    assert ("Features", 2) in headings and ("Installation", 2) in headings
    assert ("Extras", 3) in headings
    joined = " ".join(_texts(doc))
    assert "PyPI" not in joined.split("is available on PyPI")[0]  # the badge row vanished
    assert "image" not in joined.lower().split()
    codes = [b for s in doc.sections for b in s.blocks if b.kind == "code"]
    assert any(">>> from jsonschema import validate" in b.text for b in codes)
    assert any(link.url.startswith("https://") for link in doc.links)


def test_rst_roles_directives_and_sloppy_markup(hook, tmp_path: Path, capfd) -> None:
    # Sphinx-only roles and directives docutils does not know, a title
    # underline too short, a substitution badge: nothing printed, nothing leaked.
    path = tmp_path / "api.rst"
    path.write_text(
        "Widgets\n=====\n\n|badge|\n\n.. |badge| image:: https://img.shields.io/x.svg\n\n"
        "Call :func:`~widgets.core.render` on a :class:`Widget`; see "
        ":ref:`the guide <guide>`.\n\n"
        ".. note::\n\n   Widgets are immutable.\n\n"
        ".. code-block:: python\n\n   render(Widget())\n\n"
        ".. toctree::\n   :maxdepth: 2\n\n   api\n\n"
        ":Author: Someone\n:Version: 1.0\n",
        "utf-8",
    )
    doc = hook(path)
    out, err = capfd.readouterr()
    assert "ERROR" not in out + err and "WARNING" not in out + err
    texts = _texts(doc)
    assert "Call render on a Widget; see the guide." in texts
    assert "Note: Widgets are immutable." in texts
    code = [b for s in doc.sections for b in s.blocks if b.kind == "code"]
    assert [(b.text, b.language) for b in code] == [("render(Widget())", "python")]
    for text in texts:
        assert not RST_LEAKS.search(text) and "maxdepth" not in text, text


@pytest.mark.slow
def test_rst_every_installed_description_reads_clean() -> None:
    leaks: list[tuple[str, str]] = []
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        meta = dist.metadata
        name, kind = meta["Name"], (meta.get("Description-Content-Type") or "").lower()
        body = description_of(meta)
        if name in seen or len(body) < 300 or (kind and not kind.startswith("text/x-rst")):
            continue
        seen.add(name)
        doc = ingest_rst.parse_rst(body, name)
        leaks += [(name, t) for t in _texts(doc) if RST_LEAKS.search(t)]
    # colorama's link bar uses literal "|" separators in its text: allowed
    assert [leak for leak in leaks if leak[0] != "colorama"] == []


# -- HTML pages -----------------------------------------------------------------


def test_html_manual_page_main_content(hook, tmp_path: Path) -> None:
    # a texinfo manual page: inline <code> must not split paragraphs (trafilatura
    # writes it as <pre>), permalink pilcrows and the navigation bar vanish, the
    # <title> is the title
    page = tmp_path / "The-Basics"  # no suffix: sniffed
    shutil.copy(FORMATS / "libffi-The-Basics.html", page)
    doc = hook(page)
    assert doc.format == "html"
    assert doc.title == "The Basics (libffi: the portable foreign function interface library)"
    texts = _texts(doc)
    # texinfo's "Next: Simple Example, Up: Using libffi [Index]" bar is navigation
    assert texts[1].startswith("libffi assumes that you have a pointer to the function")
    assert texts[2].startswith("The first thing you must do is create an ffi_cif object that")
    assert not any("Next:" in text for text in texts)
    assert not any("\u00b6" in text for text in texts)
    assert "Copyright" not in " ".join(texts)  # the licence is an HTML comment
    assert [link.text for link in doc.links[:3]] == ["Simple Example", "Using libffi", "Index"]


# -- PDF ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bzip2() -> Document:
    return ingest_pdf.parse_pdf(BZIP2_PDF.read_bytes(), BZIP2_PDF)


def test_pdf_headings_paragraphs_and_title(bzip2: Document) -> None:
    doc = bzip2
    assert doc.format == "pdf"
    assert doc.title == "bzip2 and libbzip2, version 1.0.8"  # the PDF's /Title
    headings = [(s.heading, s.level) for s in doc.sections]
    assert ("1. Introduction", 1) in headings and ("2. How to use bzip2", 1) in headings
    assert ("2.1. NAME", 2) in headings and ("2.3. DESCRIPTION", 2) in headings
    intro = next(s for s in doc.sections if s.heading == "1. Introduction")
    assert intro.blocks[0].text.startswith(
        "bzip2 compresses files using the Burrows-Wheeler block-sorting text compression"
    )
    licence = [b for s in doc.sections for b in s.blocks if b.kind == "list"][0]
    assert licence.items[0] == (
        "Redistributions of source code must retain the above copyright notice, "
        "this list of conditions and the following disclaimer."
    )


def test_pdf_drops_running_heads_page_numbers_and_joins_hyphens(bzip2: Document) -> None:
    texts = _texts(bzip2)
    joined = " ".join(texts)
    # "How to use bzip2" heads pages 5-8; only the chapter heading remains
    assert sum(t == "How to use bzip2" for t in texts) == 0
    assert not any(re.fullmatch(r"[ivx\d]+", t) for t in texts)  # page numbers
    assert ". . . ." not in joined  # table-of-contents leaders
    assert "decompression" in joined and "decompres- sion" not in joined
    assert "decompres-" not in joined


def test_pdf_outline_gives_the_headings(tmp_path: Path) -> None:
    # the same pages with bookmarks added by pypdf, titles without their numbers
    import pypdf

    writer = pypdf.PdfWriter(clone_from=BZIP2_PDF)
    writer.add_outline_item(title="Introduction", page_number=3)
    chapter = writer.add_outline_item(title="How to use bzip2", page_number=4)
    for title, page in (("NAME", 4), ("SYNOPSIS", 4), ("DESCRIPTION", 5)):
        writer.add_outline_item(title=title, page_number=page, parent=chapter)
    path = tmp_path / "bookmarked.pdf"
    writer.write(path)
    doc = ingest_pdf.parse_pdf(path.read_bytes(), path)
    assert [(s.heading, s.level) for s in doc.sections if s.level] == [
        ("bzip2 and libbzip2, version 1.0.8", 1),  # the title page's largest line
        ("1. Introduction", 1),
        ("2. How to use bzip2", 1),
        ("2.1. NAME", 2),  # the 20.7 pt title, not the chapter's contents line
        ("2.2. SYNOPSIS", 2),
        ("2.3. DESCRIPTION", 2),
    ]


@pytest.mark.skipif(
    subprocess.run(["groff", "-Tpdf", "-v"], capture_output=True).returncode != 0
    if shutil.which("groff")
    else True,
    reason="groff with its PDF device is not installed",
)
def test_pdf_manual_page_from_groff(hook, tmp_path: Path) -> None:
    pages = sorted(Path("/usr/share/man/man1").glob("ls.1*")) or sorted(
        Path("/usr/share/man/man1").glob("*.1.gz")
    )
    if not pages:
        pytest.skip("no manual pages installed")
    source = pages[0]
    roff = gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes()
    pdf = tmp_path / "manual.bin"
    made = subprocess.run(["groff", "-Tpdf", "-man"], input=roff, capture_output=True)
    if made.returncode != 0 or not made.stdout.startswith(b"%PDF"):
        pytest.skip("groff cannot make a PDF here")
    pdf.write_bytes(made.stdout)
    doc = hook(pdf)
    assert doc.format == "pdf"
    levels = {s.heading: s.level for s in doc.sections}
    assert {"NAME", "DESCRIPTION"} <= set(levels)
    joined = " ".join(_texts(doc))
    # groff's running head "LS(1) User Commands LS(1)" and foot "GNU coreutils ... 4"
    assert "User Commands" not in joined and "GNU coreutils 9" not in joined


CORPUS_PDF = Path(__file__).resolve().parents[1] / "corpus" / "pdf"


@pytest.mark.parametrize(
    ("name", "words", "kept"),
    [
        # apt(8) printed by groff -Tpdf: pdfminer read "interf ace", "b ut", "v ersion"
        ("apt.8.en.pdf", ["interface", "but will", "regex(7)", "version", "following"], []),
        # the German page: "P akete", "F all", "v on", and "so wie", a real space
        ("apt.8.de.pdf", ["Pakete", "Fall", "von Paketen", "Argument"], ["so wie"]),
    ],
)
def test_pdf_words_groff_kerned_apart_are_joined(name, words, kept) -> None:
    path = CORPUS_PDF / name
    joined = " ".join(_texts(ingest_pdf.parse_pdf(path.read_bytes(), path)))
    for word in [*words, *kept]:
        assert word in joined, word
    # (the synopsis' "--v ersion" is kerned by exactly a space's width: left as read)
    split = r"\b(?:interf ace|b ut|(?<!-)v ersion|P akete|F all|v on|Ar gument)\b"
    assert re.findall(split, joined) == []


def test_pdf_manual_page_title_is_its_name_line_and_its_synopsis_is_code() -> None:
    path = CORPUS_PDF / "apt.8.en.pdf"  # groff -Tpdf output: no /Title
    doc = ingest_pdf.parse_pdf(path.read_bytes(), path)
    assert doc.title == "apt - command-line interface"  # not "Apt 8 en", the file name
    synopsis = next(s for s in doc.sections if s.heading == "SYNOPSIS")
    assert [b.kind for b in synopsis.blocks] == ["code"]
    assert "{list | search | show" in synopsis.blocks[0].text.replace("\n", " ")


def test_pdf_without_text_or_broken_is_refused(hook, tmp_path: Path) -> None:
    from PIL import Image

    scan = tmp_path / "scan.pdf"
    Image.new("RGB", (200, 100), "white").save(scan)  # Pillow writes an image-only PDF
    with pytest.raises(InvalidInputError, match="has no text layer"):
        hook(scan)
    broken = tmp_path / "cut.pdf"
    broken.write_bytes(BZIP2_PDF.read_bytes()[:1500])
    with pytest.raises(InvalidInputError, match=r"cut\.pdf"):
        hook(broken)


# -- DOCX ---------------------------------------------------------------------


def _httpx_docx(path: Path) -> None:
    """A .docx written with python-docx from httpx's real README, styles as Word's."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    readme = ingest_markdown.parse_markdown(_description("httpx"), "httpx.md")
    word = docx.Document()
    word.core_properties.language = "en-GB"
    word.add_paragraph("HTTPX", style="Title")
    for section in readme.sections[1:4]:
        word.add_heading(section.heading, section.level - 1)
        for block in section.blocks:
            if block.kind == "list":
                style = "List Number" if section.heading == "Installation" else "List Bullet"
                for item in block.items:
                    word.add_paragraph(item, style=style)
            elif block.kind == "code":
                run = word.add_paragraph().add_run(block.text)
                run.font.name = "Courier New"
            elif block.text:
                word.add_paragraph(block.text)
    table = word.add_table(rows=2, cols=2)
    for (row, col), text in {
        (0, 0): "Package",
        (0, 1): "Role",
        (1, 0): "h11",
        (1, 1): "HTTP/1.1 support",
    }.items():
        table.cell(row, col).text = text
    word.add_paragraph("Designed & crafted with care.", style="Quote")
    para = word.add_paragraph("Read the ")
    rel = para.part.relate_to(
        "https://www.python-httpx.org/", RELATIONSHIP_TYPE.HYPERLINK, is_external=True
    )
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "documentation"
    run.append(text)
    link.append(run)
    para._p.append(link)
    word.save(path)


def test_docx_headings_lists_tables_code_and_language(hook, tmp_path: Path) -> None:
    path = tmp_path / "httpx.docx"
    _httpx_docx(path)
    doc = hook(path)
    assert doc.format == "docx" and doc.title == "HTTPX" and doc.language == "en-GB"
    headings = [(s.heading, s.level) for s in doc.sections]
    assert headings[:2] == [("HTTPX", 1), ("Features", 1)]
    blocks = [b for s in doc.sections for b in s.blocks]
    lists = [b for b in blocks if b.kind == "list"]
    assert lists[0].items[0] == "A broadly requests-compatible API." and not lists[0].ordered
    code = [b.text for b in blocks if b.kind == "code"]
    assert "$ pip install httpx" in code
    assert [b.text for b in blocks if b.kind == "table"] == ["Package, Role\nh11, HTTP/1.1 support"]
    assert [b.text for b in blocks if b.kind == "quote"] == ["Designed & crafted with care."]
    assert blocks[-1].text == "Read the documentation"
    assert [(link.text, link.url) for link in doc.links] == [
        ("documentation", "https://www.python-httpx.org/")
    ]
    disguised = tmp_path / "attachment.bin"  # sniffed by its ZIP content
    shutil.copy(path, disguised)
    assert hook(disguised).format == "docx"


def test_docx_numbered_list_is_ordered(hook, tmp_path: Path) -> None:
    import docx

    word = docx.Document()
    word.add_heading("Install", 1)
    for step in ("Install uv.", "Run uv add httpx."):
        word.add_paragraph(step, style="List Number")
    path = tmp_path / "steps.docx"
    word.save(path)
    doc = hook(path)
    assert [(b.items, b.ordered) for b in doc.sections[0].blocks] == [
        (["Install uv.", "Run uv add httpx."], True)
    ]


def test_broken_docx_is_refused(hook, tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    with pytest.raises(InvalidInputError, match=r"report\.docx: not a Word \.docx document"):
        hook(path)
