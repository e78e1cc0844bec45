"""Two lanes for updates, so inline queries and button presses never queue behind questions.

PTB handles updates concurrently up to one limit, in arrival order. Under a burst of private
questions (each waiting its turn in the rate limiter for Telegram's 30 messages/s) an inline
query, which Telegram shows as people type, would wait for tens of seconds behind them
(bench/telegram_load.py). Here each lane has its own limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: PTB's own limit stays out of the way; the lanes below do the limiting.
_UNLIMITED = 1 << 30


def interactive(update: object) -> bool:
    """Whether an update is quick and someone is watching it: an inline query or a button."""
    return isinstance(update, Update) and (
        update.inline_query is not None or update.callback_query is not None
    )


class Lanes(BaseUpdateProcessor):
    """Questions and the like in one lane, inline queries and buttons in another."""

    __slots__ = ("_lanes", "_limits")

    def __init__(self, *, questions: int, interactive: int) -> None:
        super().__init__(max_concurrent_updates=_UNLIMITED)
        self._limits = (questions, interactive)
        self._lanes: tuple[asyncio.Semaphore, asyncio.Semaphore] | None = None

    async def initialize(self) -> None:
        """Create the lanes' semaphores (on the running event loop)."""
        self._lanes = tuple(asyncio.Semaphore(n) for n in self._limits)  # type: ignore[assignment]

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers within its lane's limit."""
        if self._lanes is None:
            await self.initialize()
        assert self._lanes is not None
        async with self._lanes[1 if interactive(update) else 0]:
            await coroutine
