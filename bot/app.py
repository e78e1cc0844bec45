"""``build_application(settings)``: the Telegram application, its handlers and its lifecycle."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.handlers import moderators, readers
from bot.i18n import t
from bot.lanes import Lanes
from bot.menus import register_commands
from bot.runtime import Runtime
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)


def build_application(
    settings: Settings, *, services: Services | None = None, rate_limiter: bool = True
) -> Application:
    """The bot, wired: handlers, error handler, services created in ``post_init``.

    ``services`` lets tests share an already loaded model; ``rate_limiter`` paces and retries
    outgoing calls (PTB's ``AIORateLimiter``).
    """
    # Unparameterised: the bot's type (ExtBot[None] or ExtBot[rate limiter arguments]) depends
    # on ``rate_limiter``.
    builder: ApplicationBuilder = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        # Answers run in threads; handle updates concurrently so one slow answer blocks no chat,
        # and inline queries and buttons in a lane of their own, never behind questions.
        .concurrent_updates(
            Lanes(questions=settings.concurrent_updates, interactive=settings.concurrent_updates)
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if rate_limiter:
        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=settings.send_rate, max_retries=settings.send_retries)
        )
    application = builder.build()
    application.bot_data["settings"] = settings
    if services is not None:
        application.bot_data["services"] = services
    _add_handlers(application)
    return application


def _add_handlers(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # Group -1 runs first: a moderator's reply that completes a pending document, and /sources
    # with ids for moderators, stop there; for everyone else the readers' handlers run.
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, moderators.pending_reply), -1
    )
    app.add_handler(CommandHandler("sources", moderators.sources_for_moderators), -1)
    app.add_handler(MessageHandler(private & filters.Document.ALL, moderators.upload))
    app.add_handler(CommandHandler("add", moderators.add_url))
    app.add_handler(CommandHandler("remove", moderators.remove))
    app.add_handler(CommandHandler("history", moderators.history))
    app.add_handler(CommandHandler("stats", moderators.stats))
    app.add_handler(CommandHandler("mod", moderators.mod))
    app.add_handler(CommandHandler("cancel", moderators.cancel))
    app.add_handler(CallbackQueryHandler(moderators.remove_callback, pattern=r"^rmx?:[0-9a-f]+$"))
    app.add_handler(CommandHandler("start", readers.start))
    app.add_handler(CommandHandler("help", readers.help_command))
    app.add_handler(CommandHandler("ask", readers.ask_command))
    app.add_handler(CommandHandler("sources", readers.sources_command))
    app.add_handler(CommandHandler("about", readers.about))
    app.add_handler(CommandHandler("privacy", readers.privacy))
    app.add_handler(CallbackQueryHandler(readers.more_callback, pattern=r"^m:[\w-]+:\d+$"))
    app.add_handler(CallbackQueryHandler(readers.vote_callback, pattern=r"^v:\d+:[01]$"))
    app.add_handler(CallbackQueryHandler(readers.sources_callback, pattern=r"^s:\d+$"))
    app.add_handler(InlineQueryHandler(readers.inline_query))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, readers.private_question)
    )
    app.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, readers.group_message))
    app.add_handler(MessageHandler(private & filters.COMMAND, readers.unknown_command))
    app.add_error_handler(on_error)


async def _post_init(app: Application) -> None:
    settings: Settings = app.bot_data["settings"]
    services = app.bot_data.get("services") or Services(settings=settings)
    # Loading the model and the index takes seconds: do it before the first update arrives.
    await asyncio.to_thread(lambda: services.library)
    runtime = Runtime(services=services)
    app.bot_data["runtime"] = runtime
    await register_commands(app.bot)
    runtime.start_watching()
    log.info("citebot is ready: %d passages", services.stats().passages)


async def _post_shutdown(app: Application) -> None:
    runtime: Runtime | None = app.bot_data.get("runtime")
    if runtime is not None:
        await runtime.close()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error (never the update: it holds user text) and tell the user politely."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or isinstance(context.error, Forbidden):
        return
    language = readers.lang(update)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t(language, "error"), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(
                t(language, "error"),
                do_quote=update.effective_message.chat.type != ChatType.PRIVATE,
            )
    except Exception:  # the error reply itself failed; nothing more to do
        log.warning("could not tell the user about the error", exc_info=True)


def configure_logging(level: str) -> None:
    """Plain logs without user data; httpx would log every URL, and URLs contain the token."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
