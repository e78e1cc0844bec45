"""Who may change the corpus: the owner, moderators from the settings, moderators added in chat."""

from __future__ import annotations

import asyncio

from telegram.ext import ContextTypes

from bot.runtime import runtime
from bot.settings import Settings


def settings_of(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    """The running application's settings."""
    return context.application.bot_data["settings"]


def is_owner(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    """Whether ``user_id`` is CITEBOT_OWNER."""
    return settings_of(context).owner == user_id


async def is_moderator(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    """The owner, moderators from CITEBOT_MODERATORS, and moderators added with /mod."""
    settings = settings_of(context)
    if user_id == settings.owner or user_id in settings.moderators:
        return True
    stored = await asyncio.to_thread(runtime(context).services.moderators)
    return user_id in stored
