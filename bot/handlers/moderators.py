"""Handlers for moderators: add documents by upload or link, remove, inspect, manage roles.

Moderator commands work only in a private chat. Everyone else gets a polite refusal and nothing
changes. A change is acknowledged only after it is durable (committed and indexed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, FileSizeLimit, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import render
from bot.handlers.readers import lang, sources_page
from bot.handlers.updates import MissingPart, callback_of, chat_of, message_of, user_of
from bot.i18n import reason, t
from bot.menus import hide_moderator_menu, show_moderator_menu
from bot.roles import is_moderator, is_owner, settings_of
from bot.runtime import Runtime, runtime
from corpus.errors import CorpusError, DocumentError, FetchError, SourceNotFound
from corpus.loaders import KNOWN_FIELDS, MAX_FILE_BYTES, Document
from corpus.models import Source
from retrieval.errors import IndexMismatch, ModelUnavailable
from retrieval.indexer import IngestResult, Status

log = logging.getLogger(__name__)

_FIELD_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.+?)\s*$")
#: Telegram lets bots download at most this much.
DOWNLOAD_LIMIT = min(FileSizeLimit.FILESIZE_DOWNLOAD, MAX_FILE_BYTES)
#: Seconds a document waits for its missing metadata (any replica may receive the reply).
PENDING_SECONDS = 24 * 3600.0
#: Seconds a /remove confirmation button stays valid; it works once.
CONFIRM_SECONDS = 600.0


@dataclass
class Pending:
    """A document waiting for metadata the moderator must give (nothing is guessed)."""

    data: bytes
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """One line of JSON (name, metadata, missing fields), then the file's bytes."""
        head = {"name": self.name, "metadata": self.metadata, "missing": list(self.missing)}
        return json.dumps(head, ensure_ascii=False).encode() + b"\n" + self.data

    @classmethod
    def decode(cls, value: bytes) -> Pending:
        """What ``encode`` wrote."""
        head, _, data = value.partition(b"\n")
        fields = json.loads(head)
        return cls(data, fields["name"], fields["metadata"], tuple(fields["missing"]))


async def _pending(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> Pending | None:
    found = await runtime(context).shared.get("pending", str(chat_id))
    return None if found is None else Pending.decode(found)


def parse_fields(text: str) -> dict[str, Any]:
    """``key: value`` lines (title, published, url, publisher, language, cites) of a caption."""
    fields: dict[str, Any] = {}
    for line in (text or "").splitlines():
        match = _FIELD_LINE.match(line)
        if match and match.group(1).lower() in KNOWN_FIELDS:
            key, value = match.group(1).lower(), match.group(2)
            fields[key] = [c.strip() for c in value.split(";")] if key == "cites" else value
    return fields


async def _allowed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, owner: bool = False
) -> bool:
    """Refuse politely unless a moderator (or the owner) writes in a private chat."""
    message = message_of(update)
    user = update.effective_user
    language = lang(update)
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_text(t(language, "private_only"), do_quote=True)
        return False
    permitted = user is not None and (
        is_owner(context, user.id) if owner else await is_moderator(context, user.id)
    )
    if not permitted:
        await message.reply_text(t(language, "owner_only" if owner else "mod_only"))
    return permitted


def _actor(update: Update) -> str:
    return f"telegram:{user_of(update).id}"


# -- adding ------------------------------------------------------------------------------------


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file sent in a private chat: a moderator adds it to the corpus."""
    if not await _allowed(update, context):
        return
    message = message_of(update)
    document = message.document
    if document is None:  # the handler's filter (filters.Document.ALL) guarantees one
        raise MissingPart("the message has no document")
    language = lang(update)
    name = document.file_name or "document"
    if (document.file_size or 0) > DOWNLOAD_LIMIT:
        await message.reply_text(t(language, "too_big"))
        return
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    await _try_ingest(update, context, Pending(data, name, parse_fields(message.caption or "")))


async def add_url(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add URL (metadata lines may follow): fetch the page and add it."""
    if not await _allowed(update, context):
        return
    message = message_of(update)
    language = lang(update)
    text = (message.text or "").split(None, 1)
    rest = text[1] if len(text) > 1 else ""
    url = rest.split()[0] if rest.split() else ""
    if not url:
        await message.reply_text(t(language, "add_usage"))
        return
    try:
        fetched, metadata = await runtime(context).services.fetch_link(url, parse_fields(rest))
    except FetchError as exc:
        await message.reply_text(t(language, "fetch_error", problem=reason(language, exc)))
        return
    await _try_ingest(update, context, Pending(fetched.data, fetched.name, metadata))


async def pending_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A moderator's reply that completes a document waiting for metadata."""
    user = update.effective_user
    pending = await _pending(context, chat_of(update).id)
    if pending is None or user is None or not await is_moderator(context, user.id):
        return
    text = message_of(update).text or ""
    fields = parse_fields(text)
    missing = pending.missing
    if not fields and len(missing) == 1:
        fields = {missing[0]: text.strip()}
    pending.metadata.update(fields)
    await _try_ingest(update, context, pending)
    # The reply was consumed here; it is not also a question.
    raise ApplicationHandlerStop


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: drop a document waiting for metadata."""
    had = await runtime(context).shared.take("pending", str(chat_of(update).id))
    key = "cancelled" if had else "nothing_pending"
    await message_of(update).reply_text(t(lang(update), key))


async def _try_ingest(update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending) -> None:
    message = message_of(update)
    language = lang(update)
    rt = runtime(context)
    shared = rt.shared
    chat = str(message.chat.id)
    try:
        document = await asyncio.to_thread(
            rt.services.load, pending.data, pending.name, pending.metadata
        )
    except DocumentError as exc:
        if exc.missing:
            pending.missing = exc.missing
            await shared.put("pending", chat, pending.encode(), ttl=PENDING_SECONDS)
            await message.reply_html(
                t(
                    language,
                    "ask_field",
                    name=render.esc(pending.name),
                    fields=", ".join(f"<code>{f}</code>" for f in exc.missing),
                )
            )
            return
        await shared.delete("pending", chat)
        await _refuse(message, language, pending.name, reason(language, exc))
        return
    await shared.delete("pending", chat)
    await message.reply_text(t(language, "working", name=pending.name))
    await message.chat.send_action("typing")
    try:
        # Committed, indexed, swapped in and every cache of the old corpus dropped.
        [result] = await asyncio.to_thread(rt.services.ingest, [document], actor=_actor(update))
    except CorpusError as exc:  # too many passages, a busy database: refused before any write
        await _refuse(message, language, pending.name, reason(language, exc))
        return
    except (IndexMismatch, ModelUnavailable) as exc:  # raised before anything is written
        await _refuse(message, language, pending.name, str(exc))
        return
    await message.reply_html(await _confirmation(rt, result, document, language))


async def _refuse(message: Any, language: str, name: str, problem: str) -> None:
    await message.reply_text(
        t(language, "doc_error", name=render.shorten(name, 100), problem=problem)
    )


async def _confirmation(
    rt: Runtime, result: IngestResult, document: Document, language: str
) -> str:
    source = result.source
    values = {
        "title": render.esc(source.title),
        "date": source.published,
        "passages": source.passage_count,
    }
    key = {Status.ADDED: "added", Status.REPLACED: "replaced", Status.UNCHANGED: "unchanged"}
    lines = [t(language, key[result.status], **values)]
    question = await asyncio.to_thread(_sample_question, rt, source, document)
    if question:
        lines.append(t(language, "sample", question=render.esc(question)))
    return "\n".join(lines)


def _sample_question(rt: Runtime, source: Source, document: Document) -> str | None:
    """A question the corpus now answers from this source, checked by actually asking it."""
    candidates = [source.title]
    passages = [p for p in document.text.split("\n") if p.strip()]
    for paragraph in passages[:5]:
        if any(c.isdigit() for c in paragraph):
            candidates.append(render.shorten(paragraph.split(". ")[0], 160))
            break
    if passages:
        candidates.append(render.shorten(passages[0].split(". ")[0], 160))
    for candidate in candidates:
        answer = rt.services.ask(candidate, k=1)
        if answer.answered and answer.hits[0].source.id == source.id:
            return candidate
    return None


# -- removing ----------------------------------------------------------------------------------


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove SOURCE_ID: ask for confirmation with buttons."""
    if not await _allowed(update, context):
        return
    language = lang(update)
    if not context.args:
        await message_of(update).reply_text(t(language, "remove_usage"))
        return
    source_id = context.args[0].strip()
    try:
        source = await asyncio.to_thread(runtime(context).services.source, source_id)
    except SourceNotFound:
        await message_of(update).reply_text(t(language, "unknown_source", id=source_id[:64]))
        return
    # A one-shot token, valid on every replica: pressed twice (or on two replicas at once),
    # the removal still happens once.
    token = secrets.token_hex(8)
    await runtime(context).shared.put("confirm", token, source.id.encode(), ttl=CONFIRM_SECONDS)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(language, "remove_yes"), callback_data=f"rm:{token}"),
                InlineKeyboardButton(t(language, "remove_no"), callback_data=f"rmx:{token}"),
            ]
        ]
    )
    await message_of(update).reply_html(
        t(
            language,
            "remove_confirm",
            title=render.esc(source.title),
            date=source.published,
            passages=source.passage_count,
        ),
        reply_markup=keyboard,
    )


async def remove_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation buttons of /remove."""
    query, data = callback_of(update)
    language = lang(update)
    if not await is_moderator(context, user_of(update).id):
        await query.answer(t(language, "mod_only"), show_alert=True)
        return
    action, token = data.split(":", 1)
    rt = runtime(context)
    confirmed = await rt.shared.take("confirm", token)
    if confirmed is None:
        await query.answer(t(language, "remove_expired"), show_alert=True)
        return
    source_id = confirmed.decode()
    await query.answer()
    if action == "rmx":
        await query.edit_message_text(t(language, "remove_cancelled"))
        return
    try:
        # Acknowledged only once it is gone from every index, cache and file (see Services).
        source = await asyncio.to_thread(rt.services.remove, source_id, actor=_actor(update))
    except SourceNotFound:
        await query.edit_message_text(t(language, "unknown_source", id=source_id))
        return
    except CorpusError as exc:
        await query.edit_message_text(t(language, "remove_failed", problem=reason(language, exc)))
        return
    await query.edit_message_text(
        t(language, "removed", title=render.esc(source.title)), parse_mode=ParseMode.HTML
    )


# -- inspecting --------------------------------------------------------------------------------


async def sources_for_moderators(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources for moderators in private chats: the same list, with ids."""
    user = update.effective_user
    private = chat_of(update).type == ChatType.PRIVATE
    if not (private and user and await is_moderator(context, user.id)):
        return
    sources = await asyncio.to_thread(runtime(context).services.sources)
    text, keyboard = sources_page(sources, lang(update), 0, show_ids=True)
    await message_of(update).reply_html(text, reply_markup=keyboard)
    raise ApplicationHandlerStop


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/history: the latest changes, what, when and by whom."""
    if not await _allowed(update, context):
        return
    language = lang(update)
    entries = await asyncio.to_thread(runtime(context).services.history, 15)
    if not entries:
        await message_of(update).reply_text(t(language, "history_empty"))
        return
    lines = [t(language, "history_title")]
    for e in entries:
        what = render.esc(e.detail)
        source = f" <code>{e.source_id}</code>" if e.source_id else ""
        lines.append(f"{e.at[:16].replace('T', ' ')} · {e.action} · {what}{source} · {e.actor}")
    await message_of(update).reply_html("\n".join(lines))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: questions per day, share answered, feedback per source (no personal data)."""
    if not await _allowed(update, context):
        return
    language = lang(update)
    services = runtime(context).services
    days = await asyncio.to_thread(services.daily_questions, 14)
    votes = await asyncio.to_thread(services.feedback_by_source)
    lines = [t(language, "stats_title", days=len(days))] if days else [t(language, "stats_none")]
    for day, asked, answered in days:
        share = round(100 * answered / asked) if asked else 0
        lines.append(t(language, "stats_day", day=day, asked=asked, share=share))
    lines.append("")
    lines.append(t(language, "stats_feedback") if votes else t(language, "stats_no_feedback"))
    for _, title, up, down in votes[:20]:
        lines.append(f"{render.esc(render.shorten(title, 60))}: {up} / {down}")
    await message_of(update).reply_html("\n".join(lines))


# -- roles -------------------------------------------------------------------------------------


async def mod(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mod add ID, /mod remove ID, /mod list (the owner only)."""
    if not await _allowed(update, context, owner=True):
        return
    language = lang(update)
    message = message_of(update)
    args = context.args or []
    services = runtime(context).services
    settings = settings_of(context)
    if args[:1] == ["list"]:
        stored = await asyncio.to_thread(services.moderators)
        lines = [f"{m} ({t(language, 'mod_from_settings')})" for m in sorted(settings.moderators)]
        lines += [f"{m} ({t(language, 'mod_from_chat')})" for m in stored]
        await message.reply_html(t(language, "mod_list", lines="\n".join(lines) or "—"))
        return
    if len(args) != 2 or args[0] not in ("add", "remove") or not args[1].isdigit():
        await message.reply_text(t(language, "mod_usage"))
        return
    user_id = int(args[1])
    if args[0] == "add":
        done = await asyncio.to_thread(services.add_moderator, user_id, actor=_actor(update))
        await show_moderator_menu(context.bot, user_id)
        await message.reply_text(t(language, "mod_added" if done else "mod_exists", id=user_id))
    else:
        done = await asyncio.to_thread(services.remove_moderator, user_id, actor=_actor(update))
        if done and user_id not in settings.moderators:
            await hide_moderator_menu(context.bot, user_id)
        await message.reply_text(t(language, "mod_removed" if done else "mod_not", id=user_id))
