"""Local web servers for tests that fetch pages, well-behaved (aiohttp) or not (raw TCP), and a
record of the connections this process attempts."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import socket
import sys
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1 for the duration; yields the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


#: Writes a reply (anything at all) once the request has been read.
Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """A TCP server that answers each path with raw bytes, broken HTTP included."""

    port: int
    replies: dict[str, Reply]
    #: The paths requested, in order.
    seen: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@asynccontextmanager
async def serve_raw(replies: dict[str, Reply]) -> AsyncIterator[RawServer]:
    """Serve raw replies by request path on 127.0.0.1 for the duration."""
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode()
            server.seen.append(path)
            await server.replies[path](writer)
        except (ConnectionError, asyncio.IncompleteReadError, KeyError):
            pass
        except asyncio.CancelledError:
            pass  # the server is shutting down: a reply that never ends ends here
        finally:
            writer.close()
            handlers.discard(task)

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    server = RawServer(port=listener.sockets[0].getsockname()[1], replies=replies)
    try:
        yield server
    finally:
        listener.close()
        # Replies that never end (a drip, silence) end here.
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await listener.wait_closed()


def head(status: str = "200 OK", **headers: str) -> bytes:
    """An HTTP/1.1 status line and headers (``Content_Type`` is written ``Content-Type``)."""
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send(data: bytes) -> Reply:
    """A reply of exactly these bytes."""

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return reply


def drip(headers: bytes, *, every: float) -> Reply:
    """Headers, then a body one byte at a time, ``every`` seconds, forever."""

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(headers)
        await writer.drain()
        while True:
            writer.write(b"<")
            await writer.drain()
            await asyncio.sleep(every)

    return reply


def silent() -> Reply:
    """Accept the request and answer nothing, ever."""

    async def reply(_: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return reply


@functools.cache
def gzip_bomb(size: int, *, layers: int = 1) -> bytes:
    """``size`` zero bytes, gzipped ``layers`` times (1 MB of zeros gzips to about 1 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = []
    for start in range(0, size, len(block)):
        parts.append(compressor.compress(block[: min(len(block), size - start)]))
    parts.append(compressor.flush())
    data = b"".join(parts)
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Connects:
    """Every ``socket.connect`` this process attempts, seen through an audit hook (installed
    once: audit hooks cannot be removed), recorded while someone is watching."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watchers: list[list[tuple[str, int]]] = []
        self.installed = False

    def hook(self, event: str, args: tuple) -> None:
        if event == "socket.connect" and self.watchers:
            address = args[1]
            found = (str(address[0]), int(address[1])) if isinstance(address, tuple) else None
            if found is None:
                return
            with self.lock:
                for seen in self.watchers:
                    seen.append(found)


_CONNECTS = _Connects()


@contextlib.contextmanager
def connections() -> Iterator[list[tuple[str, int]]]:
    """``(host, port)`` of the connections attempted in this process during the block."""
    with _CONNECTS.lock:
        if not _CONNECTS.installed:
            sys.addaudithook(_CONNECTS.hook)
            _CONNECTS.installed = True
        seen: list[tuple[str, int]] = []
        _CONNECTS.watchers.append(seen)
    try:
        yield seen
    finally:
        with _CONNECTS.lock:
            _CONNECTS.watchers.remove(seen)


#: A news article of three full sentences, with its title and date in the markup.
ARTICLE_HTML = b"""<html><head><title>Prisoner count | Local News</title>
<meta property="article:published_time" content="2025-11-20"></head>
<body><article><h1>Prisoner count</h1><p>Local News reports that 1,098 political prisoners
remained in Belarusian prisons on 20 November 2025, according to the Viasna centre.</p>
<p>The figure includes eleven journalists and several lawyers who defended protesters.
Most of them were sentenced after the protests of August 2020.</p>
</article></body></html>"""

#: A page of navigation only, trafilatura's "Home About".
BOILERPLATE_HTML = (
    b"<html><head><title>Local News</title></head><body><nav><a href='/'>Home</a> "
    b"<a href='/about'>About</a></nav></body></html>"
)

#: Each hostile reply of ``hostile_replies`` and the reason a fetch of it is refused with
#: (after ``short_bounds``).
HOSTILE_REASONS = [
    ("/bomb", "the file is larger than 20 MB once decompressed"),
    ("/double-bomb", "the file is larger than 20 MB once decompressed"),
    ("/bad-length", "the server sent an invalid Content-Length header"),
    ("/short-body", "the server closed the connection before sending the whole body"),
    ("/nothing", "the server closed the connection without answering"),
    ("/silent", "the server sent nothing for 0.5 s"),
    ("/drip", "the download took longer than 1 s"),
    ("/boilerplate", "no article text could be extracted from the HTML, only navigation"),
]


def hostile_replies() -> dict[str, Reply]:
    """The issue's hostile servers, by path: 64 MB bombs (gzip, and gzip twice), a bad and a
    short ``Content-Length``, no answer at all, silence, a drip, a page of only navigation."""
    html = {"Content_Type": "text/html"}
    return {
        "/bomb": send(head(**html, Content_Encoding="gzip") + gzip_bomb(64 << 20)),
        "/double-bomb": send(
            head(**html, Content_Encoding="gzip, gzip") + gzip_bomb(64 << 20, layers=2)
        ),
        "/bad-length": send(head(**html, Content_Length="lots") + b"<html></html>"),
        "/short-body": send(head(**html, Content_Length="50000") + b"<html>"),
        "/nothing": send(b""),
        "/silent": silent(),
        "/drip": drip(head(**html), every=0.2),
        "/boilerplate": send(head(**html) + BOILERPLATE_HTML),
    }


def short_bounds(path: str) -> dict[str, float]:
    """``corpus.fetch`` constants that make ``path`` of ``hostile_replies`` fail fast, each
    alone: silence meets the read timeout long before the deadline, a drip (a byte well
    within the read timeout) the deadline."""
    return {"/silent": {"READ_TIMEOUT": 0.5}, "/drip": {"DEADLINE": 1.0}}.get(path, {})
