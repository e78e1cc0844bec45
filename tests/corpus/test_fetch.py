"""Fetching for /add: only public addresses, checked as each connection is opened."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from corpus.fetch import FetchError, fetch
from tests.web import serve

ARTICLE = "<html><head><title>Count</title></head><body><p>1,098 remain.</p></body></html>"


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


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.1", "[::1]"],
)
async def test_private_addresses_are_never_connected_to(
    server: tuple[int, list[str]], host: str
) -> None:
    port, seen = server
    with pytest.raises(FetchError, match="private, loopback"):
        await fetch(f"http://{host}:{port}/article")
    assert seen == []


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
