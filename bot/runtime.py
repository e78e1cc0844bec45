"""What the running bot holds between updates: services, caches and the flood guard.

Created in ``post_init`` and closed in ``post_shutdown``; handlers reach it through
``runtime(context)``. What must survive a replica (answers kept for "More", the flood guard's
buckets) lives in the store's shared state: memory with SQLite, PostgreSQL with replicas; the
inline cache stays per process (a cache: each replica fills its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cachetools import TTLCache
from pydantic import TypeAdapter
from telegram.ext import ContextTypes

from bot.flood import FloodGuard
from bot.services import Services
from corpus.models import Answer, Hit
from corpus.stores.shared import SharedState

log = logging.getLogger(__name__)

#: How many passages one answer keeps for "More" paging.
MAX_HITS = 9
#: How many passages an inline query pages through.
INLINE_HITS = 30
#: How often the bot looks for a newer corpus (seconds); a change is live within this.
WATCH_INTERVAL = 1.0
#: Seconds an answer is kept for "More"; an older button answers "expired, ask again".
KEPT_SECONDS = 3600.0
#: How often expired shared state is deleted (seconds).
PURGE_INTERVAL = 60.0

_HITS = TypeAdapter(tuple[Hit, ...])


@dataclass(frozen=True, slots=True)
class Kept:
    """An answer kept for paging: only its hits and interface language, never who asked."""

    hits: tuple[Hit, ...]
    language: str


@dataclass
class Runtime:
    """The bot's long-lived state."""

    services: Services
    flood: FloodGuard = field(init=False)
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
    _purged: float = field(default_factory=time.monotonic)
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.flood = FloodGuard(self.shared)

    @property
    def shared(self) -> SharedState:
        """State every replica sees (this process's memory with SQLite)."""
        return self.services.store.shared

    async def keep(self, answer: Answer, language: str) -> str:
        """Keep an answer's hits for paging; return the short key for callback data."""
        key = secrets.token_urlsafe(6)
        value = {"language": language, "hits": _HITS.dump_python(answer.hits, mode="json")}
        await self.shared.put("kept", key, json.dumps(value).encode(), ttl=KEPT_SECONDS)
        return key

    def count_question(self, *, answered: bool) -> None:
        """Add a question to today's anonymous counts, without holding up the update."""
        task = asyncio.ensure_future(
            asyncio.to_thread(self.services.store.readers.count_question, answered=answered)
        )
        self._background.add(task)
        task.add_done_callback(self._counted)

    def _counted(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not count a question", exc_info=task.exception())

    async def kept(self, key: str) -> Kept | None:
        """The answer kept under ``key`` (by any replica), unless it expired."""
        found = await self.shared.get("kept", key)
        if found is None:
            return None
        value = json.loads(found)
        return Kept(hits=_HITS.validate_python(value["hits"]), language=value["language"])

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
                # With PostgreSQL a change made through another replica (or `citebot ingest`
                # elsewhere) shows as a newer corpus version: this replica builds its own
                # index from the stored passages and cached vectors, and swaps it in.
                if await asyncio.to_thread(self.services.refresh):
                    self._generation += 1
                    self.inline.clear()
                    log.info("switched to a new corpus version")
            except Exception:  # keep watching: the next build may be fine
                log.exception("could not load the newest index build")
            if time.monotonic() - self._purged > PURGE_INTERVAL:
                self._purged = time.monotonic()
                try:
                    await self.shared.purge()
                except Exception:  # the next purge will do
                    log.exception("could not purge expired shared state")

    async def close(self) -> None:
        """Stop watching and release the database (after the counts in flight)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._background:
            await asyncio.wait(self._background)
        self.inline_pool.shutdown(wait=True)
        self.question_pool.shutdown(wait=True)
        self.services.close()


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The runtime of the application handling this update."""
    return context.application.bot_data["runtime"]
