"""The ``url`` ingest plugin and the SSRF-safe fetcher, against a real loopback HTTP server.

``REELGRAPH_ALLOW_LOOPBACK=1`` lets the fetcher reach the test server (and
only loopback); every refusal test shows that private, link-local and plain
http addresses are refused before any connection is made.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import reelgraph.plugins.ingest.url as ingest_url
from reelgraph.errors import InputError, InvalidInputError
from reelgraph.plugins._media.fetch import MAX_REDIRECTS, check_address, fetch
from reelgraph.run.context import NodeContext
from reelgraph.spec.inputs import bind_inputs
from reelgraph.spec.model import load_spec

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"
FORMATS = DOCS / "formats"
PDF = FORMATS / "bzip2-manual-p1-8.pdf"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes: documents of each type, redirects, an endless body."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/endless":  # no Content-Length: only streaming can cut it
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(2000):
                    self.wfile.write(b"x" * 1024)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if self.path.startswith("/loop"):
            hop = int(self.path[5:] or 0)
            self.send_response(302)
            self.send_header("Location", f"/loop{hop + 1}")
            self.end_headers()
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    _Handler.routes = {
        "/page.html": (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            (DOCS / "page.html").read_bytes(),
        ),
        "/files/bzip2-manual.bin": (
            200,
            {"Content-Type": "application/octet-stream"},
            PDF.read_bytes(),
        ),
        "/jp/notes.txt": (
            200,
            {"Content-Type": "text/plain; charset=shift_jis"},
            (FORMATS / "shift_jis.txt").read_bytes(),
        ),
        "/logo.png": (200, {"Content-Type": "image/png"}, (DOCS / "pixel.png").read_bytes()),
        "/to-page": (302, {"Location": "/page.html"}, b""),
        "/to-private": (302, {"Location": "https://10.0.0.1/admin"}, b""),
        "/to-metadata": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")


@pytest.fixture
def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext.for_testing(tmp_path)


# -- ingest through a URL --------------------------------------------------------


def test_html_page_by_url(server: str, loopback: None, ctx: NodeContext) -> None:
    doc = ingest_url.ingest_document(source=f"{server}/to-page", format=None, ctx=ctx)
    assert doc.format == "html" and doc.title == "Solar Ovens"
    assert doc.source == f"{server}/page.html"  # the final URL, after the redirect
    assert doc.language == "en"


def test_pdf_sent_as_octet_stream_is_sniffed(server: str, loopback: None, ctx: NodeContext) -> None:
    doc = ingest_url.ingest_document(
        source=f"{server}/files/bzip2-manual.bin", format=None, ctx=ctx
    )
    assert doc.format == "pdf" and doc.title == "bzip2 and libbzip2, version 1.0.8"


def test_declared_charset_decodes_text(server: str, loopback: None, ctx: NodeContext) -> None:
    doc = ingest_url.ingest_document(source=f"{server}/jp/notes.txt", format=None, ctx=ctx)
    expected = (FORMATS / "shift_jis-utf8.txt").read_text("utf-8")
    assert doc.format == "text" and doc.title == "Notes"  # from the URL's file name
    assert doc.sections[0].blocks[0].text.startswith(expected.splitlines()[0])


def test_format_override_and_non_urls(server: str, loopback: None, ctx: NodeContext) -> None:
    doc = ingest_url.ingest_document(source=f"{server}/page.html", format="text", ctx=ctx)
    assert doc.format == "text"
    assert ingest_url.ingest_document(source=DOCS / "page.html", format=None, ctx=ctx) is None
    assert ingest_url.ingest_document(source=str(DOCS / "page.html"), format=None, ctx=ctx) is None


def test_the_spec_binds_a_url_and_still_checks_paths(tmp_path: Path) -> None:
    spec = load_spec("document-to-video")
    bound = bind_inputs(spec, {"document": "https://example.org/guide.pdf", "format": "pdf"})
    assert bound["document"] == "https://example.org/guide.pdf" and bound["format"] == "pdf"
    assert bind_inputs(spec, {"document": str(PDF)})["document"] == PDF.resolve()
    with pytest.raises(InputError, match="file not found"):
        bind_inputs(spec, {"document": str(tmp_path / "missing.pdf")})


# -- refusals -------------------------------------------------------------------


def _refused(url: str, match: str, **kwargs: object) -> None:
    began = time.monotonic()
    with pytest.raises(InvalidInputError, match=match) as info:
        fetch(url, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    # refused before connecting: a connection attempt to an unrouted private
    # address would wait for the connect timeout
    assert time.monotonic() - began < 2.0


def test_private_addresses_are_refused_before_connecting(loopback: None) -> None:
    _refused("https://10.0.0.1/", r"10\.0\.0\.1 is a private address")
    _refused("https://169.254.169.254/latest/meta-data/", "link-local")
    _refused("https://[fd00::1]/", "private")
    _refused("https://[::ffff:192.168.1.1]/", "private")
    _refused("https://224.0.0.1/", "multicast")
    _refused("https://0.0.0.0/", "unspecified")
    # a host name is resolved first and checked: every address must be public
    _refused(
        "https://intranet.example/",
        r"intranet\.example resolves to 192\.168\.0\.7, a private address",
        resolver=lambda host, port: ["93.184.215.14", "192.168.0.7"],
    )


def test_loopback_needs_the_switch(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    monkeypatch.delenv("REELGRAPH_ALLOW_LOOPBACK", raising=False)
    _refused(f"{server}/page.html", "plain http:// is not fetched")
    _refused("https://127.0.0.1/", "loopback")
    _refused("https://localhost/", "loopback", resolver=lambda host, port: ["127.0.0.1"])
    monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
    check_address("127.0.0.1")
    with pytest.raises(ValueError, match="private"):
        check_address("10.1.2.3")  # the switch opens loopback only


def test_plain_http_to_public_hosts_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELGRAPH_ALLOW_LOOPBACK", raising=False)
    _refused("http://example.com/guide.html", "plain http:// is not fetched; use the https:// URL")
    monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")  # http stays loopback-only
    _refused(
        "http://example.com/guide.html",
        "plain http:// is not fetched",
        resolver=lambda host, port: ["93.184.215.14"],
    )
    _refused("ftp://example.com/x", "only https:// URLs")
    _refused("https://user:secret@example.com/", "user name or password")


def test_redirects_are_checked_each_hop(server: str, loopback: None) -> None:
    _refused(f"{server}/to-private", r"https://10\.0\.0\.1/admin: 10\.0\.0\.1 is a private address")
    _refused(f"{server}/to-metadata", "link-local")
    _refused(f"{server}/loop", f"more than {MAX_REDIRECTS} redirects")


def test_oversize_and_wrong_type_are_refused(server: str, loopback: None) -> None:
    _refused(f"{server}/files/bzip2-manual.bin", "over the 50000-byte limit", max_bytes=50_000)
    _refused(f"{server}/endless", "the body is over the 100000-byte limit", max_bytes=100_000)
    _refused(
        f"{server}/logo.png",
        "content type image/png is not one of",
        accept=ingest_url.MEDIA_TYPES,
    )
    _refused(f"{server}/missing", "HTTP 404")


def test_url_errors_reach_the_ingest_node(server: str, loopback: None, ctx: NodeContext) -> None:
    with pytest.raises(InvalidInputError, match="content type image/png"):
        ingest_url.ingest_document(source=f"{server}/logo.png", format=None, ctx=ctx)


# -- https: the checked address is dialled, the certificate checked for the name --


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[int, object]]:
    """An HTTPS loopback server whose certificate names only ``docs.example``."""
    import ssl

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("docs.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    _Handler.routes.setdefault(
        "/page.html",
        (200, {"Content-Type": "text/html"}, (DOCS / "page.html").read_bytes()),
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], ca
    httpd.shutdown()
    httpd.server_close()


def test_https_dials_the_checked_address_with_the_host_name(
    tls_server: tuple[int, object], loopback: None
) -> None:
    import ssl

    port, ca = tls_server
    client = ssl.create_default_context()
    ca.configure_trust(client)  # type: ignore[attr-defined]
    asked: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    fetched = fetch(f"https://docs.example:{port}/page.html", resolver=resolver, verify=client)
    assert asked == ["docs.example"]  # resolved once, by us, then 127.0.0.1 was dialled
    assert fetched.content_type == "text/html" and b"Solar Ovens" in fetched.data
    assert fetched.url == f"https://docs.example:{port}/page.html"
    # the certificate is checked against the name, not the dialled address
    with pytest.raises(InvalidInputError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
        fetch(
            f"https://other.example:{port}/page.html",
            resolver=lambda host, _port: ["127.0.0.1"],
            verify=client,
        )
