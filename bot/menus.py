"""The command menus: everyone's, and the moderators' own, in English, Russian and Belarusian.

Telegram shows a chat's menu from the most specific scope it has, so a moderator's private chat
gets the readers' commands plus the moderators' (and the owner's ``/mod``). Telegram accepts a
chat's menu only once the user has written to the bot, so it is set when a moderator sends
/start or /help and when the owner adds them; Telegram keeps it across restarts.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, TelegramError

from bot.i18n import LANGUAGES, t

log = logging.getLogger(__name__)

COMMANDS = ("start", "help", "ask", "sources", "about", "privacy")
MODERATOR_COMMANDS = ("add", "remove", "history", "stats", "cancel")
OWNER_COMMANDS = ("mod",)


def _menu(language: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, t(language, f"cmd_{name}")) for name in names]


def _code(language: str) -> str | None:
    # English is the menu for every language we have no translation for.
    return None if language == "en" else language


async def register_commands(bot: Bot) -> None:
    """Everyone's menu, in each interface language."""
    for language in LANGUAGES:
        await bot.set_my_commands(_menu(language, COMMANDS), language_code=_code(language))


async def show_moderator_menu(bot: Bot, user_id: int, *, owner: bool = False) -> bool:
    """Give a moderator's private chat the moderator commands too.

    Returns False when Telegram does not know the chat yet (the moderator has not written to the
    bot); their next /start tries again.
    """
    names = COMMANDS + MODERATOR_COMMANDS + (OWNER_COMMANDS if owner else ())
    try:
        for language in LANGUAGES:
            await bot.set_my_commands(
                _menu(language, names),
                scope=BotCommandScopeChat(user_id),
                language_code=_code(language),
            )
    except BadRequest:
        return False
    except TelegramError:  # a convenience: never fail the update (or the start) over it
        log.warning("could not set a moderator's command menu", exc_info=True)
        return False
    return True


async def hide_moderator_menu(bot: Bot, user_id: int) -> None:
    """Back to everyone's menu in a former moderator's chat."""
    for language in LANGUAGES:
        try:
            await bot.delete_my_commands(
                scope=BotCommandScopeChat(user_id), language_code=_code(language)
            )
        except TelegramError:
            return
