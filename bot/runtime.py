"""What the running bot holds between updates: services, caches and the flood guard.

Created in ``post_init`` and closed in ``post_shutdown``; handlers reach it through
``runtime(context)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cachetools import TTLCache
from telegram.ext import ContextTypes

from bot.flood import FloodGuard
from bot.services import Services
from corpus.models import Answer, Hit

log = logging.getLogger(__name__)

#: How many passages one answer keeps for "More" paging.
MAX_HITS = 9
#: How many passages an inline query pages through.
INLINE_HITS = 30
#: How often the bot looks for a newer corpus (seconds); a change is live within this.
WATCH_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class Kept:
    """An answer kept for paging: only its hits and interface language, never who asked."""

    hits: tuple[Hit, ...]
    language: str


@dataclass
class Runtime:
    """The bot's long-lived state."""

    services: Services
    flood: FloodGuard = field(default_factory=FloodGuard)
    # Kept an hour for "More"; an older button answers "expired, ask again".
    answers: TTLCache[str, Kept] = field(default_factory=lambda: TTLCache(maxsize=5_000, ttl=3_600))
    # Inline queries arrive as people type: compute once per text, briefly.
    inline: TTLCache[str, Answer] = field(default_factory=lambda: TTLCache(maxsize=2_000, ttl=60))
    # Inline queries arrive as people type and must be answered fast: their searches get their
    # own threads instead of queueing behind private questions.
    inline_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="inline")
    )
    # Questions are CPU-bound: one thread per core; more only fight over the cores and the GIL.
    question_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="question"
        )
    )
    _watch: asyncio.Task[None] | None = None
    # Inline searches in flight by text: people typing the same words share one search.
    _pending: dict[str, asyncio.Future[Answer]] = field(default_factory=dict)
    _generation: int = 0

    def keep(self, answer: Answer, language: str) -> str:
        """Keep an answer's hits for paging; return the short key for callback data."""
        key = secrets.token_urlsafe(6)
        self.answers[key] = Kept(hits=answer.hits, language=language)
        return key

    async def ask(self, text: str) -> Answer:
        """The answer to a question (chat, group), searched on the questions' threads."""
        return await self.services.library.asearch(text, k=MAX_HITS, executor=self.question_pool)

    async def ask_inline(self, text: str) -> Answer:
        """The answer to an inline query: cached briefly, one search per text at a time."""
        cached = self.inline.get(text)
        if cached is not None:
            return cached
        pending = self._pending.get(text)
        if pending is None:
            pending = asyncio.ensure_future(
                self.services.library.asearch(text, k=INLINE_HITS, executor=self.inline_pool)
            )
            self._pending[text] = pending
            generation = self._generation
            pending.add_done_callback(lambda done: self._searched(text, done, generation))
        # Shielded: one asker giving up must not cancel the search the others wait for.
        return await asyncio.shield(pending)

    def _searched(self, text: str, done: asyncio.Future[Answer], generation: int) -> None:
        self._pending.pop(text, None)
        # Not cached if it failed, or if the corpus changed while it ran.
        if not done.cancelled() and done.exception() is None and generation == self._generation:
            self.inline[text] = done.result()

    def start_watching(self) -> None:
        """Swap in newer index builds as they are published (by us or another process)."""
        self._watch = asyncio.create_task(self._watch_loop(), name="citebot-index-watch")

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                if await asyncio.to_thread(self.services.refresh):
                    self._generation += 1
                    self.inline.clear()
                    log.info("switched to a new corpus version")
            except Exception:  # keep watching: the next build may be fine
                log.exception("could not load the newest index build")

    async def close(self) -> None:
        """Stop watching and release the database."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        self.inline_pool.shutdown(wait=True)
        self.question_pool.shutdown(wait=True)
        self.services.close()


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The runtime of the application handling this update."""
    return context.application.bot_data["runtime"]
