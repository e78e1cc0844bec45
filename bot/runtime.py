"""What the running bot holds between updates: services, caches and the flood guard.

Created in ``post_init`` and closed in ``post_shutdown``; handlers reach it through
``runtime(context)``.

Everything kept here that holds passages (answers kept for "More", the inline cache, inline
searches in flight) is tied to the corpus it was computed under: after a change, none of it is
served again, and a search that was running while the corpus changed is run again on the new
build. A removed source is never returned once its removal is acknowledged.

What must survive a replica (answers kept for "More", the flood guard's buckets) lives in the
store's shared state: memory with SQLite, PostgreSQL with replicas. A kept answer carries the
corpus version of the build that gave it (the same number on every replica, where the
generation is this process's own), and every change drops them all (``Services``); the inline
cache and the searches in flight stay per process, tied to the generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
from corpus.stores.shared import KEPT, SharedState

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
#: A failure of the watch that persists is logged once with its traceback, then this often.
WATCH_ERROR_INTERVAL = 300.0
#: Searches tried when the corpus changes while one runs (each change retries it once).
_SEARCH_TRIES = 3
#: Seconds Telegram may cache inline answers on its own servers: none, so a removed source is
#: not served from there either (our own cache answers repeated queries).
INLINE_CACHE_TIME = 0

_HITS = TypeAdapter(tuple[Hit, ...])


@dataclass(frozen=True, slots=True)
class Asked:
    """An answer, the corpus generation it is valid for, and the corpus version it came from."""

    answer: Answer
    generation: int
    version: int | None = None


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
    inline: TTLCache[str, Asked] = field(default_factory=lambda: TTLCache(maxsize=2_000, ttl=60))
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
    # Inline searches in flight by text and generation: people typing the same words share one.
    _pending: dict[tuple[str, int], asyncio.Future[Answer]] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _purged: float = field(default_factory=time.monotonic)
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    #: Checks the watch loop has made (how a test knows it ran).
    watched: int = 0

    def __post_init__(self) -> None:
        self.flood = FloodGuard(self.shared)

    @property
    def shared(self) -> SharedState:
        """State every replica sees (this process's memory with SQLite)."""
        return self.services.shared

    @property
    def generation(self) -> int:
        """The corpus generation now (see ``Services.generation``)."""
        return self.services.generation

    async def keep(self, asked: Asked, language: str) -> str:
        """Keep an answer's hits for paging; return the short key for callback data."""
        key = secrets.token_urlsafe(6)
        value = {
            "language": language,
            "version": asked.version,
            "hits": _HITS.dump_python(asked.answer.hits, mode="json"),
        }
        await self.shared.put(KEPT, key, json.dumps(value).encode(), ttl=KEPT_SECONDS)
        return key

    async def kept(self, key: str) -> Kept | None:
        """The answer kept under ``key`` (by any replica), unless it expired; ``CorpusChanged``
        (and it is dropped) if it came from another corpus version than this replica's."""
        found = await self.shared.get(KEPT, key)
        if found is None:
            return None
        value = json.loads(found)
        if value["version"] is None or value["version"] != self.services.version:
            await self.shared.delete(KEPT, key)
            raise CorpusChanged
        return Kept(hits=_HITS.validate_python(value["hits"]), language=value["language"])

    def count_question(self, *, answered: bool) -> None:
        """Add a question to today's anonymous counts, without holding up the update."""
        task = asyncio.ensure_future(
            asyncio.to_thread(self.services.count_question, answered=answered)
        )
        self._background.add(task)
        task.add_done_callback(self._counted)

    def _counted(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not count a question", exc_info=task.exception())

    async def ask(self, text: str) -> Asked:
        """The answer to a question (chat, group), searched on the questions' threads."""
        for _ in range(_SEARCH_TRIES):
            generation, version = self.generation, self.services.version
            answer = await self.services.aask(text, k=MAX_HITS, executor=self.question_pool)
            # A search that ran while the corpus changed may have read the old one.
            if generation == self.generation:
                break
        return Asked(answer=answer, generation=generation, version=version)

    async def ask_inline(self, text: str) -> Asked:
        """The answer to an inline query: cached briefly, one search per text at a time."""
        for _ in range(_SEARCH_TRIES):
            generation, version = self.generation, self.services.version
            cached = self.inline.get(text)
            if cached is not None and cached.generation == generation:
                return cached
            key = (text, generation)
            pending = self._pending.get(key)
            if pending is None:
                pending = asyncio.ensure_future(
                    self.services.aask(text, k=INLINE_HITS, executor=self.inline_pool)
                )
                self._pending[key] = pending
                pending.add_done_callback(functools.partial(self._searched, key))
            # Shielded: one asker giving up must not cancel the search the others wait for.
            answer = await asyncio.shield(pending)
            if generation == self.generation:
                break
        return Asked(answer=answer, generation=generation, version=version)

    def _searched(self, key: tuple[str, int], done: asyncio.Future[Answer]) -> None:
        self._pending.pop(key, None)
        text, generation = key
        # Not cached if it failed, or if the corpus changed while it ran.
        if not done.cancelled() and done.exception() is None and generation == self.generation:
            self.inline[text] = Asked(
                answer=done.result(), generation=generation, version=self.services.version
            )

    def start_watching(self) -> None:
        """Swap in newer index builds as they are published (by us or another process), and
        drop the caches of passages whenever the corpus changes."""
        self._loop = asyncio.get_running_loop()
        self.services.subscribe(self._corpus_changed)
        self._watch = asyncio.create_task(self._watch_loop(), name="citebot-index-watch")

    def _corpus_changed(self, generation: int) -> None:
        # Called on the thread that changed the corpus; the caches belong to the event loop.
        # (Entries of older generations are never served anyway: this frees them.)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._drop_caches)

    def _drop_caches(self) -> None:
        # (The answers kept for "More" are dropped by ``Services`` itself, from the shared
        # state, on the changing thread.)
        self.inline.clear()

    async def _watch_loop(self) -> None:
        failing: str | None = None
        logged = 0.0
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                # With PostgreSQL a change made through another replica (or `citebot ingest`
                # elsewhere) shows as a newer corpus version: this replica builds its own
                # index from the stored passages and cached vectors, and swaps it in.
                if await asyncio.to_thread(self.services.refresh):
                    log.info("switched to a new corpus version")
                if failing is not None:
                    log.info("the newest index build loads again")
                    failing = None
            except Exception as exc:  # keep watching: the next build may be fine
                reason = f"{type(exc).__name__}: {exc}"
                if reason != failing:
                    log.exception("could not load the newest index build")
                    failing, logged = reason, time.monotonic()
                elif time.monotonic() - logged >= WATCH_ERROR_INTERVAL:
                    log.error("still cannot load the newest index build: %s", reason)
                    logged = time.monotonic()
            if time.monotonic() - self._purged > PURGE_INTERVAL:
                self._purged = time.monotonic()
                try:
                    await self.shared.purge()
                except Exception as exc:  # the next purge will do
                    log.warning("could not purge expired shared state: %s", exc)
            self.watched += 1

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


class CorpusChanged(Exception):
    """A kept answer is from before a change to the corpus: ask again."""


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The runtime of the application handling this update."""
    return context.application.bot_data["runtime"]
