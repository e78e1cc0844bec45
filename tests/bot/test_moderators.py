"""Moderators keep the corpus current from Telegram while the bot keeps answering."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

import corpus.fetch
from bot.services import Services
from corpus.loaders import MAX_FILE_BYTES
from tests.bot.conftest import MakeBot, RunningBot
from tests.corpus.test_fetch import REFUSED_HOSTS
from tests.documents import CANONICAL, ROOT, markdown
from tests.telegram_fake import FakeTelegram, RecordedCall
from tests.web import (
    ARTICLE_HTML,
    HOSTILE_REASONS,
    RawServer,
    closed_port,
    connections,
    hostile_replies,
    serve,
    serve_raw,
    short_bounds,
)

OWNER = 4001
MODERATOR = 4002
READER = 4003

NEW_FIGURE = markdown(
    "Viasna said on Monday that 1,113 people are now recognised as political prisoners in "
    "Belarus. The count fell after a pardon in October freed 31 people. Among those still held "
    "is the journalist Ihar Losik.",
    title="Viasna: 1,113 political prisoners in November",
    published="2025-11-17",
    url="https://spring96.org/en/news/november-count",
    publisher="Viasna",
)


def writable_copy(seeded_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus (copying is faster than embedding it again)."""
    folder = tmp_path / "data"
    shutil.copytree(seeded_dir, folder)
    return folder


@pytest.fixture
def fresh(make_services: Callable[..., Services], seeded_dir: Path, tmp_path: Path) -> Services:
    """Services over a writable copy of the bundled corpus."""
    return make_services(writable_copy(seeded_dir, tmp_path))


@pytest_asyncio.fixture
async def modbot(
    make_bot: MakeBot,
    make_services: Callable[..., Services],
    seeded_dir: Path,
    tmp_path: Path,
) -> RunningBot:
    """The bot with an owner and one moderator from the settings; private URLs allowed (the
    test pages are served on 127.0.0.1)."""
    services = make_services(writable_copy(seeded_dir, tmp_path), CITEBOT_ALLOW_PRIVATE_URLS="1")
    return await make_bot(
        services,
        CITEBOT_OWNER=str(OWNER),
        CITEBOT_MODERATORS=str(MODERATOR),
        CITEBOT_ALLOW_PRIVATE_URLS="1",
    )


def corpus_state(services: Services) -> list[tuple[str, str]]:
    """What must not change when a change is refused: every source and its content hash."""
    return sorted((s.id, s.content_hash) for s in services.store.corpus.sources())


async def reply_to(
    fake: FakeTelegram, chat_id: int, *, containing: str, timeout: float = 30
) -> RecordedCall:
    """The bot's next message in ``chat_id`` that contains ``containing``."""
    return await fake.wait_for(
        lambda c: c.method == "sendMessage" and containing in (c.text or ""),
        chat_id=chat_id,
        timeout=timeout,
    )


async def ask_until(fake: FakeTelegram, question: str, expected: str, *, within: float) -> float:
    """Ask as a reader until the answer contains ``expected``; return the seconds it took."""
    start = time.monotonic()
    while True:
        mark = fake.mark()
        fake.send_message(question, user_id=READER + int(1000 * (time.monotonic() - start)))
        reply = await fake.wait_for("sendMessage", since=mark, timeout=20)
        if expected in (reply.text or ""):
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise AssertionError(f"not answered from the new document within {within}s")
        await asyncio.sleep(0.3)


async def test_an_upload_is_answerable_within_seconds(modbot: RunningBot) -> None:
    fake = modbot.fake
    question = "How many political prisoners does Viasna count now?"
    fake.send_document(
        NEW_FIGURE.encode(), "viasna-november.md", "text/markdown", user_id=MODERATOR
    )
    confirmation = await reply_to(fake, MODERATOR, containing="Added")
    sent_at = time.monotonic()
    assert "Viasna: 1,113 political prisoners in November" in confirmation.text
    assert "2025-11-17" in confirmation.text and "passages" in confirmation.text
    assert "It now answers, for example" in confirmation.text
    elapsed = await ask_until(fake, question, "1,113", within=5)
    assert time.monotonic() - sent_at < 5 + elapsed
    answer = fake.sent_messages()[-1]["text"]
    assert "Viasna" in answer and "2025-11-17" in answer
    assert fake.errors == []


async def test_caption_metadata_and_asking_for_a_missing_date(modbot: RunningBot) -> None:
    fake = modbot.fake
    body = "Exiles gathered in Vilnius on Sunday. They counted 42 relatives in prison."
    fake.send_document(
        body.encode(),
        "vilnius.txt",
        "text/plain",
        caption="title: Vilnius rally",
        user_id=MODERATOR,
    )
    asked = await reply_to(fake, MODERATOR, containing="published")
    assert "vilnius.txt" in asked.text
    assert modbot.services.store.corpus.source_by_identity("vilnius.txt") is None
    fake.send_message("2025-10-05", user_id=MODERATOR)
    done = await reply_to(fake, MODERATOR, containing="Added")
    assert "Vilnius rally" in done.text and "2025-10-05" in done.text
    source = modbot.services.store.corpus.source_by_identity("vilnius.txt")
    assert source is not None and source.published == "2025-10-05"
    # The reply completed the document; it was not also answered as a question.
    await fake.assert_no_call(
        lambda c: c.method == "sendMessage" and "reliable" in (c.text or ""), within=1.0
    )


@pytest_asyncio.fixture
async def page_server() -> AsyncIterator[str]:
    """A local web server with an article page, a redirect and a non-document."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(body=ARTICLE_HTML, content_type="text/html")

    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPFound("/article")

    async def image(_: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG....", content_type="image/png")

    app = web.Application()
    app.router.add_get("/article", page)
    app.router.add_get("/moved", moved)
    app.router.add_get("/image", image)
    async with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


async def test_add_by_url_fetches_extracts_and_replaces(
    modbot: RunningBot, page_server: str
) -> None:
    fake = modbot.fake
    fake.send_message(f"/add {page_server}/moved", user_id=MODERATOR)
    done = await reply_to(fake, MODERATOR, containing="Added")
    assert "Prisoner count" in done.text and "2025-11-20" in done.text
    await ask_until(
        fake, "how many political prisoners remained in November 2025?", "1,098", within=5
    )
    fake.send_message(f"/add {page_server}/moved", user_id=MODERATOR)
    again = await reply_to(fake, MODERATOR, containing="already in the corpus")
    assert "Prisoner count" in again.text
    fake.send_message(f"/add {page_server}/image", user_id=MODERATOR)
    refused = await reply_to(fake, MODERATOR, containing="could not fetch")
    assert "image/png" in refused.text


async def test_private_and_non_http_urls_are_refused(
    make_bot: MakeBot, fresh: Services, page_server: str
) -> None:
    bot: RunningBot = await make_bot(fresh, CITEBOT_MODERATORS=str(MODERATOR))
    fake = bot.fake
    before = corpus_state(fresh)
    for url, problem in (
        (f"{page_server}/article", "private, loopback"),
        ("http://169.254.169.254/latest/meta-data/", "private, loopback"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x.html", "only http and https"),
    ):
        fake.send_message(f"/add {url}", user_id=MODERATOR)
        reply = await reply_to(fake, MODERATOR, containing="could not fetch")
        assert problem in reply.text, url
    assert corpus_state(fresh) == before


async def test_non_moderators_change_nothing(modbot: RunningBot, page_server: str) -> None:
    fake = modbot.fake
    before = corpus_state(modbot.services)
    seed = before[0][0]
    fake.send_document(NEW_FIGURE.encode(), "viasna.md", "text/markdown", user_id=READER)
    assert "Only moderators" in (await fake.wait_for("sendMessage", chat_id=READER)).text
    for command in (f"/add {page_server}/article", f"/remove {seed}", "/history", "/stats"):
        fake.send_message(command, user_id=READER)
        assert "Only moderators" in (await fake.wait_for("sendMessage", chat_id=READER)).text
    fake.send_message(f"/mod add {READER}", user_id=READER)
    assert "Only the owner" in (await fake.wait_for("sendMessage", chat_id=READER)).text
    fake.send_message(f"/mod add {READER}", user_id=MODERATOR)
    assert "Only the owner" in (await fake.wait_for("sendMessage", chat_id=MODERATOR)).text
    fake.send_message(f"/remove {seed}", chat_type="group", chat_id=-600, user_id=MODERATOR)
    assert "private chat" in (await fake.wait_for("sendMessage", chat_id=-600)).text
    # A forged confirmation button from a reader does nothing either.
    fake.send_message("/sources", user_id=READER)
    listing = await fake.wait_for("sendMessage", chat_id=READER)
    assert seed not in listing.text  # readers do not see ids
    await asyncio.sleep(0.3)
    assert corpus_state(modbot.services) == before
    assert modbot.services.store.moderation.moderators() == []


async def test_remove_with_confirmation(modbot: RunningBot) -> None:
    fake = modbot.fake
    fake.send_document(NEW_FIGURE.encode(), "viasna.md", "text/markdown", user_id=MODERATOR)
    await reply_to(fake, MODERATOR, containing="Added")
    fake.send_message("/sources", user_id=MODERATOR)
    listing = await reply_to(fake, MODERATOR, containing="Sources")
    viasna = next(s for s in modbot.services.store.corpus.sources() if s.publisher == "Viasna")
    assert f"<code>{viasna.id}</code>" in listing.text
    fake.send_message(f"/remove {viasna.id}", user_id=MODERATOR)
    confirm = await reply_to(fake, MODERATOR, containing="Remove")
    yes, no = [b["callback_data"] for b in confirm.params["reply_markup"]["inline_keyboard"][0]]
    token = yes.removeprefix("rm:")
    assert yes == f"rm:{token}" and no == f"rmx:{token}" and len(token) == 16
    # Pressed twice before the first press is handled (or on two replicas at once): the
    # confirmation works once, and the second press says so.
    fake.send_callback_query(confirm, yes, user_id=MODERATOR)
    fake.send_callback_query(confirm, yes, user_id=MODERATOR)
    removed = await fake.wait_for("editMessageText", timeout=20)
    assert "Removed" in removed.text
    assert all(s.id != viasna.id for s in modbot.services.store.corpus.sources())
    await fake.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery" and "already used" in (c.params.get("text") or "")
        ),
        timeout=20,
    )
    assert [e.action for e in modbot.services.store.moderation.history(5)].count("remove") == 1
    for question in ("How many political prisoners does Viasna count now?", "Ihar Losik"):
        mark = fake.mark()
        fake.send_message(question, user_id=READER)
        reply = await fake.wait_for("sendMessage", since=mark, chat_id=READER, timeout=20)
        assert "1,113" not in reply.text and "Losik" not in reply.text
    assert fake.errors == []


async def test_owner_manages_moderators_and_history_and_stats(modbot: RunningBot) -> None:
    fake = modbot.fake
    fake.send_message(f"/mod add {READER}", user_id=OWNER)
    assert "is now a moderator" in (await fake.wait_for("sendMessage", chat_id=OWNER)).text
    fake.send_document(NEW_FIGURE.encode(), "viasna.md", "text/markdown", user_id=READER)
    assert "Added" in (await reply_to(fake, READER, containing="Added")).text
    fake.send_message("/mod list", user_id=OWNER)
    listing = (await reply_to(fake, OWNER, containing="Moderators")).text
    assert str(MODERATOR) in listing and str(READER) in listing
    fake.send_message(f"/mod remove {READER}", user_id=OWNER)
    assert "no longer a moderator" in (await fake.wait_for("sendMessage", chat_id=OWNER)).text
    fake.send_message("/history", user_id=MODERATOR)
    history = (await reply_to(fake, MODERATOR, containing="Latest changes")).text
    assert "add · Viasna: 1,113" in history and f"telegram:{READER}" in history
    assert "moderator_add" in history
    fake.send_message(CANONICAL, user_id=4100)
    await fake.wait_for("sendMessage", chat_id=4100, timeout=20)
    # The count is written right after the reply is sent.
    await fake.wait_until(lambda: bool(modbot.services.store.readers.daily_questions()), timeout=5)
    fake.send_message("/stats", user_id=MODERATOR)
    stats = (await reply_to(fake, MODERATOR, containing="Questions")).text
    assert "asked" in stats and "% answered" in stats


async def test_bad_uploads_are_refused_with_the_reason(modbot: RunningBot) -> None:
    fake = modbot.fake
    before = corpus_state(modbot.services)
    fake.send_document(b"\x00\x01binary" * 50, "broken.md", "text/markdown", user_id=MODERATOR)
    assert (
        "looks like a binary file"
        in (await reply_to(fake, MODERATOR, containing="could not add")).text
    )
    fake.send_document(b"data", "scan.docx", "application/octet-stream", user_id=MODERATOR)
    assert (
        "unsupported file type"
        in (await reply_to(fake, MODERATOR, containing="could not add")).text
    )
    fake.send_document(
        b"x", "huge.pdf", "application/pdf", size=25 * 1024 * 1024, user_id=MODERATOR
    )
    assert "larger than 20 MB" in (await fake.wait_for("sendMessage", chat_id=MODERATOR)).text
    assert corpus_state(modbot.services) == before


async def test_questions_during_a_large_ingest_are_all_answered(modbot: RunningBot) -> None:
    fake = modbot.fake
    pool = [
        f"In district {d} the court heard case {c} about protest number {d * 7 + c}."
        for d in range(20)
        for c in range(15)
    ]
    paragraphs = [
        " ".join(pool[(i * 7 + j * 13) % len(pool)] for j in range(3)) + f" Record {i} closes."
        for i in range(2000)
    ]
    big = markdown("\n\n".join(paragraphs), title="Court records", published="2025-11")
    fake.send_document(big.encode(), "court-records.md", "text/markdown", user_id=MODERATOR)
    await reply_to(fake, MODERATOR, containing="Adding")
    questions = [CANONICAL, "Who is Ales Bialiatski?", "How do I bake bread?"]
    marks = fake.mark()
    for i in range(200):
        fake.send_message(questions[i % 3], user_id=5000 + i)
        if i % 20 == 0:
            await asyncio.sleep(0.2)
    for i in range(200):
        reply = await fake.wait_for("sendMessage", since=marks, chat_id=5000 + i, timeout=180)
        assert "something went wrong" not in reply.text
        if i % 3 == 0:
            assert "1,200" in reply.text
    done = await reply_to(fake, MODERATOR, containing="Added", timeout=180)
    assert "2000 passages" in done.text or "passages" in done.text
    assert modbot.services.store.corpus.passage_count() >= 2000
    assert fake.errors == []


async def test_a_cli_ingest_is_picked_up_without_restart(
    modbot: RunningBot, tmp_path: Path
) -> None:
    path = tmp_path / "viasna.md"
    path.write_text(NEW_FIGURE)
    env = {
        **os.environ,
        "CITEBOT_DATA_DIR": str(modbot.services.config.data_dir),
        "PYTHONPATH": str(ROOT),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "ingest", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    await ask_until(
        modbot.fake, "How many political prisoners does Viasna count now?", "1,113", within=5
    )
    assert modbot.services.store.moderation.history(1)[0].actor == "cli"


async def test_moderators_get_their_own_command_menu(modbot: RunningBot) -> None:
    fake = modbot.fake

    def menu(user_id: int, code: str = "") -> list[str]:
        scope = {"type": "chat", "chat_id": user_id}
        return [c["command"] for c in fake.commands(language_code=code, scope=scope)]

    fake.send_message("/start", user_id=MODERATOR)
    await fake.wait_for("sendMessage", chat_id=MODERATOR)
    for code in ("", "ru", "be"):
        assert menu(MODERATOR, code) == [
            *("start", "help", "ask", "sources", "about", "privacy"),
            *("add", "remove", "history", "stats", "cancel"),
        ]
    fake.send_message("/start", user_id=READER)
    await fake.wait_for("sendMessage", chat_id=READER)
    assert menu(READER) == []
    fake.send_message("/help", user_id=OWNER)
    await fake.wait_for("sendMessage", chat_id=OWNER)
    assert menu(OWNER)[-1] == "mod"
    fake.send_message(f"/mod add {READER}", user_id=OWNER)
    await reply_to(fake, OWNER, containing="is now a moderator")
    assert "add" in menu(READER, "be")
    fake.send_message(f"/mod remove {READER}", user_id=OWNER)
    await reply_to(fake, OWNER, containing="no longer a moderator")
    assert menu(READER) == menu(READER, "ru") == []
    assert fake.errors == []


# -- hostile and broken input ---------------------------------------------------------------


@pytest_asyncio.fixture
async def hostile_pages() -> AsyncIterator[RawServer]:
    """Pages that misbehave, served raw on 127.0.0.1."""
    async with serve_raw(hostile_replies()) as server:
        yield server


@pytest.mark.parametrize(("path", "reason"), HOSTILE_REASONS)
async def test_hostile_links_are_refused_with_the_reason(
    modbot: RunningBot,
    hostile_pages: RawServer,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    reason: str,
) -> None:
    for name, value in short_bounds(path).items():
        monkeypatch.setattr(corpus.fetch, name, value)
    fake = modbot.fake
    before = corpus_state(modbot.services)
    tracemalloc.start()
    try:
        fake.send_message(f"/add {hostile_pages.url(path)}", user_id=MODERATOR)
        reply = await reply_to(fake, MODERATOR, containing="Nothing was changed")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reason in reply.text, reply.text
    # What the bot allocated meanwhile: a 64 MB bomb costs no more than the 20 MB cap.
    assert peak < 2.5 * MAX_FILE_BYTES
    assert corpus_state(modbot.services) == before
    assert fake.errors == []


async def test_refusals_are_in_the_moderators_language(
    modbot: RunningBot, hostile_pages: RawServer
) -> None:
    fake = modbot.fake
    fake.send_message(
        f"/add {hostile_pages.url('/bad-length')}", user_id=MODERATOR, language_code="ru"
    )
    reply = await reply_to(fake, MODERATOR, containing="Ничего не изменено")
    assert reply.text == (
        "Не удалось загрузить ссылку: сервер прислал некорректный заголовок Content-Length. "
        "Ничего не изменено."
    )
    fake.send_message(
        f"/add http://127.0.0.1:{closed_port()}/x", user_id=MODERATOR, language_code="be"
    )
    reply = await reply_to(fake, MODERATOR, containing="Нічога не зменена")
    assert "не атрымалася падключыцца да 127.0.0.1" in reply.text
    fake.send_document(
        b"\x00" * 10, "scan.md", "text/markdown", user_id=MODERATOR, language_code="be"
    )
    reply = await reply_to(fake, MODERATOR, containing="Нічога не зменена")
    assert reply.text == (
        "Не атрымалася дадаць scan.md: гэта падобна на двайковы файл, а не на тэкст. "
        "Нічога не зменена."
    )


async def test_private_targets_are_refused_by_add_without_connecting(
    make_bot: MakeBot, fresh: Services, page_server: str
) -> None:
    bot: RunningBot = await make_bot(fresh, CITEBOT_MODERATORS=str(MODERATOR))
    fake = bot.fake
    port = int(page_server.rsplit(":", 1)[1])
    before = corpus_state(fresh)
    for host, code in [*REFUSED_HOSTS, ("user:pw@127.0.0.1", "credentials")]:
        with connections() as attempted:
            fake.send_message(f"/add http://{host}:{port}/article", user_id=MODERATOR)
            reply = await reply_to(fake, MODERATOR, containing="could not fetch")
        expected = {
            "private": "is a private, loopback, link-local or reserved address",
            "bad_host": "is not a valid host name or IP address",
            "credentials": "links with a user name or password are refused",
        }[code]
        assert expected in reply.text, (host, reply.text)
        assert [a for a in attempted if a[1] == port] == [], host
    assert corpus_state(fresh) == before


async def test_hostile_uploads_are_refused_with_the_reason(modbot: RunningBot) -> None:
    fake = modbot.fake
    before = corpus_state(modbot.services)
    words = " ".join(("prisoners", "court", "minsk", "held")[i % 4] for i in range(900_000))
    oneline = markdown(words[: 5 * 2**20]).encode()
    late_nul = markdown("A sentence of text. " * 1000).encode() + b"\x00"
    corrupt = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    future = markdown("Body text.", published="2099-12").encode()
    for data, name, mime, reason in (
        (oneline, "oneline.md", "text/markdown", "the text is longer than 2000000 characters"),
        (late_nul, "late.md", "text/markdown", "looks like a binary file, not text"),
        (corrupt, "report.pdf", "application/pdf", "is not a readable PDF (EOF marker not found)"),
        (future, "future.md", "text/markdown", "published is in the future (2099-12"),
    ):
        fake.send_document(
            data,
            name,
            mime,
            caption="title: t\npublished: 2025-01" if name.endswith(".pdf") else None,
            user_id=MODERATOR,
        )
        reply = await reply_to(fake, MODERATOR, containing="Nothing was changed")
        assert f"I could not add {name}: {reason}" in reply.text, reply.text
    assert corpus_state(modbot.services) == before
    assert fake.errors == []
