"""Fetch a web page or file for the corpus, refusing targets a public bot must never reach.

Only http and https; every address the host resolves to (and every redirect's) must be public
unless private targets are explicitly allowed; at most ``MAX_FILE_BYTES``; the content type must
be one the loaders read. Resolving before connecting leaves a DNS-rebinding window, which the
per-hop re-check narrows but does not close; deployments that need more should fetch through an
egress proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

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
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            await _check_target(current, allow_private=allow_private)
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


async def _check_target(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be added, not {parts.scheme or 'this'}")
    if not parts.hostname:
        raise FetchError("the URL has no host")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"{parts.hostname} is a private, loopback, link-local or reserved address; "
                "such targets are refused"
            )


def _name(url: str, kind: str) -> str:
    suffix = _SUFFIXES[kind]
    stem = PurePosixPath(urlsplit(url).path).stem or "page"
    return f"{stem[:80]}{suffix}"
