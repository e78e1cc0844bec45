"""Fetch a web page or file for the corpus, refusing targets a public bot must never reach.

Only http and https; at most ``MAX_FILE_BYTES``; the content type must be one the loaders read.
Unless private targets are explicitly allowed, every connection (the first and every redirect's)
goes only to an address checked to be public at the moment of connecting: the host is resolved,
every address checked, and the socket opened to the checked address itself, so a DNS answer that
changes between check and connect (rebinding) cannot slip a private address in. TLS still
verifies the certificate against the host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from corpus.errors import CorpusError
from corpus.loaders import MAX_FILE_BYTES

MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
_SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
}


class FetchError(CorpusError):
    """The URL cannot or must not be fetched."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """The body of a fetched URL and a file name that tells the loaders its format."""

    url: str
    name: str
    data: bytes


async def fetch(url: str, *, allow_private: bool = False) -> Fetched:
    """Download ``url`` safely (see the module docstring)."""
    current = url.strip()
    transport = None if allow_private else _PublicTransport()
    # No proxies from the environment: the addresses connected to are the ones checked.
    async with httpx.AsyncClient(
        timeout=TIMEOUT, follow_redirects=False, trust_env=False, transport=transport
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_url(current)
            async with client.stream("GET", current, headers={"User-Agent": "citebot"}) as reply:
                if reply.is_redirect:
                    location = reply.headers.get("location")
                    if not location:
                        raise FetchError("a redirect without a Location header")
                    current = urljoin(current, location)
                    continue
                if reply.status_code != 200:
                    raise FetchError(f"the server answered HTTP {reply.status_code}")
                kind = reply.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind not in _SUFFIXES:
                    raise FetchError(
                        f"unsupported content type {kind or '(none)'}; "
                        "I can read HTML, PDF, plain text and Markdown"
                    )
                declared = int(reply.headers.get("content-length") or 0)
                if declared > MAX_FILE_BYTES:
                    raise FetchError("the file is larger than 20 MB")
                body = bytearray()
                async for chunk in reply.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_FILE_BYTES:
                        raise FetchError("the file is larger than 20 MB")
                return Fetched(url=current, name=_name(current, kind), data=bytes(body))
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be added, not {parts.scheme or 'this'}")
    if not parts.hostname:
        raise FetchError("the URL has no host")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicOnly(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to public addresses, checked as the socket is opened."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise FetchError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses or not all(_public(a) for a in addresses):
            raise FetchError(
                f"{host} is a private, loopback, link-local or reserved address; "
                "such targets are refused"
            )
        return await self._backend.connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("only TCP connections are made")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _PublicTransport(httpx.AsyncHTTPTransport):
    """httpx's transport whose connections go through ``_PublicOnly``."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend of its own; its connection pool (httpcore) does, so
        # the pool is rebuilt with one, otherwise as httpx builds it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_PublicOnly(),
        )


def _name(url: str, kind: str) -> str:
    suffix = _SUFFIXES[kind]
    stem = PurePosixPath(urlsplit(url).path).stem or "page"
    return f"{stem[:80]}{suffix}"
