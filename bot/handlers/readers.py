"""Handlers for readers: questions in private chats, groups and inline mode; the info commands."""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, InlineQueryLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import render
from bot.handlers.updates import callback_of, chat_of, inline_of, message_of
from bot.i18n import language_of, t
from bot.menus import MODERATOR_COMMANDS, show_moderator_menu
from bot.roles import is_moderator, is_owner
from bot.runtime import INLINE_CACHE_TIME, CorpusChanged, runtime
from corpus.models import Hit
from retrieval.errors import QuestionRejected

log = logging.getLogger(__name__)

#: Sources listed per page of /sources.
SOURCES_PER_PAGE = 10
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def lang(update: Update) -> str:
    """The interface language of the user behind this update."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def send_html(
    message: Message,
    html: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    quote: bool = False,
) -> Message:
    """Reply in HTML; if Telegram still refuses the markup, resend it as plain text."""
    try:
        return await message.reply_html(
            html, reply_markup=keyboard, do_quote=quote, link_preview_options=_NO_PREVIEW
        )
    except BadRequest as exc:
        if "can't parse entities" not in str(exc).lower():
            raise
        log.error("Telegram refused our HTML, sent as plain text: %s", exc)
        return await message.reply_text(render.plain(html), reply_markup=keyboard, do_quote=quote)


# -- asking ------------------------------------------------------------------------------------


def answer_keyboard(
    hits: tuple[Hit, ...], page: render.Page, key: str | None, language: str
) -> InlineKeyboardMarkup | None:
    """Feedback on the page's first passage, and "More" while passages remain."""
    if not page.count:
        return None
    first = hits[page.first].passage.id
    rows = [
        [
            InlineKeyboardButton(t(language, "useful"), callback_data=f"v:{first}:1"),
            InlineKeyboardButton(t(language, "not_useful"), callback_data=f"v:{first}:0"),
        ]
    ]
    following = page.first + page.count
    if key is not None and following < len(hits):
        rows.append(
            [InlineKeyboardButton(t(language, "more"), callback_data=f"m:{key}:{following}")]
        )
    return InlineKeyboardMarkup(rows)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Answer ``text`` as a reply to the update's message."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    language = lang(update)
    group = message.chat.type != ChatType.PRIVATE
    rt = runtime(context)
    if user is not None and not await rt.flood.allow(user.id):
        await message.reply_text(t(language, "slow_down"), do_quote=group)
        return
    # No "typing" action: answers take tens of milliseconds, and every call to a chat counts
    # against Telegram's 30 messages/s (it halved throughput under load, bench/telegram_load.py).
    try:
        asked = await rt.ask(text)
    except QuestionRejected:
        await message.reply_text(t(language, "ask_usage"), do_quote=group)
        return
    answer = asked.answer
    if not answer.answered:
        await send_html(message, render.no_answer(answer, language), quote=group)
    else:
        page = render.answer_page(
            answer.hits, language, earlier=answer.earlier, differs=answer.differs
        )
        key = await rt.keep(asked, language) if page.count < len(answer.hits) else None
        await send_html(
            message,
            page.html,
            keyboard=answer_keyboard(answer.hits, page, key, language),
            quote=group,
        )
    # Counted after replying, in the background (a durable write costs an fsync, and the
    # update is done once answered): only the day and the outcome.
    rt.count_question(answered=answer.answered)


async def private_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    await answer_question(update, context, message_of(update).text or "")


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask question (also /ask@ourbot): answer it, or explain how to ask."""
    question = " ".join(context.args or [])
    if not question.strip():
        await message_of(update).reply_text(
            t(lang(update), "ask_usage"),
            do_quote=chat_of(update).type != ChatType.PRIVATE,
        )
        return
    await answer_question(update, context, question)


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot or reply to it; ignore chatter."""
    message = update.effective_message
    if message is None or not message.text:
        return
    me = context.bot
    replying_to_us = (
        message.reply_to_message is not None
        and message.reply_to_message.from_user is not None
        and message.reply_to_message.from_user.id == me.id
    )
    mention = f"@{me.username}".lower()
    mentions = [
        e
        for e in message.entities
        if e.type == MessageEntity.MENTION and message.parse_entity(e).lower() == mention
    ]
    if not mentions and not replying_to_us:
        return
    text = message.text
    # Cut from the end so earlier offsets stay valid.
    for entity in sorted(mentions, key=lambda e: e.offset, reverse=True):
        text = _cut(text, entity)
    await answer_question(update, context, text)


def _cut(text: str, entity: MessageEntity) -> str:
    """``text`` without one entity (offsets are in UTF-16 code units, as Telegram counts)."""
    encoded = text.encode("utf-16-le")
    start, end = entity.offset * 2, (entity.offset + entity.length) * 2
    return (encoded[:start] + encoded[end:]).decode("utf-16-le")


async def more_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "More": show the next passages of a kept answer by editing the message."""
    query, data = callback_of(update)
    _, key, start = data.split(":")
    try:
        kept = await runtime(context).kept(key)
    except CorpusChanged:
        # It may quote a source removed since: never shown again.
        await query.answer(t(lang(update), "changed"), show_alert=True)
        return
    if kept is None:
        await query.answer(t(lang(update), "expired"), show_alert=True)
        return
    page = render.answer_page(kept.hits, kept.language, start=int(start))
    await query.answer()
    if not page.count:
        return
    await query.edit_message_text(
        page.html,
        parse_mode=ParseMode.HTML,
        reply_markup=answer_keyboard(kept.hits, page, key, kept.language),
        link_preview_options=_NO_PREVIEW,
    )


async def vote_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record an anonymous useful/not-useful vote and take the vote buttons away."""
    query, data = callback_of(update)
    _, passage_id, vote = data.split(":")
    services = runtime(context).services
    await asyncio.to_thread(services.record_feedback, int(passage_id), 1 if vote == "1" else -1)
    await query.answer(t(lang(update), "thanks"))
    # An inaccessible (deleted or too old) message has no markup to edit.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    if markup is not None:
        rows = [
            [
                b
                for b in row
                if not (isinstance(b.callback_data, str) and b.callback_data.startswith("v:"))
            ]
            for row in markup.inline_keyboard
        ]
        rows = [row for row in rows if row]
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)


# -- inline mode -------------------------------------------------------------------------------


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot query: up to 10 cited passages per page, computed once per query text."""
    query = inline_of(update)
    language = lang(update)
    text = " ".join(query.query.split())
    username = context.bot.username
    if not text:
        help_result = InlineQueryResultArticle(
            id="help",
            title=t(language, "inline_help_title"),
            description=t(language, "inline_help_description", username=username),
            input_message_content=InputTextMessageContent(
                t(language, "inline_help_message", username=username), parse_mode=ParseMode.HTML
            ),
        )
        await query.answer([help_result], cache_time=300)
        return
    rt = runtime(context)
    user = update.effective_user
    if user is not None and not await rt.flood.allow(user.id):
        await query.answer([], cache_time=5)
        return
    answer = (await rt.ask_inline(text)).answer
    if not answer.answered:
        nothing = InlineQueryResultArticle(
            id="none",
            title=t(language, "inline_nothing_title"),
            description=t(language, "inline_nothing_description"),
            input_message_content=InputTextMessageContent(
                render.no_answer(answer, language), parse_mode=ParseMode.HTML
            ),
        )
        await query.answer([nothing], cache_time=30)
        return
    start = int(query.offset) if query.offset.isdigit() else 0
    per_page = min(render.INLINE_PER_PAGE, InlineQueryLimit.RESULTS)
    chunk = answer.hits[start : start + per_page]
    results = [
        InlineQueryResultArticle(
            id=str(hit.passage.id),
            title=render.inline_title(hit, language),
            description=render.inline_description(hit, language),
            input_message_content=InputTextMessageContent(
                render.inline_message(hit, language),
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
            ),
        )
        for hit in chunk
    ]
    following = start + per_page
    await query.answer(
        results,
        cache_time=INLINE_CACHE_TIME,
        next_offset=str(following) if following < len(answer.hits) else "",
    )


# -- information -------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot is and how to ask (a deep link "ask" invites a private question)."""
    language = lang(update)
    message = message_of(update)
    if message.chat.type != ChatType.PRIVATE:
        await help_command(update, context)
        return
    await _moderator_menu(update, context)
    if context.args and context.args[0] == "ask":
        await message.reply_html(t(language, "start_ask"))
        return
    me = context.bot
    await message.reply_html(
        t(language, "start", bot_name=render.esc(me.first_name), username=me.username)
    )


async def _moderator_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """For a moderator in their private chat: set their command menu; whether they are one."""
    # Telegram knows a moderator's chat only once they write: their menu can be set now.
    user = update.effective_user
    if chat_of(update).type != ChatType.PRIVATE or user is None:
        return False
    if not await is_moderator(context, user.id):
        return False
    await show_moderator_menu(context.bot, user.id, owner=is_owner(context, user.id))
    return True


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask and read answers; in groups, a button to ask privately."""
    language = lang(update)
    message = message_of(update)
    keyboard = None
    if message.chat.type != ChatType.PRIVATE:
        link = f"https://t.me/{context.bot.username}?start=ask"
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(language, "ask_privately"), url=link)]]
        )
    text = t(language, "help", username=context.bot.username)
    if await _moderator_menu(update, context):
        text += "\n\n" + "\n".join(f"/{c}: {t(language, f'cmd_{c}')}" for c in MODERATOR_COMMANDS)
    await message.reply_html(
        text, reply_markup=keyboard, do_quote=message.chat.type != ChatType.PRIVATE
    )


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/about: corpus size, last update, how answers are chosen."""
    stats = await asyncio.to_thread(runtime(context).services.stats)
    updated = (stats.updated_at or "—")[:10]
    await message_of(update).reply_html(
        t(lang(update), "about", sources=stats.sources, passages=stats.passages, updated=updated)
    )


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what is stored and what is not (replicas keep the flood guard in PostgreSQL)."""
    shared = runtime(context).services.engine == "postgresql"
    await message_of(update).reply_html(t(lang(update), "privacy_shared" if shared else "privacy"))


def sources_page(
    sources: list, language: str, page: int, *, show_ids: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the source list and its navigation buttons."""
    if not sources:
        return t(language, "sources_empty"), None
    pages = max(1, -(-len(sources) // SOURCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    lines = [t(language, "sources_title", count=len(sources))]
    for source in sources[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]:
        title = render.esc(source.title)
        if source.url:
            title = f'<a href="{render.esc(source.url)}">{title}</a>'
        extra = f" · {render.esc(source.publisher)}" if source.publisher else ""
        ident = f" · <code>{source.id}</code>" if show_ids else ""
        lines.append(f"• {title}{extra} · {render.esc(source.published)}{ident}")
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(t(language, "previous"), callback_data=f"s:{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton(t(language, "next"), callback_data=f"s:{page + 1}"))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


async def sources_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the documents answers come from, with their dates."""
    sources = await asyncio.to_thread(runtime(context).services.sources)
    text, keyboard = sources_page(sources, lang(update), 0, show_ids=False)
    await message_of(update).reply_html(
        text, reply_markup=keyboard, link_preview_options=_NO_PREVIEW
    )


async def sources_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Page through /sources."""
    query, data = callback_of(update)
    page = int(data.split(":")[1])
    sources = await asyncio.to_thread(runtime(context).services.sources)
    text, keyboard = sources_page(sources, lang(update), page, show_ids=False)
    await query.answer()
    await query.edit_message_text(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard, link_preview_options=_NO_PREVIEW
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command in a private chat: point to /help."""
    await message_of(update).reply_text(t(lang(update), "unknown_command"))
