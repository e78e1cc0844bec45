"""Tests of the fake Telegram server, driven by the real PTB ``Bot`` / ``Application``.

Going through PTB proves PTB's wire encoding (form values, JSON-encoded objects, multipart
uploads, timeouts) is understood; each refusal test would fail if the fake accepted the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from tests.telegram_fake import (
    BOT_USERNAME,
    DEFAULT_USER_ID,
    MAX_DOWNLOAD_FILE_SIZE,
    TOKEN,
    FakeTelegram,
    WaitTimeout,
    fake_telegram,
    parse_html,
)

pytestmark = [
    pytest.mark.asyncio,
    # do_api_request() is used on purpose to send raw parameters PTB's methods would not send.
    pytest.mark.filterwarnings("ignore:Please use 'Bot:telegram.warnings.PTBUserWarning"),
    # RetryAfter.retry_after becomes a timedelta in a future PTB; irrelevant here.
    pytest.mark.filterwarnings("ignore:Deprecated since version v22.2:DeprecationWarning"),
]
# The fixture is imported (conftest may import it too); naming it here marks the import as used.
_FIXTURES = (fake_telegram,)

CHAT = DEFAULT_USER_ID  # the default user's private chat


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[ExtBot[None]]:
    """A real PTB bot talking to the fake; the default user's private chat exists."""
    fake_telegram.add_chat(CHAT)
    async with ExtBot(**fake_telegram.bot_kwargs()) as ptb_bot:
        yield ptb_bot


def _builder(fake: FakeTelegram) -> ApplicationBuilder:
    return (
        ApplicationBuilder().token(fake.token).base_url(fake.api_url).base_file_url(fake.file_url)
    )


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


@contextlib.asynccontextmanager
async def _polling(app: Application) -> AsyncIterator[Application]:
    """Run ``app`` with polling (as run_polling would, minus signals) and always stop it."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------ basics


async def test_get_me_and_token(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    me = await bot.get_me()
    assert me.username == BOT_USERNAME and me.is_bot and me.id == 123456
    assert fake_telegram.calls[0].method == "getMe" and fake_telegram.calls[0].ok


async def test_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    wrong = ExtBot(
        "123456:WRONG-token", base_url=fake_telegram.api_url, base_file_url=fake_telegram.file_url
    )
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()
    assert fake_telegram.errors[-1].status == 401
    assert fake_telegram.errors[-1].response == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }


async def test_unknown_method_and_case_insensitive_names(
    fake_telegram: FakeTelegram, bot: ExtBot[None]
) -> None:
    with pytest.raises(EndPointNotFound):  # PTB's name for Telegram's 404 "Not Found"
        await bot.do_api_request("fooBar")
    assert fake_telegram.errors[-1].response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }
    assert await bot.do_api_request("GETME") is not None  # Telegram method names ignore case
    assert fake_telegram.calls[-1].method == "getMe"


# ------------------------------------------------------------------------------------ sendMessage


async def test_send_message_html_entities(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    text = (
        '😀 <b>bold</b> <i>it</i> <a href="https://example.org/?a=1&amp;b=2">link</a> '
        '<code>x</code> <pre><code class="language-python">print(1)</code></pre> '
        '<span class="tg-spoiler">s</span> <blockquote expandable>q</blockquote> &lt;tag&gt;'
    )
    message = await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)
    assert message.text == "😀 bold it link x print(1) s q <tag>"
    entities = [(e.type, e.offset, e.length) for e in message.entities]
    # The emoji is two UTF-16 code units, so "bold" starts at 3.
    assert entities == [
        ("bold", 3, 4),
        ("italic", 8, 2),
        ("text_link", 11, 4),
        ("code", 16, 1),
        ("pre", 18, 8),
        ("spoiler", 27, 1),
        ("expandable_blockquote", 29, 1),
    ]
    assert message.entities[2].url == "https://example.org/?a=1&b=2"
    assert message.entities[4].language == "python"
    assert message.from_user is not None and message.from_user.username == BOT_USERNAME
    assert message.message_id == 1
    assert (await bot.send_message(CHAT, "second")).message_id == 2
    call = await fake_telegram.wait_for("sendMessage", chat_id=CHAT)
    assert call.params["parse_mode"] == "HTML" and call.result["text"].startswith("😀")
    fake_telegram.assert_no_errors()


async def test_text_length_limits(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    sent = await bot.send_message(CHAT, "x" * 4096)
    assert sent.text is not None and len(sent.text) == 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    # 4096 characters after entity decoding, 20480 raw: accepted.
    message = await bot.send_message(CHAT, "&amp;" * 4096, parse_mode=ParseMode.HTML)
    assert message.text == "&" * 4096
    # Telegram counts UTF-16 code units: 2048 emoji fill the message, 2049 do not.
    await bot.send_message(CHAT, "😀" * 2048)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "😀" * 2049)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "  \n ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "<b></b>", parse_mode=ParseMode.HTML)
    assert [c.description for c in fake_telegram.errors] == [
        "Bad Request: message is too long",
        "Bad Request: message is too long",
        "Bad Request: message text is empty",
        "Bad Request: message text is empty",
    ]


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("AT&T", 'Unescaped "&" at byte offset 2'),
        ("&apos;", 'Unescaped "&" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<blockquote>a<blockquote>b</blockquote></blockquote>", 'Nested "blockquote"'),
        ("<code><b>x</b></code>", 'Tag "b" is not allowed inside "code"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<a href=https://x.org>x</a>", "Unexpected end of name token"),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_bad_html_refused(
    fake_telegram: FakeTelegram, bot: ExtBot[None], markup: str, detail: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as caught:
        await bot.send_message(CHAT, markup, parse_mode=ParseMode.HTML)
    # PTB strips "Bad Request: " and str.capitalize()s the rest (lower-casing it): compare the
    # fake's own record for the exact wording.
    assert detail.lower() in caught.value.message.lower()
    description = fake_telegram.errors[-1].description
    assert description is not None
    assert description.startswith("Bad Request: can't parse entities: ") and detail in description
    assert fake_telegram.sent_messages(CHAT) == []


async def test_html_entities_decoded(bot: ExtBot[None]) -> None:
    message = await bot.send_message(
        CHAT, "&amp; &#39;q&#39; &lt;b&gt; &quot; &#x1F600;", parse_mode=ParseMode.HTML
    )
    assert message.text == "& 'q' <b> \" 😀"
    # Without a parse mode nothing is markup.
    plain = await bot.send_message(CHAT, "<b>AT&T</b>")
    assert plain.text == "<b>AT&T</b>" and not plain.entities


async def test_too_many_entities_refused(bot: ExtBot[None]) -> None:
    await bot.send_message(CHAT, "<b>x</b> " * 100, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)too many entities"):
        await bot.send_message(CHAT, "<b>x</b> " * 101, parse_mode=ParseMode.HTML)


async def test_markdown_v2(bot: ExtBot[None]) -> None:
    message = await bot.send_message(
        CHAT, r"*bold* [link](https://example.org) done\.", parse_mode=ParseMode.MARKDOWN_V2
    )
    assert message.text == "bold link done."
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 4),
        ("text_link", 5, 4),
    ]
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(CHAT, "done.", parse_mode=ParseMode.MARKDOWN_V2)


async def test_reply_parameters_and_unknown_chat(
    fake_telegram: FakeTelegram, bot: ExtBot[None]
) -> None:
    update = fake_telegram.send_message("question")
    asked = update["message"]["message_id"]
    reply = await bot.send_message(CHAT, "answer", reply_parameters=ReplyParameters(asked))
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "question"
    legacy = await bot.do_api_request(
        "sendMessage",
        api_kwargs={"chat_id": CHAT, "text": "old style", "reply_to_message_id": asked},
    )
    assert legacy["reply_to_message"]["message_id"] == asked
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(CHAT, "answer", reply_parameters=ReplyParameters(999))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello stranger")
    fake_telegram.block_bot(CHAT)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(CHAT, "hello?")


# ------------------------------------------------------------------------------------ keyboards


async def test_inline_keyboard_validation(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    ok_markup = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="x" * 64)]])
    await bot.send_message(CHAT, "pick", reply_markup=ok_markup)
    bad = [
        (InlineKeyboardButton("long", callback_data="x" * 65), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton("long", callback_data="ж" * 33), "BUTTON_DATA_INVALID"),  # 66 bytes
        (InlineKeyboardButton("text only"), "Text buttons are unallowed"),
        (InlineKeyboardButton("js", url="javascript:alert(1)"), "BUTTON_URL_INVALID"),
        (InlineKeyboardButton("two", url="https://x.org", callback_data="y"), "exactly one"),
    ]
    for button, error in bad:
        with pytest.raises(BadRequest, match=rf"(?i){error}"):
            await bot.send_message(CHAT, "pick", reply_markup=InlineKeyboardMarkup([[button]]))
    assert len(fake_telegram.errors) == len(bad)


async def test_callback_query_roundtrip_and_edits(
    fake_telegram: FakeTelegram, bot: ExtBot[None]
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("more", callback_data="more:1")]])
    sent = await bot.send_message(CHAT, "<b>page 1</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(ValueError, match=r"no button"):
        fake_telegram.send_callback_query(fake_telegram.last_sent(CHAT), "nope")
    update = fake_telegram.send_callback_query(fake_telegram.last_sent(CHAT), "more:1")
    query_id = update["callback_query"]["id"]
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="loading")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("123")

    # Same text, entities and keyboard: not modified.
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>page 1</b>", CHAT, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    # Same text without the keyboard is a change: the edit removes the keyboard.
    edited = await bot.edit_message_text("<b>page 1</b>", CHAT, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, object) and fake_telegram.message(CHAT, sent.message_id) is not None
    assert "reply_markup" not in fake_telegram.last_sent(CHAT)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id)
    await bot.edit_message_text("page 2", CHAT, sent.message_id)
    assert fake_telegram.last_sent(CHAT)["text"] == "page 2"
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)
    user_message = fake_telegram.send_message("mine")["message"]
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("x", CHAT, user_message["message_id"])
    assert await bot.delete_message(CHAT, sent.message_id)
    assert fake_telegram.is_deleted(CHAT, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)


# ------------------------------------------------------------------------------------ inline mode


def _article(result_id: str, text: str = "t") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(result_id, "title", InputTextMessageContent(text))


async def test_inline_query_limits(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    def query() -> str:
        return str(fake_telegram.send_inline_query("doi")["inline_query"]["id"])

    cases = [
        ([_article(str(i)) for i in range(51)], "RESULTS_TOO_MUCH"),
        ([_article("a"), _article("a")], "RESULT_ID_DUPLICATE"),
        ([_article("x" * 65)], "RESULT_ID_INVALID"),
        ([_article("ж" * 33)], "RESULT_ID_INVALID"),  # 33 characters, 66 bytes
        ([_article("1", "<b>x")], "can't parse entities"),
        ([_article("1", "x" * 4097)], "message is too long"),
    ]
    for results, error in cases:
        for result in results:
            content = result.input_message_content
            assert isinstance(content, InputTextMessageContent)  # what _article builds
            if "<b>" in content.message_text:
                content._unfreeze()
                content.parse_mode = "HTML"
        with pytest.raises(BadRequest, match=rf"(?i){error}"):
            await bot.answer_inline_query(query(), results)
    with pytest.raises(BadRequest, match=r"(?i)NEXT_OFFSET_INVALID"):
        await bot.answer_inline_query(query(), [_article("1")], next_offset="9" * 65)

    query_id = query()
    assert await bot.answer_inline_query(query_id, [_article(str(i)) for i in range(50)])
    assert len(fake_telegram.inline_answers[query_id]["results"]) == 50
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(query_id, [_article("1")])
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query("777", [_article("1")])


async def test_article_needs_title_and_content(
    bot: ExtBot[None], fake_telegram: FakeTelegram
) -> None:
    query_id = fake_telegram.send_inline_query("x")["inline_query"]["id"]
    with pytest.raises(BadRequest, match=r'(?i)"title"'):
        await bot.do_api_request(
            "answerInlineQuery",
            api_kwargs={
                "inline_query_id": query_id,
                "results": [
                    {"type": "article", "id": "1", "input_message_content": {"message_text": "x"}}
                ],
            },
        )
    with pytest.raises(BadRequest, match=r'(?i)"input_message_content"'):
        await bot.do_api_request(
            "answerInlineQuery",
            api_kwargs={
                "inline_query_id": query_id,
                "results": [{"type": "article", "id": "1", "title": "t"}],
            },
        )


# ------------------------------------------------------------------------------------ commands


async def test_set_my_commands(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    await bot.set_my_commands([BotCommand("ask", "Ask a question")], language_code="en")
    await bot.set_my_commands([BotCommand("ask", "Задать вопрос")], language_code="ru")
    await bot.set_my_commands([BotCommand("ask", "group")], scope=BotCommandScopeAllGroupChats())
    assert fake_telegram.commands(language_code="ru") == [
        {"command": "ask", "description": "Задать вопрос"}
    ]
    assert fake_telegram.commands(scope={"type": "all_group_chats"})[0]["description"] == "group"
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["ask"]
    assert await bot.get_my_commands(language_code="be") == ()
    for commands, error in [
        ([BotCommand("Ask", "upper case")], "BOT_COMMAND_INVALID"),
        ([BotCommand("a" * 33, "too long")], "BOT_COMMAND_INVALID"),
        ([BotCommand("ask", "")], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand("ask", "d" * 257)], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand(f"c{i}", "d") for i in range(101)], "BOT_COMMANDS_TOO_MUCH"),
    ]:
        with pytest.raises(BadRequest, match=rf"(?i){error}"):
            await bot.set_my_commands(commands)
    with pytest.raises(BadRequest, match=r"(?i)language code"):
        await bot.set_my_commands([BotCommand("ask", "x")], language_code="english")
    # A chat's own menu only once the user has written to the bot.
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands([BotCommand("add", "x")], scope=BotCommandScopeChat(777))
    fake_telegram.send_message("hello", user_id=777)
    await bot.set_my_commands([BotCommand("add", "x")], scope=BotCommandScopeChat(777))
    assert fake_telegram.commands(scope={"type": "chat", "chat_id": 777})[0]["command"] == "add"


# ------------------------------------------------------------------------------------ faults


async def test_fault_injection(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    fake_telegram.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hi")
    assert caught.value.retry_after == 7
    assert fake_telegram.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    fake_telegram.fail_next("sendmessage", status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"Bad Gateway"):
            await bot.send_message(CHAT, "hi")
    await bot.send_message(CHAT, "hi")  # the faults are used up
    assert fake_telegram.errors == []  # injected faults are not the bot's fault...
    assert len(fake_telegram.rejected_calls) == 3  # ...but they are listed here


async def test_opt_in_flood_limits(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    fake_telegram.flood_limits = True
    await bot.send_message(CHAT, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "two")


# ------------------------------------------------------------------------------------ updates


async def test_get_updates_offset_and_long_poll(
    fake_telegram: FakeTelegram, bot: ExtBot[None]
) -> None:
    first = fake_telegram.send_message("one")["update_id"]
    fake_telegram.send_message("two")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    # offset confirms everything below it
    updates = await bot.get_updates(offset=first + 1, timeout=0)
    assert [u.update_id for u in updates] == [first + 1]
    assert [u.update_id for u in await bot.get_updates(offset=first + 2, timeout=0)] == []
    assert fake_telegram.pending_updates == []

    # A long poll returns as soon as an update arrives...
    async def later() -> None:
        await asyncio.sleep(0.2)
        fake_telegram.send_message("three")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(offset=first + 2, timeout=5)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["three"]
    await task
    # ...and otherwise after the timeout, PTB's timedelta/int sent as whole seconds.
    started = time.monotonic()
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3
    assert fake_telegram.calls[-1].params["timeout"] == 1


async def test_second_poller_conflicts(fake_telegram: FakeTelegram) -> None:
    async with (
        ExtBot(**fake_telegram.bot_kwargs()) as first,
        ExtBot(**fake_telegram.bot_kwargs()) as second,
    ):
        held = asyncio.create_task(first.get_updates(timeout=3))
        await asyncio.sleep(0.1)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await held
    assert [c.status for c in fake_telegram.errors] == [409]


async def test_polling_application_echo(fake_telegram: FakeTelegram) -> None:
    app = _builder(fake_telegram).build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    async with _polling(app):
        fake_telegram.send_message("hello")
        call = await fake_telegram.wait_for("sendMessage", chat_id=CHAT)
        assert call.result["text"] == "hello"
        assert "reply_to_message" not in call.result  # PTB quotes only outside private chats
        # Group command addressed to us (bot_command entity computed like Telegram does) ...
        asked = fake_telegram.send_message(f"/start@{BOT_USERNAME}", chat_type="supergroup")
        call = await fake_telegram.wait_for("sendMessage", chat_id=-1_001_234_567_890)
        assert call.result["text"] == "started"
        assert call.params["reply_parameters"] == {"message_id": asked["message"]["message_id"]}
        assert call.result["reply_to_message"]["text"] == f"/start@{BOT_USERNAME}"
        # ... and one addressed to another bot is ignored by PTB's CommandHandler.
        mark = fake_telegram.mark()
        fake_telegram.send_message("/start@other_bot", chat_type="supergroup")
        await fake_telegram.assert_no_call("sendMessage", within=0.3, since=mark)
    # PTB confirmed every update with the offset of its last getUpdates.
    assert fake_telegram.pending_updates == []
    assert [c.method for c in fake_telegram.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
    fake_telegram.assert_no_errors()


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("started")


async def test_callback_query_through_application(fake_telegram: FakeTelegram) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_text(f"chose {update.callback_query.data}")

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        await update.effective_message.reply_text("menu", reply_markup=keyboard)

    app = _builder(fake_telegram).build()
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(on_button))
    async with _polling(app):
        fake_telegram.send_message("/menu")
        sent = await fake_telegram.wait_for("sendMessage")
        fake_telegram.send_callback_query(sent, "a")
        await fake_telegram.wait_for("answerCallbackQuery")
        await fake_telegram.wait_for("editMessageText")
    assert fake_telegram.last_sent(CHAT)["text"] == "chose a"
    fake_telegram.assert_no_errors()


async def test_wait_for_times_out_with_context(fake_telegram: FakeTelegram) -> None:
    with pytest.raises(WaitTimeout, match=r"no call sendMessage"):
        await fake_telegram.wait_for("sendMessage", timeout=0.1)


# ------------------------------------------------------------------------------------ files


async def test_file_download(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    payload = bytes(range(256)) * 40
    update = fake_telegram.send_document(payload, "paper.pdf", "application/pdf", caption="read")
    document = update["message"]["document"]
    assert document["file_size"] == len(payload) and document["file_name"] == "paper.pdf"
    tg_file = await bot.get_file(document["file_id"])
    assert tg_file.file_size == len(payload)
    assert bytes(await tg_file.download_as_bytearray()) == payload
    assert fake_telegram.downloads == [fake_telegram.files[document["file_id"]].file_path]
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_file_over_20_mb_refused(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    exact = fake_telegram.register_file(b"\0" * MAX_DOWNLOAD_FILE_SIZE, file_name="max.bin")
    assert (await bot.get_file(exact.file_id)).file_size == 20 << 20
    big = fake_telegram.register_file(b"\0" * (MAX_DOWNLOAD_FILE_SIZE + 1), file_name="big.bin")
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big.file_id)
    assert fake_telegram.errors[-1].description == "Bad Request: file is too big"


async def test_send_document_upload(fake_telegram: FakeTelegram, bot: ExtBot[None]) -> None:
    message = await bot.send_document(
        CHAT, b"%PDF-1.4 fake", filename="cite.pdf", caption="<i>paper</i>", parse_mode="HTML"
    )
    assert message.document is not None and message.caption == "paper"
    stored = fake_telegram.files[message.document.file_id]
    assert stored.data == b"%PDF-1.4 fake" and stored.file_name == "cite.pdf"
    assert message.caption_entities[0].type == "italic"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(CHAT, b"x", filename="a.txt", caption="c" * 1025)


# ------------------------------------------------------------------------------------ webhook


async def test_webhook_secret_and_conflict(fake_telegram: FakeTelegram) -> None:
    port = _free_port()
    hook = f"http://127.0.0.1:{port}/hook"
    app: Application = _builder(fake_telegram).build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=hook, secret_token="s3cret"
        )
        try:
            assert fake_telegram.webhook_url == hook
            assert fake_telegram.webhook_secret == "s3cret"
            # Updates are pushed to the webhook with the secret, as Telegram does.
            fake_telegram.send_message("pushed")
            call = await fake_telegram.wait_for("sendMessage")
            assert call.result["text"] == "pushed"

            update = fake_telegram.build_message_update("forged")
            assert await fake_telegram.post_webhook_update(update, secret="wrong") == 403
            assert await fake_telegram.post_webhook_update(update, secret=None) == 403
            await fake_telegram.assert_no_call("sendMessage", within=0.2)
            assert await fake_telegram.post_webhook_update(update) == 200
            assert (await fake_telegram.wait_for("sendMessage")).result["text"] == "forged"

            # getUpdates while a webhook is set is a conflict.
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await app.bot.get_updates()
            info = await app.bot.get_webhook_info()
            assert info.url == hook and info.pending_update_count == 0
        finally:
            await app.updater.stop()
            await app.stop()
    assert [e.method for e in fake_telegram.errors] == ["getUpdates"]


class _Backend:
    """A bare webhook endpoint: records arrivals, answers when the test lets it."""

    def __init__(self) -> None:
        self.arrived: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._post)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = _free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"

    async def _post(self, request: web.Request) -> web.Response:
        update_id = (await request.json())["update_id"]
        self.arrived.append(update_id)
        gate = self.gates.get(update_id)
        if gate is not None:
            await gate.wait()
        return web.Response()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def _set_webhook(fake: FakeTelegram, url: str, **params: object) -> None:
    async with ExtBot(**fake.bot_kwargs()) as bot:
        await bot.set_webhook(url, **params)  # type: ignore[arg-type]


async def test_webhook_delivery_is_concurrent_across_chats_and_ordered_within_one(
    fake_telegram: FakeTelegram,
) -> None:
    backend = _Backend()
    await backend.start()
    try:
        await _set_webhook(fake_telegram, backend.url, max_connections=2)
        first = fake_telegram.send_message("one", user_id=1)["update_id"]
        backend.gates[first] = asyncio.Event()
        second = fake_telegram.send_message("two", user_id=1)["update_id"]
        other = fake_telegram.send_message("other chat", user_id=2)["update_id"]
        third = fake_telegram.send_message("third chat", user_id=3)["update_id"]
        # Chat 1's second update waits for its first; chat 2's goes meanwhile; with two
        # connections in use (one held), chat 3's waits for a free one.
        await fake_telegram.wait_until(lambda: other in backend.arrived)
        assert second not in backend.arrived
        backend.gates[first].set()
        await fake_telegram.wait_until(lambda: not fake_telegram.pending_updates)
        assert backend.arrived.index(first) < backend.arrived.index(second)
        assert set(backend.arrived) == {first, second, other, third}
    finally:
        await backend.stop()


async def test_balance_delivers_in_turn_and_retries_on_the_next(
    fake_telegram: FakeTelegram,
) -> None:
    backends = [_Backend(), _Backend()]
    for backend in backends:
        await backend.start()
    try:
        await _set_webhook(fake_telegram, "https://bot.example.org/hook")
        dead = f"http://127.0.0.1:{_free_port()}/hook"
        fake_telegram.balance([backends[0].url, dead, backends[1].url])
        ids = [fake_telegram.send_message(f"m{i}", user_id=i + 1)["update_id"] for i in range(3)]
        await fake_telegram.wait_until(lambda: not fake_telegram.pending_updates)
        delivered = {d.update_id: d for d in fake_telegram.webhook_deliveries if d.status == 200}
        assert set(delivered) == set(ids)
        refused = [d for d in fake_telegram.webhook_deliveries if d.status is None]
        assert refused and all(d.url == dead for d in refused)
        assert backends[0].arrived and backends[1].arrived
    finally:
        for backend in backends:
            await backend.stop()


async def test_a_hold_keeps_calls_unexecuted_until_released(
    fake_telegram: FakeTelegram, bot: ExtBot[None]
) -> None:
    hold = fake_telegram.hold(lambda c: c.method == "sendMessage", limit=1)
    sending = asyncio.ensure_future(bot.send_message(CHAT, "held"))
    held = await hold.wait_held()
    assert fake_telegram.sent_messages(CHAT) == [] and not sending.done()
    assert (await bot.send_message(CHAT, "past the limit")).text == "past the limit"
    hold.release()
    assert (await sending).text == "held" and held.ok


# ------------------------------------------------------------------------------------ helpers


async def test_auto_entities_of_user_messages(fake_telegram: FakeTelegram) -> None:
    message = fake_telegram.send_message(
        f"/ask@{BOT_USERNAME} see https://doi.org/10.1000/182, ask @someone_else"
    )["message"]
    kinds = [(e["type"], e["offset"], e["length"]) for e in message["entities"]]
    assert kinds == [("bot_command", 0, 21), ("url", 26, 27), ("mention", 59, 13)]
    assert parse_html("<b>x</b>")[1] == [{"type": "bold", "offset": 0, "length": 1}]


async def test_privacy_mode_filters_group_chatter() -> None:
    async with FakeTelegram(privacy_mode=True) as fake:
        fake.send_message("just chatting", chat_type="group")
        fake.send_message("/ask@other_bot", chat_type="group")
        command = fake.send_message(f"/ask@{BOT_USERNAME} x", chat_type="group")
        mention = fake.send_message(f"😀 hey @{BOT_USERNAME}", chat_type="group")
        assert [u["update_id"] for u in fake.pending_updates] == [
            command["update_id"],
            mention["update_id"],
        ]
        assert fake.token == TOKEN
