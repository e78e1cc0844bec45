"""Readers meet the bot: private chats, groups, inline mode, paging, feedback, languages."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable

import pytest

from bot.services import Services
from corpus.loaders import load_bytes, load_path
from corpus.store import DB_NAME
from tests.bot.conftest import MakeBot, RunningBot
from tests.documents import CANONICAL, SEED, markdown

BOT = "citebot_test_bot"


async def test_canonical_private_question_gets_the_figure_and_citation(bot: RunningBot) -> None:
    fake = bot.fake
    fake.send_message(CANONICAL, user_id=1001)
    reply = await fake.wait_for("sendMessage", chat_id=1001, timeout=20)
    text = reply.text
    assert "<blockquote>" in text
    assert re.search(r"<b>[^<]*approximately 1,200 political prisoners[^<]*</b>", text)
    assert "Belarus opposition leader Tsikhanouskaya" in text
    assert "2025-09" in text
    assert "Relies on: The Associated Press" in text
    buttons = [
        b["callback_data"] for row in reply.params["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert any(b.startswith("v:") for b in buttons)
    assert fake.errors == []


async def test_group_ask_and_mention_are_answered_as_replies(bot: RunningBot) -> None:
    fake = bot.fake
    asked = fake.send_message(f"/ask@{BOT} {CANONICAL}", chat_type="group", chat_id=-500)
    reply = await fake.wait_for("sendMessage", chat_id=-500, timeout=20)
    assert reply.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert "1,200" in reply.text

    mention = fake.send_message(f"@{BOT} who is Ales Bialiatski?", chat_type="group", chat_id=-500)
    reply = await fake.wait_for("sendMessage", chat_id=-500, timeout=20)
    assert reply.params["reply_parameters"]["message_id"] == mention["message"]["message_id"]
    assert "Bialiatski" in reply.text

    fake.send_message("/ask who is Ales Bialiatski?", chat_type="group", chat_id=-500)
    assert "Bialiatski" in (await fake.wait_for("sendMessage", chat_id=-500, timeout=20)).text

    followup = fake.send_message(
        "and how many were released?", chat_type="group", chat_id=-500, reply_to_message=reply
    )
    reply = await fake.wait_for("sendMessage", chat_id=-500, timeout=20)
    assert reply.params["reply_parameters"]["message_id"] == followup["message"]["message_id"]
    assert fake.errors == []


async def test_group_chatter_and_other_bots_are_ignored(bot: RunningBot) -> None:
    fake = bot.fake
    mark = fake.mark()
    fake.send_message(
        "how many political prisoners remain, do you think?", chat_type="group", chat_id=-501
    )
    fake.send_message(f"/ask@otherbot {CANONICAL}", chat_type="group", chat_id=-501)
    fake.send_message(
        "@someone_else how many political prisoners remain?", chat_type="group", chat_id=-501
    )
    await fake.assert_no_call("sendMessage", within=1.5, since=mark, chat_id=-501)


PRISON_REPORTS = markdown(
    "\n\n".join(
        f"In {city}, human rights defenders counted {n} political prisoners this month. "
        f"Families of political prisoners in {city} say visits were cancelled again. "
        f"Lawyers for political prisoners in {city} were barred from the courtroom."
        for city, n in zip(
            [
                "Minsk",
                "Hrodna",
                "Brest",
                "Homel",
                "Mahiliou",
                "Vitsebsk",
                "Barysau",
                "Pinsk",
                "Lida",
                "Baranavichy",
                "Babruisk",
                "Orsha",
                "Maladzechna",
                "Salihorsk",
            ],
            range(40, 600, 40),
            strict=False,
        )
    ),
    title="Regional prisoner reports",
    published="2025-11",
)


async def test_inline_query_pages_valid_results(
    make_bot: MakeBot, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    services.indexer.ingest([load_path(SEED), load_bytes(PRISON_REPORTS.encode(), "regions.md")])
    bot: RunningBot = await make_bot(services)
    fake = bot.fake
    fake.send_inline_query("political prisoners")
    first = await fake.wait_for("answerInlineQuery", timeout=20)
    results = first.params["results"]
    assert len(results) == 10
    assert len({r["id"] for r in results}) == len(results)
    for result in results:
        assert result["type"] == "article" and result["title"]
        assert result["input_message_content"]["parse_mode"] == "HTML"
        assert "<blockquote>" in result["input_message_content"]["message_text"]
    offset = first.params.get("next_offset")
    assert offset == "10"
    fake.send_inline_query("political prisoners", offset=offset)
    second = await fake.wait_for("answerInlineQuery", timeout=20)
    assert second.params["results"]
    assert not {r["id"] for r in results} & {r["id"] for r in second.params["results"]}

    fake.send_inline_query("")
    empty = await fake.wait_for("answerInlineQuery", timeout=20)
    assert [r["id"] for r in empty.params["results"]] == ["help"]
    assert fake.errors == []


async def test_more_pages_through_passages_by_editing(bot: RunningBot) -> None:
    fake = bot.fake
    fake.send_message("political prisoners released by Lukashenko", user_id=1002)
    reply = await fake.wait_for("sendMessage", chat_id=1002, timeout=20)
    more = [
        b["callback_data"]
        for row in reply.params["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("m:")
    ]
    assert more, "the answer should have more than one page"
    fake.send_callback_query(reply, more[0], user_id=1002)
    edited = await fake.wait_for("editMessageText", timeout=20)
    assert edited.params["message_id"] == reply.result["message_id"]
    assert edited.text != reply.text and "<blockquote>" in edited.text
    await fake.wait_for("answerCallbackQuery")
    assert fake.errors == []


async def test_feedback_is_recorded_without_who_voted(bot: RunningBot) -> None:
    fake = bot.fake
    fake.send_message(CANONICAL, user_id=1003)
    reply = await fake.wait_for("sendMessage", chat_id=1003, timeout=20)
    vote = next(
        b["callback_data"]
        for row in reply.params["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("v:") and b["callback_data"].endswith(":1")
    )
    db = sqlite3.connect(bot.services.config.data_dir / DB_NAME)
    before = db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    fake.send_callback_query(reply, vote, user_id=1003)
    await fake.wait_for("answerCallbackQuery", timeout=10)
    await fake.wait_for("editMessageReplyMarkup", timeout=10)
    rows = db.execute("SELECT passage_id, vote FROM feedback").fetchall()
    assert len(rows) == before + 1
    assert rows[-1] == (int(vote.split(":")[1]), 1)
    columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
    assert columns == {"id", "passage_id", "source_id", "vote", "created_at"}
    assert fake.errors == []


async def test_hostile_and_huge_questions_are_answered_validly(bot: RunningBot) -> None:
    fake = bot.fake
    question = (
        "<b>how</b> many political prisoners & <script>alert(1)</script> remain? " + "ж" * 5000
    )
    fake.send_message(question, user_id=1004)
    reply = await fake.wait_for("sendMessage", chat_id=1004, timeout=20)
    assert "<script>" not in reply.text
    fake.send_message("<i>&amp; &lt;", user_id=1004)
    await fake.wait_for("sendMessage", chat_id=1004, timeout=20)
    assert fake.errors == []


@pytest.mark.parametrize(
    ("code", "expected_help", "expected_none", "expected_country"),
    [
        (
            "ru",
            "Как спросить",
            "Я не нашёл в корпусе надёжного фрагмента",
            "не упоминается: Венесуэла",
        ),
        (
            "be",
            "Як спытаць",
            "Я не знайшоў у корпусе надзейнага фрагмента",
            "не згадваецца: Венесуэла",
        ),
        ("en-US", "How to ask", "I found no reliable passage", "mentions Venezuela"),
        ("de", "How to ask", "I found no reliable passage", "mentions Venezuela"),
    ],
)
async def test_interface_follows_language_code(
    bot: RunningBot, code: str, expected_help: str, expected_none: str, expected_country: str
) -> None:
    fake = bot.fake
    for text, expected in (
        ("/help", expected_help),
        ("How do I bake sourdough bread?", expected_none),
        # A country no document names: said in the reader's language, with CLDR's name.
        ("How many political prisoners are there in Venezuela?", expected_country),
    ):
        fake.send_message(text, user_id=1005, language_code=code)
        assert expected in (await fake.wait_for("sendMessage", chat_id=1005, timeout=20)).text
    assert fake.errors == []


async def test_commands_menu_in_three_languages(bot: RunningBot) -> None:
    for code, word in (("", "How to ask"), ("ru", "Как спрашивать"), ("be", "Як пытацца")):
        commands = bot.fake.commands(language_code=code)
        assert [c["command"] for c in commands] == [
            "start",
            "help",
            "ask",
            "sources",
            "about",
            "privacy",
        ]
        assert any(word in c["description"] for c in commands)


async def test_info_commands(bot: RunningBot) -> None:
    fake = bot.fake
    for command, expected in (
        ("/start", "I answer questions by quoting passages"),
        ("/start ask", "Send me your question here"),
        ("/about", "The corpus holds 1 documents"),
        ("/privacy", "I do not store your questions"),
        ("/sources", "Belarus opposition leader Tsikhanouskaya"),
        ("/frobnicate", "I don't know that command"),
    ):
        fake.send_message(command, user_id=1006)
        reply = await fake.wait_for("sendMessage", chat_id=1006, timeout=20)
        assert expected in reply.text, command
    fake.send_message("/help", chat_type="group", chat_id=-502)
    reply = await fake.wait_for("sendMessage", chat_id=-502, timeout=20)
    button = reply.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == f"https://t.me/{BOT}?start=ask"
    assert fake.errors == []


async def test_a_429_is_retried_and_delivered(bot: RunningBot) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", status=429, retry_after=1)
    fake.send_message(CANONICAL, user_id=1007)
    refused = await fake.wait_for("sendMessage", ok=False, chat_id=1007, timeout=20)
    assert refused.status == 429
    delivered = await fake.wait_for("sendMessage", chat_id=1007, timeout=20)
    assert "1,200" in delivered.text


async def test_refused_html_is_resent_as_plain_text(bot: RunningBot) -> None:
    fake = bot.fake
    fake.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: can't parse entities: Unsupported start tag at byte offset 0",
    )
    fake.send_message(CANONICAL, user_id=1008)
    resent = await fake.wait_for("sendMessage", chat_id=1008, timeout=20)
    assert "parse_mode" not in resent.params
    assert "<b>" not in resent.text and "1,200" in resent.text


async def test_errors_are_logged_and_the_user_is_told(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", status=500)
    with caplog.at_level(logging.ERROR):
        fake.send_message(CANONICAL, user_id=1009)
        reply = await fake.wait_for("sendMessage", chat_id=1009, timeout=20)
    assert "something went wrong" in reply.text
    assert any(r.exc_info for r in caplog.records if r.name == "bot.app")


async def test_flooding_user_is_asked_to_slow_down(bot: RunningBot) -> None:
    fake = bot.fake
    for _ in range(8):
        fake.send_message("who is Ales Bialiatski?", user_id=1010)
    texts = []
    for _ in range(8):
        texts.append((await fake.wait_for("sendMessage", chat_id=1010, timeout=30)).text)
    assert any("slow down" in t for t in texts)
    assert any("Bialiatski" in t for t in texts)


async def test_inline_queries_do_not_wait_behind_questions(
    make_bot: MakeBot, seeded: Services
) -> None:
    # One question at a time, so a burst of them makes a queue.
    bot: RunningBot = await make_bot(seeded, CITEBOT_CONCURRENT_UPDATES=1)
    fake = bot.fake
    for user_id in range(3000, 3012):
        fake.send_message(CANONICAL, user_id=user_id)
    fake.send_inline_query("political prisoners", user_id=3100)
    inline = await fake.wait_for("answerInlineQuery", timeout=30)
    replies = [await fake.wait_for("sendMessage", timeout=30) for _ in range(12)]
    # The inline query came last but was answered before the queue of questions drained.
    assert inline.finished_at < max(r.finished_at for r in replies)
    assert sum(r.finished_at > inline.finished_at for r in replies) >= 6
    assert fake.errors == []


async def test_people_typing_the_same_words_share_one_search(bot: RunningBot) -> None:
    rt = bot.app.bot_data["runtime"]
    asked = await asyncio.gather(*(rt.ask_inline("political prisoners") for _ in range(5)))
    answers = [a.answer for a in asked]
    assert all(a is answers[0] for a in answers)
    assert answers[0].answered
    # Cached afterwards, until the corpus changes.
    assert (await rt.ask_inline("political prisoners")).answer is answers[0]
