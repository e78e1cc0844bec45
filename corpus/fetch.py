"""Fetch a web page or file for the corpus, refusing targets a public bot must never reach.

Only http and https, and no user name or password in the link. The link is parsed as httpx
parses it for the connection (so ``0177.0.0.1`` is refused as httpx refuses it, not read one way
here and another there). The body is at most ``MAX_FILE_BYTES`` on the wire and again once
decompressed: Content-Encoding is undone here, chunk by chunk, counting every byte against the
cap, so a compression bomb costs at most the cap in memory. The content type must be one the
loaders read. The whole fetch, redirects included, ends within ``DEADLINE`` (per-read timeouts
alone let a server drip a byte a second forever).

Unless private targets are explicitly allowed, every connection (the first and every redirect's)
goes only to an address checked to be public at the moment of connecting: the host is resolved,
every address checked, and the socket opened to the checked address itself, so a DNS answer that
changes between check and connect (rebinding) cannot slip a private address in. An IPv6 address
that carries an IPv4 one (mapped, compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address
inside: behind a NAT64 gateway ``64:ff9b::a9fe:a9fe`` is the cloud metadata service. TLS still
verifies the certificate against the host name.

httpx's exceptions are translated into ``FetchError`` here, and nowhere else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from corpus.errors import FetchError
from corpus.loaders import MAX_FILE_BYTES

__all__ = ["FetchError", "Fetched", "fetch"]

MAX_REDIRECTS = 5
#: Seconds to open a connection, and to wait for the next bytes of a reply.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
#: Seconds for the whole fetch, redirects included.
DEADLINE = 30.0
#: Content-Encoding layers undone at most (one is usual; ``gzip, gzip`` is a bomb's trick).
MAX_ENCODINGS = 2
#: Bytes inflated at a time, per layer.
_CHUNK = 64 * 1024
_ENCODINGS = ("gzip", "x-gzip", "deflate")
_MB = MAX_FILE_BYTES // (1024 * 1024)
_SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
#: NAT64 for local use (RFC 8215): never a public destination, whatever it embeds.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
#: Prefixes whose last 32 bits are an IPv4 address: NAT64 (RFC 6052), IPv4-translated (SIIT).
_LAST_32_BITS_V4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))


@dataclass(frozen=True, slots=True)
class Fetched:
    """The body of a fetched URL and a file name that tells the loaders its format."""

    url: str
    name: str
    data: bytes


async def fetch(url: str, *, allow_private: bool = False) -> Fetched:
    """Download ``url`` safely (see the module docstring)."""
    deadline = DEADLINE
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(url.strip(), allow_private=allow_private)
    except TimeoutError as exc:
        raise FetchError.because("deadline", seconds=_seconds(deadline)) from exc


async def _fetch(url: str, *, allow_private: bool) -> Fetched:
    current = _checked(url)
    transport = None if allow_private else _PublicTransport()
    # No proxies from the environment: the addresses connected to are the ones checked. Only
    # the encodings undone below are offered.
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
        trust_env=False,
        transport=transport,
        headers={"User-Agent": "citebot", "Accept-Encoding": "gzip, deflate"},
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with client.stream("GET", current) as reply:
                    if reply.is_redirect:
                        location = reply.headers.get("location")
                        if not location:
                            raise FetchError.because("no_location")
                        current = _checked(location, base=current)
                        continue
                    if reply.status_code != 200:
                        raise FetchError.because("http_status", status=reply.status_code)
                    kind = reply.headers.get("content-type", "").split(";")[0].strip().lower()
                    if kind not in _SUFFIXES:
                        raise FetchError.because("content_type", kind=kind or "(none)")
                    data = await _body(reply)
                    return Fetched(url=str(current), name=_name(current, kind), data=data)
            except httpx.HTTPError as exc:
                raise _translated(exc, current.host) from exc
    raise FetchError.because("redirects", limit=MAX_REDIRECTS)


def _checked(url: str, *, base: httpx.URL | None = None) -> httpx.URL:
    """``url`` (relative to ``base``) parsed as httpx will use it, or why it is refused."""
    try:
        parsed = base.join(url) if base is not None else httpx.URL(url)
    except httpx.InvalidURL as exc:
        message = str(exc)
        if message.startswith(("Invalid IPv4", "Invalid IPv6", "Invalid IDNA")):
            host = urlsplit(url).hostname or url
            raise FetchError.because("bad_host", host=host[:100]) from exc
        raise FetchError.because("bad_url", detail=message[:200]) from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError.because("scheme", scheme=parsed.scheme or "this")
    if not parsed.host:
        raise FetchError.because("no_host")
    if parsed.userinfo:
        # They would be sent as Basic auth, and stored and shown as the source's public URL.
        raise FetchError.because("credentials")
    return parsed


async def _body(reply: httpx.Response) -> bytes:
    """The body, decompressed as it streams, never more than ``MAX_FILE_BYTES`` of it."""
    declared = reply.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise FetchError.because("bad_length")
        if int(declared) > MAX_FILE_BYTES:
            raise FetchError.because("too_large", limit_mb=_MB)
    inflater = _Inflater(reply.headers.get_list("content-encoding", split_commas=True))
    body = bytearray()
    wire = 0

    def add(pieces: Iterator[bytes]) -> None:
        for piece in pieces:
            body.extend(piece)
            if len(body) > MAX_FILE_BYTES:
                code = "inflated_too_large" if inflater.layers else "too_large"
                raise FetchError.because(code, limit_mb=_MB)

    async for raw in reply.aiter_raw():
        wire += len(raw)
        if wire > MAX_FILE_BYTES:
            raise FetchError.because("too_large", limit_mb=_MB)
        add(inflater.feed(raw))
    inflater.finish()
    return bytes(body)


class _Inflater:
    """Undoes a body's Content-Encoding layers as it streams, a bounded piece at a time."""

    def __init__(self, encodings: list[str]) -> None:
        names = [e.strip().lower() for e in encodings if e.strip().lower() not in ("", "identity")]
        if len(names) > MAX_ENCODINGS:
            raise FetchError.because("encodings", count=len(names), limit=MAX_ENCODINGS)
        for name in names:
            if name not in _ENCODINGS:
                raise FetchError.because("encoding", encoding=name[:40])
        # Encodings are listed in the order they were applied, so they are undone in reverse.
        self.layers = [_Layer(name) for name in reversed(names)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of the next piece of the body."""
        return self._through(0, data)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self.layers):
            if data:
                yield data
            return
        for piece in self.layers[index].feed(data):
            yield from self._through(index + 1, piece)

    def finish(self) -> None:
        """Refuse a body whose compressed stream stopped short."""
        for layer in self.layers:
            layer.finish()


class _Layer:
    """One gzip or deflate layer: yields at most ``_CHUNK`` bytes at a time, counts them all."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name != "deflate"
        self._z = self._decompressor()
        self._started = False
        self._produced = 0

    def _decompressor(self, *, raw: bool = False) -> Any:
        if raw:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            if self._z.eof:
                # gzip allows several members one after another; after a deflate stream (or
                # the last member's padding) nothing more is read.
                if not (self._gzip and data.strip(b"\0")):
                    return
                self._z = self._decompressor()
            out = self._inflate(data)
            if out:
                self._produced += len(out)
                if self._produced > MAX_FILE_BYTES:
                    raise FetchError.because("inflated_too_large", limit_mb=_MB)
                yield out
            data = self._z.unused_data if self._z.eof else self._z.unconsumed_tail
            # A full piece may leave output pending inside zlib even with no input left.
            if not data and (self._z.eof or len(out) < _CHUNK):
                return

    def _inflate(self, data: bytes) -> bytes:
        try:
            out = self._z.decompress(data, _CHUNK)
        except zlib.error as exc:
            if self._started or self._gzip:
                raise FetchError.because("corrupt_encoding", encoding=self.name) from exc
            # "deflate" is sometimes sent without its zlib header.
            self._z = self._decompressor(raw=True)
            self._started = True
            return self._inflate(data)
        self._started = True
        return out

    def finish(self) -> None:
        if self._started and not self._z.eof:
            raise FetchError.because("corrupt_encoding", encoding=self.name)


def _translated(exc: httpx.HTTPError, host: str) -> FetchError:
    """The reason for an httpx error, for the moderator."""
    message = str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError.because("connect_timeout", host=host, seconds=_seconds(CONNECT_TIMEOUT))
    if isinstance(exc, httpx.TimeoutException):
        return FetchError.because("read_timeout", seconds=_seconds(READ_TIMEOUT))
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, socket.gaierror):
            return FetchError.because("unresolvable", host=host)
        return FetchError.because("refused", host=host)
    if isinstance(exc, httpx.RemoteProtocolError):
        if "Content-Length" in message:
            return FetchError.because("bad_length")
        if "complete message body" in message:
            return FetchError.because("short_body")
        if "without sending a response" in message:
            return FetchError.because("no_response")
        return FetchError.because("protocol")
    if isinstance(exc, httpx.NetworkError):
        return FetchError.because("broken")
    return FetchError.because("fetch_failed", detail=f"{type(exc).__name__}: {message}"[:200])


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _seconds(value: float) -> str:
    return f"{value:g}"


def _public(address: str) -> bool:
    """Whether a resolved address may be connected to."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded:
            return all(_public(str(inner)) for inner in embedded)
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    value = int(ip)
    # IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks); :: and ::1
    # are not, and are refused as unspecified and loopback.
    if value >> 32 == 0 and value > 1:
        found.append(ipaddress.IPv4Address(value))
    if any(ip in network for network in _LAST_32_BITS_V4):
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return found


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
            raise FetchError.because("unresolvable", host=host) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses or not all(_public(a) for a in addresses):
            raise FetchError.because("private", host=host)
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
        raise FetchError.because("fetch_failed", detail="only TCP connections are made")

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


def _name(url: httpx.URL, kind: str) -> str:
    suffix = _SUFFIXES[kind]
    stem = PurePosixPath(url.path).stem or "page"
    return f"{stem[:80]}{suffix}"
