"""The parts of an update a handler relies on, never None for the updates it is registered for.

python-telegram-bot types ``update.effective_message``, ``update.effective_chat`` and the like
as Optional, since a generic update may lack them. Each handler's filter guarantees them (a
MessageHandler or CommandHandler sees a message, a CallbackQueryHandler a query with data, an
InlineQueryHandler an inline query); these helpers say so to the type checker. Should one be
missing all the same, they raise, as reading an attribute of None would have, and the error
handler answers the user.
"""

from __future__ import annotations

from telegram import CallbackQuery, Chat, InlineQuery, Message, Update, User


class MissingPart(LookupError):
    """The update lacks what its handler's filter should have guaranteed."""


def message_of(update: Update) -> Message:
    """The update's message (commands, text, documents)."""
    message = update.effective_message
    if message is None:
        raise MissingPart("the update has no message")
    return message


def chat_of(update: Update) -> Chat:
    """The chat the update comes from."""
    chat = update.effective_chat
    if chat is None:
        raise MissingPart("the update has no chat")
    return chat


def user_of(update: Update) -> User:
    """The user behind the update."""
    user = update.effective_user
    if user is None:
        raise MissingPart("the update has no user")
    return user


def callback_of(update: Update) -> tuple[CallbackQuery, str]:
    """The button press and its data (every button of ours carries callback data)."""
    query = update.callback_query
    if query is None or query.data is None:
        raise MissingPart("the update has no callback query with data")
    return query, query.data


def inline_of(update: Update) -> InlineQuery:
    """The inline query."""
    query = update.inline_query
    if query is None:
        raise MissingPart("the update has no inline query")
    return query
