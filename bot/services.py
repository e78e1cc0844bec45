"""The one façade both faces call: ask, fetch and load, ingest, remove, reindex, and the reads.

The command line and the bot never reach the store, the indexer or the indexes directly; every
change to the corpus ends in ``corpus_changed`` (or, for a change another process made,
``refresh``), which swaps the new build in, bumps ``generation``, drops the answers kept for
"More" from the shared state and tells the subscribers, so each face can drop whatever it keeps
of the old corpus before the change is acknowledged.

With PostgreSQL (``CITEBOT_DATABASE_URL``) "another process" includes every other replica and
``citebot ingest`` on any machine: each process builds its own index from the stored passages
and cached vectors when the corpus version moves.

The model is loaded only when something needs it, so commands like ``citebot sources`` start fast
and never import torch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from datetime import date
from pathlib import Path
from typing import Any

from bot.settings import Settings
from corpus.dates import warm_up
from corpus.fetch import Fetched, fetch
from corpus.loaders import Document, load_bytes, load_path
from corpus.models import Answer, Source
from corpus.store import AuditEntry, CorpusStats, Store
from corpus.stores.shared import SharedState
from retrieval.encoders import Encoder, load_encoders
from retrieval.index_files import PRUNE_WAIT, Manifest
from retrieval.indexer import Indexer, IngestResult, Progress, Status
from retrieval.service import Library

log = logging.getLogger(__name__)

#: ``callback(generation)``, called after every change to the corpus, on the changing thread.
Subscriber = Callable[[int], None]


class Services:
    """One data directory's corpus, behind the verbs the faces use."""

    def __init__(
        self, *, settings: Settings, encoders: Mapping[str, Encoder] | None = None
    ) -> None:
        self.settings = settings
        self.config = settings.retrieval()
        self.store = Store(data_dir=self.config.data_dir, url=settings.database())
        self._lock = threading.Lock()
        # Tests pass the session's encoders here instead of loading the models again.
        self._encoders: Mapping[str, Encoder] | None = encoders
        self._library: Library | None = None
        self.indexer = Indexer(config=self.config, store=self.store, encoders=lambda: self.encoders)
        #: Grows with every change to the corpus seen here; what was computed under an older
        #: generation may hold removed passages.
        self.generation = 0
        self._subscribers: list[Subscriber] = []
        # One change (swap, bump, notify) at a time, whichever thread makes or notices it.
        self._changing = threading.Lock()

    @property
    def encoders(self) -> Mapping[str, Encoder]:
        """The dense encoders by channel (loads the models the first time)."""
        with self._lock:
            if self._encoders is None:
                self._encoders = load_encoders(self.config)
            return self._encoders

    @property
    def library(self) -> Library:
        """The live library, after making sure the published index is current."""
        if self._library is None:
            if not self.indexer.is_current():
                self.indexer.ensure_current()
            encoders = self.encoders
            library = Library(config=self.config, store=self.store, encoders=encoders)
            library.refresh()
            # Date parsing loads its language data on first use (80-350 ms a language): now,
            # not in the first question about a month.
            warm_up()
            self._library = library
        return self._library

    # -- asking --------------------------------------------------------------------------------

    def ask(self, question: str, *, k: int = 3, today: date | None = None) -> Answer:
        """The best passages for ``question`` (``answered=False`` if none is reliable); "now"
        is ``today`` (the real date unless given)."""
        return self.library.search(question, k=k, today=today)

    async def aask(self, question: str, *, k: int, executor: Executor | None = None) -> Answer:
        """``ask`` off the event loop, in ``executor``."""
        return await self.library.asearch(question, k=k, executor=executor)

    # -- adding --------------------------------------------------------------------------------

    async def fetch_link(self, url: str, fields: Mapping[str, Any]) -> tuple[Fetched, dict]:
        """The page or file behind ``url`` and its metadata: the link itself is its URL (and
        identity) unless ``fields`` name another. The same checks and limits on every face."""
        fetched = await fetch(url, allow_private=self.settings.allow_private_urls)
        return fetched, {"url": url.strip(), **fields}

    @staticmethod
    def load(data: bytes, name: str, metadata: Mapping[str, Any] | None = None) -> Document:
        """A document from bytes (an upload, a fetched link), or ``DocumentError``."""
        return load_bytes(data, name, metadata)

    @staticmethod
    def load_file(path: Path, overrides: Mapping[str, Any] | None = None) -> Document:
        """A document from a file, or ``DocumentError``."""
        return load_path(path, overrides)

    # -- changing ------------------------------------------------------------------------------

    def ingest(
        self,
        documents: Sequence[Document],
        *,
        actor: str = "cli",
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        """Add or replace documents (one transaction), then ``corpus_changed``."""
        results = self.indexer.ingest(documents, progress=progress, actor=actor)
        if any(r.status != Status.UNCHANGED for r in results):
            self.corpus_changed()
        else:
            self.refresh()  # nothing changed, but a stale index may have been rebuilt
        return results

    def remove(self, source_id: str, *, actor: str = "cli") -> Source:
        """Remove a source everywhere, then ``corpus_changed``."""
        source = self.indexer.remove(source_id, actor=actor)
        self.corpus_changed()
        return source

    def reindex(self, *, progress: Progress | None = None) -> Manifest:
        """Rebuild the indexes from the database, then ``corpus_changed``."""
        manifest = self.indexer.reindex(progress=progress)
        self.corpus_changed()
        return manifest

    def corpus_changed(self) -> list[str]:
        """After any change: publish the index if needed, swap the new build in, bump the
        generation, tell the subscribers, and delete the old builds once no question uses them.

        Returns the builds still in use by a reader (another process) after ``PRUNE_WAIT``;
        they go with the next change.
        """
        self._swap(always=True)
        left = self.indexer.files.prune(wait=PRUNE_WAIT)
        if left:
            log.warning("%d old index build(s) still in use; deleted at the next change", len(left))
        return left

    def refresh(self) -> bool:
        """Pick up a change made by another process (the bot's watch loop calls this).

        Returns whether a new build was swapped in (and the subscribers told).
        """
        swapped = self._swap(always=False)
        if swapped:
            self.indexer.files.prune()
        return swapped

    def _swap(self, *, always: bool) -> bool:
        with self._changing:
            if not self.indexer.is_current():
                self.indexer.ensure_current()
            swapped = self._library.refresh() if self._library is not None else False
            if swapped or always:
                self.generation += 1
                # Kept answers quote the old corpus; any replica may be asked for "More".
                self.shared.forget_passages()
                for subscriber in list(self._subscribers):
                    subscriber(self.generation)
            return swapped

    @property
    def engine(self) -> str:
        """The database engine: ``sqlite`` (one process) or ``postgresql`` (replicas)."""
        return self.store.engine

    @property
    def shared(self) -> SharedState:
        """The short-lived state the bot's replicas share (this process's memory on SQLite)."""
        return self.store.shared

    @property
    def version(self) -> int | None:
        """The corpus version the live build was made from (None before one is loaded): the
        same number on every replica, unlike ``generation``."""
        return self._library.version if self._library is not None else None

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber(generation)`` after every change to the corpus."""
        self._subscribers.append(subscriber)

    # -- reading -------------------------------------------------------------------------------

    def sources(self) -> list[Source]:
        """All sources, newest publication first."""
        return self.store.corpus.sources()

    def source(self, source_id: str) -> Source:
        """The source with this id, or ``SourceNotFound``."""
        return self.store.corpus.get_source(source_id)

    def stats(self) -> CorpusStats:
        """Sources, passages and the time of the last change."""
        return self.store.corpus.stats()

    def history(self, limit: int = 20) -> list[AuditEntry]:
        """The latest changes, newest first."""
        return self.store.moderation.history(limit)

    def daily_questions(self, days: int = 14) -> list[tuple[str, int, int]]:
        """``(day, asked, answered)`` for the latest days with questions."""
        return self.store.readers.daily_questions(days)

    def feedback_by_source(self) -> list[tuple[str, str, int, int]]:
        """``(source id, title, useful, not useful)`` for sources with votes."""
        return self.store.readers.feedback_by_source()

    def count_question(self, *, answered: bool) -> None:
        """Add one question to today's anonymous counts."""
        self.store.readers.count_question(answered=answered)

    def record_feedback(self, passage_id: int, vote: int) -> bool:
        """An anonymous vote on a passage; False if the passage is gone."""
        return self.store.readers.record_feedback(passage_id, vote)

    # -- moderators ----------------------------------------------------------------------------

    def moderators(self) -> list[int]:
        """Moderators added from Telegram."""
        return self.store.moderation.moderators()

    def add_moderator(self, user_id: int, *, actor: str) -> bool:
        """Make ``user_id`` a moderator; False if already one."""
        return self.store.moderation.add_moderator(user_id, actor=actor)

    def remove_moderator(self, user_id: int, *, actor: str) -> bool:
        """Take the moderator role from ``user_id``; False if they did not have it."""
        return self.store.moderation.remove_moderator(user_id, actor=actor)

    def close(self) -> None:
        """Let the index build go and release the database connections."""
        if self._library is not None:
            self._library.close()
        self.store.close()
