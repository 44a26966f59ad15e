"""Fetch a URL from the public internet without letting it reach private networks.

:func:`fetch` downloads one resource over HTTPS into memory, defending against
server-side request forgery (OWASP SSRF Prevention Cheat Sheet):

- only ``https://`` URLs (``http://`` only to a loopback address when
  ``REELGRAPH_ALLOW_LOOPBACK=1``, for tests), no user name or password in the
  URL;
- the host name is resolved first and *every* address it resolves to must be
  public (:attr:`ipaddress.IPv4Address.is_global`, and not multicast): private
  (RFC 1918, RFC 4193), loopback, link-local (cloud metadata at
  169.254.169.254), carrier-grade NAT, reserved, unspecified and multicast
  addresses are refused before any packet is sent; ``REELGRAPH_ALLOW_LOOPBACK=1``
  lets loopback through and nothing else;
- the connection goes to the address that was checked, not to a second DNS
  answer (the request URL carries the IP; ``Host`` and the TLS SNI name, which
  the certificate is verified against, carry the host name), so a DNS
  rebinding between check and connect has nothing to rebind;
- proxies from the environment are ignored (``trust_env=False``): a proxy
  would make the connection the check did not see;
- redirects are followed by hand, at most :data:`MAX_REDIRECTS`, and each
  target goes through the same checks;
- the body is streamed and cut off past ``max_bytes`` (default
  :data:`MAX_BYTES`), whatever ``Content-Length`` claims;
- the caller names the content types it accepts; any other is refused before
  the body is read.

Every refusal is an :class:`~reelgraph.errors.InvalidInputError` with one line
naming the URL, the reason and the fix. Reusable for any family that
downloads (documents today, media later).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Collection
from dataclasses import dataclass

import httpx

from reelgraph.errors import InvalidInputError

__all__ = ["MAX_BYTES", "MAX_REDIRECTS", "Fetched", "check_address", "fetch"]

# 20 MiB: Debian's 300-page Valgrind manual is a 1.4 MB PDF, so this holds any
# document a video is made from many times over, while bounding the memory a
# hostile or broken server can make us hold (the body is kept in memory).
MAX_BYTES = 20 * 1024 * 1024
# Browsers stop at 20 (Fetch Standard 4.4); a document link needs a few.
MAX_REDIRECTS = 5
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)  # seconds
_REDIRECTS = {301, 302, 303, 307, 308}
_ALLOW_LOOPBACK = "REELGRAPH_ALLOW_LOOPBACK"
_USER_AGENT = "reelgraph-fetch/1 (+https://github.com/reelgraph)"

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class Fetched:
    """A downloaded resource.

    Attributes:
        url: the final URL, after redirects.
        content_type: the media type, lower case, without parameters
            (``"text/html"``); ``""`` when the server sent none.
        charset: the ``charset`` parameter of ``Content-Type``, if any.
        data: the body, at most the ``max_bytes`` asked for.
    """

    url: str
    content_type: str
    charset: str | None
    data: bytes


def _loopback_allowed() -> bool:
    return os.environ.get(_ALLOW_LOOPBACK, "").strip() == "1"


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The parsed ``address`` when it is one we may connect to.

    Raises:
        ValueError: the address is not public (see the module docstring),
            with the kind of address as its message.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback and _loopback_allowed():
        return ip
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            raise ValueError(f"a {kind} address")
    if not ip.is_global:
        raise ValueError("a non-public address")
    return ip


def _target(url: httpx.URL, shown: str, resolver: Resolver) -> str:
    """The checked IP to connect to for ``url``."""
    scheme = url.scheme
    if scheme not in ("https", "http"):
        raise InvalidInputError(f"cannot fetch {shown}: only https:// URLs are fetched")
    if url.userinfo:
        raise InvalidInputError(
            f"cannot fetch {shown}: a user name or password in the URL is not allowed"
        )
    host = url.host
    if not host:
        raise InvalidInputError(f"cannot fetch {shown}: the URL has no host")
    if scheme == "http" and not _loopback_allowed():
        raise InvalidInputError(
            f"cannot fetch {shown}: plain http:// is not fetched; use the https:// URL"
        )
    port = url.port or (443 if scheme == "https" else 80)
    literal = True
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        literal = False
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as err:
            raise InvalidInputError(
                f"cannot fetch {shown}: the host {host} does not resolve ({err}); check the URL"
            ) from None
    if not addresses:
        raise InvalidInputError(f"cannot fetch {shown}: the host {host} has no address")
    checked = []
    for address in addresses:
        try:
            checked.append(check_address(address))
        except ValueError as err:
            where = f"{host} is" if literal else f"{host} resolves to {address},"
            raise InvalidInputError(
                f"cannot fetch {shown}: {where} {err}; only public internet addresses are fetched"
            ) from None
    if scheme == "http" and not all(ip.is_loopback for ip in checked):
        raise InvalidInputError(
            f"cannot fetch {shown}: plain http:// is not fetched; use the https:// URL"
        )
    return str(checked[0])


def fetch(
    url: str,
    *,
    accept: Collection[str] | None = None,
    max_bytes: int = MAX_BYTES,
    resolver: Resolver = _resolve,
    timeout: httpx.Timeout = _TIMEOUT,
    verify: ssl.SSLContext | bool = True,
) -> Fetched:
    """Download ``url`` (see the module docstring for the checks).

    Args:
        url: an ``https://`` URL.
        accept: media types accepted (``{"text/html", "application/pdf"}``);
            ``None`` accepts any.
        max_bytes: the largest body accepted, in bytes.
        resolver: ``(host, port) -> [address, ...]``; the system resolver by
            default (tests pass their own).
        timeout: httpx timeouts, seconds.
        verify: TLS verification, httpx's ``verify`` (certifi's roots by
            default; tests pass a context trusting their own CA).

    Returns:
        The final URL, media type, charset and body.

    Raises:
        InvalidInputError: the URL is refused, the server answers an error or
            a type not in ``accept``, the body exceeds ``max_bytes``, too
            many redirects, or the network fails.
    """
    shown = url
    try:
        current = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as err:
        raise InvalidInputError(f"cannot fetch {shown}: not a valid URL ({err})") from None
    with httpx.Client(
        trust_env=False, follow_redirects=False, timeout=timeout, verify=verify
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            shown = str(current)
            address = _target(current, shown, resolver)
            host = current.host
            request = client.build_request(
                "GET",
                current.copy_with(host=address),
                headers={
                    "Host": current.netloc.decode("ascii").rsplit("@", 1)[-1],
                    "User-Agent": _USER_AGENT,
                    "Accept": ", ".join(accept) if accept else "*/*",
                },
                extensions={"sni_hostname": host},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.HTTPError as err:
                raise InvalidInputError(
                    f"cannot fetch {shown}: {type(err).__name__}: {err}; check the URL and network"
                ) from None
            try:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise InvalidInputError(
                            f"cannot fetch {shown}: redirect without a Location header"
                        )
                    current = current.join(location)
                    continue
                return _read(response, shown, accept, max_bytes)
            finally:
                response.close()
    raise InvalidInputError(
        f"cannot fetch {url}: more than {MAX_REDIRECTS} redirects; pass the final URL"
    )


def _read(
    response: httpx.Response, shown: str, accept: Collection[str] | None, max_bytes: int
) -> Fetched:
    if response.status_code != 200:
        raise InvalidInputError(
            f"cannot fetch {shown}: the server answered HTTP {response.status_code} "
            f"{response.reason_phrase}; check the URL"
        )
    header = response.headers.get("content-type", "")
    media = header.split(";", 1)[0].strip().lower()
    charset = None
    for param in header.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    if accept is not None and media not in accept:
        kinds = ", ".join(sorted(accept))
        raise InvalidInputError(
            f"cannot fetch {shown}: content type {media or 'none'} is not one of {kinds}"
        )
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise InvalidInputError(
            f"cannot fetch {shown}: {int(length)} bytes is over the {max_bytes}-byte limit"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise InvalidInputError(
                    f"cannot fetch {shown}: the body is over the {max_bytes}-byte limit"
                )
            chunks.append(chunk)
    except httpx.HTTPError as err:
        raise InvalidInputError(
            f"cannot fetch {shown}: {type(err).__name__}: {err}; check the URL and network"
        ) from None
    return Fetched(url=shown, content_type=media, charset=charset, data=b"".join(chunks))
