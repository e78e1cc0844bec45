"""Once a removal is acknowledged, no path returns the removed source: a chat question or an
inline search that was running during the removal, "More" on an answer given before it, the
inline cache. And a watch that keeps failing is logged once, not every second."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest

import bot.runtime
from bot.runtime import Runtime
from corpus.models import Source
from corpus.stores.shared import KEPT
from retrieval.index_files import CURRENT, MANIFEST
from tests.bot.conftest import RunningBot
from tests.bot.test_moderators import MODERATOR, NEW_FIGURE, READER, modbot, reply_to
from tests.telegram_fake import FakeTelegram

__all__ = ["modbot"]  # the fixture, shared with the moderators' tests

QUESTION = "How many political prisoners does Viasna count now?"
#: Words that occur only in the document that is removed.
REMOVED = ("1,113", "Losik", "Viasna")


class HeldExecutor(Executor):
    """Runs each call at once, on a thread of its own, but hands its result over only once
    released: a search that ran on the corpus as it was and is answered late."""

    def __init__(self) -> None:
        self.ran = threading.Event()
        self.released = threading.Event()
        self.results: list[Any] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()

        def run() -> None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed over like a result
                self.released.wait(60)
                future.set_exception(exc)
                return
            self.results.append(result)
            self.ran.set()
            self.released.wait(60)
            future.set_result(result)

        threading.Thread(target=run, daemon=True).start()
        return future


def runtime_of(running: RunningBot) -> Runtime:
    return running.app.bot_data["runtime"]


def mentions_removed(payload: object) -> bool:
    text = json.dumps(payload, ensure_ascii=False)
    return any(word in text for word in REMOVED)


async def add_viasna(running: RunningBot) -> Source:
    running.fake.send_document(NEW_FIGURE.encode(), "viasna.md", "text/markdown", user_id=MODERATOR)
    await reply_to(running.fake, MODERATOR, containing="Added")
    return next(s for s in running.services.sources() if s.publisher == "Viasna")


async def remove_and_wait(fake: FakeTelegram, source: Source) -> None:
    """/remove and its confirmation; returns once the bot acknowledged the removal."""
    fake.send_message(f"/remove {source.id}", user_id=MODERATOR)
    confirm = await reply_to(fake, MODERATOR, containing="Remove")
    yes, _ = [b["callback_data"] for b in confirm.params["reply_markup"]["inline_keyboard"][0]]
    fake.send_callback_query(confirm, yes, user_id=MODERATOR)
    removed = await fake.wait_for("editMessageText", timeout=60)
    assert "Removed" in removed.text


async def test_an_inline_search_running_during_a_removal_never_returns_the_source(
    modbot: RunningBot,
) -> None:
    fake, rt = modbot.fake, runtime_of(modbot)
    source = await add_viasna(modbot)
    held = HeldExecutor()
    rt.inline_pool = held  # type: ignore[assignment]
    fake.send_inline_query(QUESTION, user_id=READER)
    assert await asyncio.to_thread(held.ran.wait, 30)
    # The search read the corpus before the removal: its answer quotes the source.
    assert any(hit.source.id == source.id for hit in held.results[0].hits)
    await remove_and_wait(fake, source)
    held.released.set()
    answered = await fake.wait_for("answerInlineQuery", timeout=30)
    assert not mentions_removed(answered.params["results"])
    # Asked again, from the cache or afresh: still nothing of it.
    fake.send_inline_query(QUESTION, user_id=READER + 1)
    again = await fake.wait_for("answerInlineQuery", timeout=30)
    assert not mentions_removed(again.params["results"])
    assert fake.errors == []


async def test_a_chat_question_running_during_a_removal_never_returns_the_source(
    modbot: RunningBot,
) -> None:
    fake, rt = modbot.fake, runtime_of(modbot)
    source = await add_viasna(modbot)
    held = HeldExecutor()
    rt.question_pool = held  # type: ignore[assignment]
    mark = fake.mark()
    fake.send_message(QUESTION, user_id=READER)
    assert await asyncio.to_thread(held.ran.wait, 30)
    assert any(hit.source.id == source.id for hit in held.results[0].hits)
    await remove_and_wait(fake, source)
    held.released.set()
    reply = await fake.wait_for("sendMessage", since=mark, chat_id=READER, timeout=30)
    assert not mentions_removed(reply.text)
    assert fake.errors == []


async def test_more_on_an_answer_given_before_a_removal_shows_nothing_of_it(
    modbot: RunningBot,
) -> None:
    fake, rt = modbot.fake, runtime_of(modbot)
    source = await add_viasna(modbot)
    mark = fake.mark()
    fake.send_message("political prisoners in Belarus", user_id=READER)
    answer = await fake.wait_for("sendMessage", since=mark, chat_id=READER, timeout=30)
    buttons = [
        b["callback_data"]
        for row in answer.params["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("m:")
    ]
    assert buttons, "the answer has more passages to page through"
    await remove_and_wait(fake, source)
    mark = fake.mark()
    fake.send_callback_query(answer, buttons[0], user_id=READER)
    alert = await fake.wait_for("answerCallbackQuery", since=mark, timeout=30)
    # The kept answers were dropped with the change, before it was acknowledged.
    assert alert.params["show_alert"] and "expired" in alert.params["text"]
    assert [await rt.shared.get(KEPT, b.split(":")[1]) for b in buttons] == [None] * len(buttons)
    await fake.assert_no_call(
        lambda c: c.method == "editMessageText" and c.index >= mark, within=1.0
    )
    assert fake.errors == []


async def test_a_persistent_watch_failure_is_logged_once(
    modbot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = runtime_of(modbot)
    root = modbot.services.config.data_dir / "index"
    current = (root / CURRENT).read_text()
    # Another process published a build with another model (a reindex the bot cannot read).
    alien = root / "v999999-abcdef"
    alien.mkdir()
    manifest = json.loads((root / current.strip() / MANIFEST).read_text())
    manifest["channels"]["dense"]["model"] = "some-other-model"
    (alien / MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setattr(bot.runtime, "WATCH_INTERVAL", 0.02)
    caplog.set_level(logging.INFO, logger="bot.runtime")
    (root / CURRENT).write_text(alien.name + "\n")
    try:
        start = rt.watched
        await modbot.fake.wait_until(lambda: rt.watched >= start + 40, timeout=30)
    finally:
        (root / CURRENT).write_text(current)
    records = [r for r in caplog.records if r.name == "bot.runtime"]
    failures = [r for r in records if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "some-other-model" in str(failures[0].exc_info[1])
    settled = rt.watched
    await modbot.fake.wait_until(lambda: rt.watched >= settled + 3, timeout=30)
    assert any("loads again" in r.getMessage() for r in caplog.records)
