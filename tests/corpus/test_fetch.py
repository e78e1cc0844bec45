"""Fetching for /add and `citebot ingest URL`: only public addresses, checked as each connection is
opened; every refusal has its reason; a hostile server costs bounded time and memory."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

import corpus.fetch
from corpus.errors import FetchError
from corpus.fetch import fetch
from corpus.loaders import MAX_FILE_BYTES
from tests.web import (
    RawServer,
    closed_port,
    connections,
    drip,
    gzip_bomb,
    head,
    send,
    serve,
    serve_raw,
    silent,
)

ARTICLE = "<html><head><title>Count</title></head><body><p>1,098 remain.</p></body></html>"
HTML = {"Content_Type": "text/html"}


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[int, list[str]]]:
    """A local web server that records every request it gets."""
    seen: list[str] = []

    async def article(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text=ARTICLE, content_type="text/html")

    async def moved(request: web.Request) -> web.Response:
        seen.append(request.path)
        raise web.HTTPFound("/article")

    app = web.Application()
    app.router.add_get("/article", article)
    app.router.add_get("/moved", moved)
    async with serve(app) as port:
        yield port, seen


#: Addresses that must be refused before any connection, with the reason each gets. IPv6 forms
#: carrying a refused IPv4 address (mapped, compatible, NAT64, 6to4, Teredo), and IPv4 written
#: as one number, in hex, or short: the resolver reads them all as 127.0.0.1.
REFUSED_HOSTS = [
    ("127.0.0.1", "private"),
    ("localhost", "private"),
    ("10.0.0.1", "private"),
    ("169.254.169.254", "private"),
    ("[::1]", "private"),
    ("[::ffff:127.0.0.1]", "private"),
    ("[::7f00:1]", "private"),
    ("[64:ff9b::7f00:1]", "private"),
    ("[64:ff9b::a9fe:a9fe]", "private"),
    ("[64:ff9b:1::a00:1]", "private"),
    ("[2002:7f00:1::1]", "private"),
    ("[2001:0:4136:e378:8000:63bf:80ff:fffe]", "private"),
    ("2130706433", "private"),
    ("0x7f000001", "private"),
    ("0x7f.0.0.1", "private"),
    ("127.1", "private"),
    ("0177.0.0.1", "bad_host"),
]


@pytest.mark.parametrize(("host", "code"), REFUSED_HOSTS)
async def test_private_addresses_are_never_connected_to(
    server: tuple[int, list[str]], host: str, code: str
) -> None:
    port, seen = server
    with connections() as attempted, pytest.raises(FetchError) as caught:
        await fetch(f"http://{host}:{port}/article")
    assert caught.value.code == code, str(caught.value)
    assert attempted == [] and seen == []


async def test_credentials_in_a_link_are_refused_before_connecting(
    server: tuple[int, list[str]],
) -> None:
    port, seen = server
    with connections() as attempted, pytest.raises(FetchError, match="user name or password"):
        await fetch(f"http://moderator:secret@127.0.0.1:{port}/article", allow_private=True)
    assert attempted == [] and seen == []


async def test_allowed_private_fetch_follows_redirects(server: tuple[int, list[str]]) -> None:
    port, seen = server
    fetched = await fetch(f"http://127.0.0.1:{port}/moved", allow_private=True)
    assert fetched.name == "article.html"
    assert fetched.data.decode() == ARTICLE
    assert seen == ["/moved", "/article"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x.html", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://no-such-host.invalid/", "cannot resolve"),
    ],
)
async def test_bad_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(FetchError, match=problem):
        await fetch(url)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def _deflate(data: bytes, *, raw: bool = False) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


PAGE = ARTICLE.encode()
BIG = MAX_FILE_BYTES + 1


@pytest_asyncio.fixture
async def hostile() -> AsyncIterator[RawServer]:
    """A server that misbehaves in every way the issue lists, and a few more."""
    replies = {
        "/gzip": send(head(**HTML, Content_Encoding="gzip") + _gzip(PAGE)),
        "/two-members": send(
            head(**HTML, Content_Encoding="gzip") + _gzip(PAGE[:20]) + _gzip(PAGE[20:])
        ),
        "/deflate": send(head(**HTML, Content_Encoding="deflate") + _deflate(PAGE)),
        "/raw-deflate": send(head(**HTML, Content_Encoding="deflate") + _deflate(PAGE, raw=True)),
        "/gzip-gzip": send(
            head(**HTML, Content_Encoding="gzip, gzip") + gzip.compress(_gzip(PAGE))
        ),
        "/bomb": send(head(**HTML, Content_Encoding="gzip") + gzip_bomb(64 << 20)),
        "/double-bomb": send(
            head(**HTML, Content_Encoding="gzip, gzip") + gzip_bomb(64 << 20, layers=2)
        ),
        "/triple": send(head(**HTML, Content_Encoding="gzip, gzip, gzip") + PAGE),
        "/brotli": send(head(**HTML, Content_Encoding="br") + PAGE),
        "/corrupt-gzip": send(head(**HTML, Content_Encoding="gzip") + b"\x1f\x8b\x08junk!"),
        "/truncated-gzip": send(head(**HTML, Content_Encoding="gzip") + _gzip(PAGE)[:-12]),
        "/declared-huge": send(head(**HTML, Content_Length=str(BIG)) + PAGE),
        "/undeclared-huge": send(head(**HTML) + bytes(BIG)),
        "/bad-length": send(head(**HTML, Content_Length="lots") + PAGE),
        "/short-body": send(head(**HTML, Content_Length="5000") + PAGE),
        "/nothing": send(b""),
        "/silent": silent(),
        "/drip": drip(head(**HTML, Content_Length="100000"), every=0.2),
        "/image": send(head(Content_Type="image/png", Content_Length="4") + b"\x89PNG"),
        "/missing": send(head("404 Not Found", Content_Length="0")),
        "/loop": send(head("302 Found", Location="/loop", Content_Length="0")),
        "/no-location": send(head("302 Found", Content_Length="0")),
    }
    async with serve_raw(replies) as server:
        yield server


@pytest.mark.parametrize(
    "path", ["/gzip", "/two-members", "/deflate", "/raw-deflate", "/gzip-gzip"]
)
async def test_compressed_bodies_are_decoded(hostile: RawServer, path: str) -> None:
    fetched = await fetch(hostile.url(path), allow_private=True)
    assert fetched.data == PAGE


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/bomb", "inflated_too_large"),
        ("/double-bomb", "inflated_too_large"),
        ("/triple", "encodings"),
        ("/brotli", "encoding"),
        ("/corrupt-gzip", "corrupt_encoding"),
        ("/truncated-gzip", "corrupt_encoding"),
        ("/declared-huge", "too_large"),
        ("/undeclared-huge", "too_large"),
        ("/bad-length", "bad_length"),
        ("/short-body", "short_body"),
        ("/nothing", "no_response"),
        ("/image", "content_type"),
        ("/missing", "http_status"),
        ("/loop", "redirects"),
        ("/no-location", "no_location"),
    ],
)
async def test_hostile_replies_are_refused_with_the_reason(
    hostile: RawServer, path: str, code: str
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(hostile.url(path), allow_private=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == code, str(caught.value)
    # The 64 MB bombs never cost more than the 20 MB cap (and what is being read).
    assert peak < MAX_FILE_BYTES * 2.5


async def test_a_server_that_answers_nothing_times_out(
    hostile: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus.fetch, "READ_TIMEOUT", 0.5)
    with pytest.raises(FetchError, match=r"sent nothing for 0\.5 s") as caught:
        await fetch(hostile.url("/silent"), allow_private=True)
    assert caught.value.code == "read_timeout"


async def test_a_drip_is_cut_off_by_the_deadline(
    hostile: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each byte comes well within the read timeout; only the overall deadline ends it.
    monkeypatch.setattr(corpus.fetch, "DEADLINE", 1.0)
    with pytest.raises(FetchError, match="took longer than 1 s") as caught:
        await fetch(hostile.url("/drip"), allow_private=True)
    assert caught.value.code == "deadline"


async def test_a_closed_port_is_refused_with_the_reason() -> None:
    with pytest.raises(FetchError, match="connection was refused") as caught:
        await fetch(f"http://127.0.0.1:{closed_port()}/", allow_private=True)
    assert caught.value.code == "refused"
