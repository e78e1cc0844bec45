"""The SQLite store: the source of truth for sources, passages and cached embeddings.

Every change is one transaction that also bumps the corpus version, so readers can tell that an
index built from an older version is stale. Each thread gets its own connection (WAL lets readers
work while a writer commits).

A removal (or a replacement) leaves none of the old text behind: the embedding-cache rows of
texts no passage uses any more go in the same transaction, deleted content is overwritten with
zeros (``secure_delete``), and the write-ahead log, which still holds the pages as they were, is
checkpointed and truncated right after. sqlite3's exceptions become ``StoreError`` here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, ParamSpec, TypeVar

from corpus.chunking import Chunk
from corpus.dating import date_passages
from corpus.errors import SourceNotFound, StoreError
from corpus.loaders import Document, source_id_for
from corpus.migrations import migrate
from corpus.models import Passage, Source, Span

log = logging.getLogger(__name__)

DB_NAME = "citebot.sqlite3"
#: Seconds a connection waits for another's write lock before the change is refused as busy.
BUSY_TIMEOUT = 30.0
P = ParamSpec("P")
R = TypeVar("R")


class AuditEntry(NamedTuple):
    """One change to the corpus or to the moderators."""

    at: str
    actor: str
    action: str
    source_id: str | None
    content_hash: str | None
    detail: str


class CorpusStats(NamedTuple):
    """The size of the corpus and when it last changed."""

    sources: int
    passages: int
    updated_at: str | None


_SOURCE_COLUMNS = (
    "s.id, s.identity, s.title, s.published, s.url, s.publisher, s.language, s.cites, "
    "s.content_hash, s.added_at, (SELECT COUNT(*) FROM passages p WHERE p.source_id = s.id), "
    "s.as_of"
)
_PASSAGE_COLUMNS = (
    "id, source_id, ordinal, text, char_start, char_end, page, language, sentences, dates"
)


def text_hash(text: str) -> str:
    """The cache key of a text's embedding."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _tracked(method: Callable[P, R]) -> Callable[P, R]:
    """Count a store method as an operation in flight while it runs."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        store._enter()  # type: ignore[attr-defined]
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise _translated(exc) from exc
        finally:
            store._leave()  # type: ignore[attr-defined]

    return wrapper


def _translated(exc: sqlite3.Error) -> StoreError:
    """sqlite3's exceptions, said once, here."""
    message = str(exc)
    if "locked" in message or "busy" in message:
        return StoreError.because("busy", seconds=f"{BUSY_TIMEOUT:g}")
    return StoreError(f"the database failed: {message}")


class Store:
    """The corpus database in one data directory."""

    def __init__(self, *, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / DB_NAME
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {data_dir}: {exc.strerror}") from exc
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Operations in flight, so close() never pulls a connection from under another thread.
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._closed = False
        migrate(self._db())

    # -- connections -------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(
                    self.path, isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
                # Deleted rows and freed pages are overwritten with zeros (a removal is often a
                # takedown; some builds of SQLite do this by default, most do not).
                db.execute("PRAGMA secure_delete=ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def close(self, *, timeout: float = 30.0) -> None:
        """Close every connection, after the operations in flight (in any thread) finish."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._active == 0, timeout=timeout)
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    def _enter(self) -> None:
        with self._idle:
            if self._closed:
                raise StoreError("the store is closed")
            self._active += 1

    def _leave(self) -> None:
        with self._idle:
            self._active -= 1
            self._idle.notify_all()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed (durably, synchronous=FULL) or rolled back whole."""
        self._enter()
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _translated(exc) from exc
        finally:
            self._leave()

    # -- reads -------------------------------------------------------------------------------

    @_tracked
    def corpus_version(self) -> int:
        """A number that grows with every change to the corpus."""
        row = self._db().execute("SELECT value FROM meta WHERE key = 'corpus_version'").fetchone()
        return int(row[0])

    @_tracked
    def sources(self) -> list[Source]:
        """All sources, newest publication first."""
        rows = self._db().execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s ORDER BY s.published DESC, s.title"
        )
        return [_source(row) for row in rows]

    @_tracked
    def get_source(self, source_id: str) -> Source:
        """The source with this id, or ``SourceNotFound``."""
        row = (
            self._db()
            .execute(f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.id = ?", (source_id,))
            .fetchone()
        )
        if row is None:
            raise SourceNotFound(source_id)
        return _source(row)

    @_tracked
    def sources_by_id(self, ids: Sequence[str]) -> dict[str, Source]:
        """The sources with these ids (missing ids are left out)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.id IN ({marks})", tuple(ids)
        )
        return {row[0]: _source(row) for row in rows}

    @_tracked
    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        """The passages with these ids (ids removed since are left out)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            f"SELECT {_PASSAGE_COLUMNS} FROM passages WHERE id IN ({marks})",
            tuple(int(i) for i in ids),
        )
        return {row[0]: _passage(row) for row in rows}

    @_tracked
    def snapshot(self) -> tuple[int, list[Passage]]:
        """The corpus version and all its passages, read in one transaction."""
        db = self._db()
        db.execute("BEGIN")
        try:
            version = self.corpus_version()
            rows = db.execute(f"SELECT {_PASSAGE_COLUMNS} FROM passages ORDER BY id").fetchall()
        finally:
            db.execute("COMMIT")
        return version, [_passage(row) for row in rows]

    @_tracked
    def passage_count(self) -> int:
        """How many passages the corpus holds."""
        return int(self._db().execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    @_tracked
    def source_by_identity(self, identity: str) -> Source | None:
        """The source with this identity (URL, else file name), if any."""
        row = (
            self._db()
            .execute(f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.identity = ?", (identity,))
            .fetchone()
        )
        return _source(row) if row else None

    @_tracked
    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        """Cached embeddings of these text hashes for ``model``."""
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        db = self._db()
        for i in range(0, len(unique), 500):
            batch = unique[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = db.execute(
                "SELECT content_hash, vector FROM embeddings "
                f"WHERE model = ? AND content_hash IN ({marks})",
                (model, *batch),
            )
            found.update(dict(rows.fetchall()))
        return found

    @_tracked
    def stats(self) -> CorpusStats:
        """Sources, passages and the time of the last change."""
        row = (
            self._db()
            .execute(
                "SELECT (SELECT COUNT(*) FROM sources), (SELECT COUNT(*) FROM passages), "
                "(SELECT MAX(updated_at) FROM sources)"
            )
            .fetchone()
        )
        return CorpusStats(sources=row[0], passages=row[1], updated_at=row[2])

    # -- writes ------------------------------------------------------------------------------

    @_tracked
    def put_vectors(self, model: str, vectors: Mapping[str, bytes]) -> None:
        """Cache embeddings (a cache: storing them changes no corpus version)."""
        if not vectors:
            return
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO embeddings (model, content_hash, vector) VALUES (?, ?, ?)",
                [(model, h, v) for h, v in vectors.items()],
            )

    @_tracked
    def replace_sources(
        self, items: Sequence[tuple[Document, Sequence[Chunk]]], *, actor: str = "cli"
    ) -> list[tuple[Source, bool]]:
        """Store documents and their passages in one transaction, replacing same identities.

        The audit log records each change in the same transaction. Returns each stored source
        and whether an older version was replaced.
        """
        stamp = now()
        replaced: list[tuple[str, bool]] = []
        old_texts: set[str] = set()
        with self.transaction() as db:
            for document, chunks in items:
                source_id = source_id_for(document.identity)
                old = db.execute(
                    "SELECT added_at FROM sources WHERE id = ?", (source_id,)
                ).fetchone()
                old_texts |= _embedded_texts(db, source_id)
                db.execute("DELETE FROM sources WHERE id = ?", (source_id,))
                self._insert(db, document, chunks, source_id, added_at=old[0] if old else stamp)
                replaced.append((source_id, old is not None))
                self._audit(
                    db,
                    actor,
                    "replace" if old else "add",
                    source_id,
                    document.content_hash,
                    document.metadata["title"],
                )
            _drop_unused_vectors(db, old_texts)
            self._bump(db)
        if old_texts:
            self._forget_old_pages()
        return [(self.get_source(sid), was) for sid, was in replaced]

    @staticmethod
    def _insert(
        db: sqlite3.Connection,
        document: Document,
        chunks: Sequence[Chunk],
        source_id: str,
        *,
        added_at: str,
    ) -> None:
        meta = document.metadata
        current, dated = date_passages(
            document.text,
            [(c.start, c.sentences) for c in chunks],
            language=meta["language"],
            published=meta["published"],
        )
        db.execute(
            "INSERT INTO sources (id, identity, name, title, published, url, publisher, "
            "language, cites, content_hash, text, pages, added_at, updated_at, as_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                source_id,
                document.identity,
                document.name,
                meta["title"],
                meta["published"],
                meta.get("url"),
                meta.get("publisher"),
                meta["language"],
                json.dumps(list(meta.get("cites", ())), ensure_ascii=False),
                document.content_hash,
                document.text,
                json.dumps([[p.start, p.end] for p in document.pages]),
                added_at,
                now(),
                current,
            ),
        )
        db.executemany(
            "INSERT INTO passages (source_id, ordinal, text, char_start, char_end, page, "
            "language, sentences, content_hash, dates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    source_id,
                    ordinal,
                    document.text[c.start : c.end],
                    c.start,
                    c.end,
                    c.page,
                    meta["language"],
                    json.dumps([[s.start, s.end] for s in c.sentences]),
                    text_hash(document.text[c.start : c.end]),
                    json.dumps(list(dates)),
                )
                for ordinal, (c, dates) in enumerate(zip(chunks, dated, strict=True))
            ],
        )

    @_tracked
    def remove_source(self, source_id: str, *, actor: str = "cli") -> Source:
        """Remove a source and its passages; return what was removed."""
        source = self.get_source(source_id)
        with self.transaction() as db:
            texts = _embedded_texts(db, source_id)
            deleted = db.execute("DELETE FROM sources WHERE id = ?", (source_id,)).rowcount
            if not deleted:
                raise SourceNotFound(source_id)
            _drop_unused_vectors(db, texts)
            # The audit log keeps that the source was removed, by whom and when, not its title:
            # a title can hold the very name a takedown is about.
            db.execute("UPDATE audit SET detail = '' WHERE source_id = ?", (source_id,))
            self._audit(db, actor, "remove", source_id, source.content_hash, "")
            self._bump(db)
        self._forget_old_pages()
        return source

    def _forget_old_pages(self) -> None:
        """Checkpoint and truncate the write-ahead log, which holds pages as they were.

        Waits for readers (up to the busy timeout); if they never let go, the log is truncated
        by the next change and a warning is logged.
        """
        try:
            row = self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:  # the change is committed: this must not undo its reply
            row = (1,)
            log.warning("the write-ahead log could not be truncated yet: %s", exc)
        if row and row[0]:
            log.warning("the write-ahead log could not be truncated yet: readers hold it")

    # -- moderators and the audit log ---------------------------------------------------------

    @_tracked
    def moderators(self) -> list[int]:
        """Moderators added from Telegram (those from the settings are not stored)."""
        rows = self._db().execute("SELECT user_id FROM moderators ORDER BY added_at")
        return [row[0] for row in rows]

    @_tracked
    def add_moderator(self, user_id: int, *, actor: str) -> bool:
        """Make ``user_id`` a moderator; False if already one."""
        with self.transaction() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO moderators (user_id, added_by, added_at) VALUES (?, ?, ?)",
                (user_id, actor, now()),
            ).rowcount
            if added:
                self._audit(db, actor, "moderator_add", None, None, str(user_id))
        return bool(added)

    @_tracked
    def remove_moderator(self, user_id: int, *, actor: str) -> bool:
        """Take the moderator role from ``user_id``; False if they did not have it."""
        with self.transaction() as db:
            removed = db.execute("DELETE FROM moderators WHERE user_id = ?", (user_id,)).rowcount
            if removed:
                self._audit(db, actor, "moderator_remove", None, None, str(user_id))
        return bool(removed)

    @_tracked
    def history(self, limit: int = 20) -> list[AuditEntry]:
        """The latest changes, newest first."""
        rows = self._db().execute(
            "SELECT at, actor, action, source_id, content_hash, detail FROM audit "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*row) for row in rows]

    @_tracked
    def daily_questions(self, days: int = 14) -> list[tuple[str, int, int]]:
        """``(day, asked, answered)`` for the latest ``days`` days with questions."""
        rows = self._db().execute(
            "SELECT day, asked, answered FROM daily_questions ORDER BY day DESC LIMIT ?", (days,)
        )
        return [tuple(row) for row in rows]

    @_tracked
    def feedback_by_source(self) -> list[tuple[str, str, int, int]]:
        """``(source id, title, useful, not useful)`` for sources with votes."""
        rows = self._db().execute(
            "SELECT f.source_id, COALESCE(s.title, '(removed)'), "
            "SUM(f.vote > 0), SUM(f.vote < 0) FROM feedback f "
            "LEFT JOIN sources s ON s.id = f.source_id GROUP BY f.source_id "
            "ORDER BY COUNT(*) DESC"
        )
        return [tuple(row) for row in rows]

    @staticmethod
    def _audit(
        db: sqlite3.Connection,
        actor: str,
        action: str,
        source_id: str | None,
        content_hash: str | None,
        detail: str,
    ) -> None:
        db.execute(
            "INSERT INTO audit (at, actor, action, source_id, content_hash, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (now(), actor, action, source_id, content_hash, detail),
        )

    @_tracked
    def record_feedback(self, passage_id: int, vote: int) -> bool:
        """Store an anonymous vote (+1 useful, -1 not) on a passage; False if it is gone."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT source_id FROM passages WHERE id = ?", (passage_id,)
            ).fetchone()
            if row is None:
                return False
            db.execute(
                "INSERT INTO feedback (passage_id, source_id, vote, created_at) "
                "VALUES (?, ?, ?, ?)",
                (passage_id, row[0], 1 if vote > 0 else -1, now()),
            )
        return True

    @_tracked
    def count_question(self, *, answered: bool) -> None:
        """Add one question to today's anonymous counts."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO daily_questions (day, asked, answered) VALUES (?, 1, ?) "
                "ON CONFLICT(day) DO UPDATE SET asked = asked + 1, "
                "answered = answered + excluded.answered",
                (now()[:10], 1 if answered else 0),
            )

    @_tracked
    def touch(self) -> int:
        """Bump the corpus version without changing content (forces indexes to rebuild)."""
        with self.transaction() as db:
            return self._bump(db)

    @staticmethod
    def _bump(db: sqlite3.Connection) -> int:
        db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'corpus_version'"
        )
        return int(db.execute("SELECT value FROM meta WHERE key = 'corpus_version'").fetchone()[0])


def _embedded_texts(db: sqlite3.Connection, source_id: str) -> set[str]:
    """Every text of a source that has a vector: its passages and their sentences."""
    texts: set[str] = set()
    rows = db.execute("SELECT text, sentences FROM passages WHERE source_id = ?", (source_id,))
    for text, sentences in rows:
        texts.add(text)
        texts.update(_sentence_texts(text, sentences))
    return texts


def _drop_unused_vectors(db: sqlite3.Connection, texts: set[str]) -> None:
    """Delete the cached vectors of those ``texts`` that no passage (or sentence) uses now."""
    if not texts:
        return
    unused = set(texts)
    # Another source may share a passage or a sentence (a quoted statement): those stay.
    for text, sentences in db.execute("SELECT text, sentences FROM passages"):
        unused.discard(text)
        if unused:
            unused.difference_update(_sentence_texts(text, sentences))
        if not unused:
            return
    hashes = [text_hash(t) for t in unused]
    # By model, so each delete is a lookup in the primary key (model, content_hash).
    models = [row[0] for row in db.execute(_MODELS)]
    for model in models:
        for i in range(0, len(hashes), 500):
            batch = hashes[i : i + 500]
            marks = ",".join("?" * len(batch))
            db.execute(
                f"DELETE FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
                (model, *batch),
            )


# The distinct models of the embedding cache, one primary-key probe per model.
_MODELS = """
WITH RECURSIVE m(model) AS (
    SELECT MIN(model) FROM embeddings
    UNION ALL
    SELECT (SELECT MIN(model) FROM embeddings WHERE model > m.model) FROM m
    WHERE m.model IS NOT NULL
)
SELECT model FROM m WHERE model IS NOT NULL
"""


def _sentence_texts(text: str, sentences: str) -> list[str]:
    # As ``Passage.sentence_texts``: the texts the indexer embeds for a passage's sentences.
    spans = json.loads(sentences) or [[0, len(text)]]
    return [text[s:e].strip() for s, e in spans]


def _source(row: tuple) -> Source:
    return Source(
        id=row[0],
        identity=row[1],
        title=row[2],
        published=row[3],
        url=row[4],
        publisher=row[5],
        language=row[6],
        cites=tuple(json.loads(row[7])),
        content_hash=row[8],
        added_at=row[9],
        passage_count=row[10],
        as_of=row[11],
    )


def _passage(row: tuple) -> Passage:
    return Passage(
        id=row[0],
        source_id=row[1],
        ordinal=row[2],
        text=row[3],
        char_start=row[4],
        char_end=row[5],
        page=row[6],
        language=row[7],
        sentences=tuple(Span(start=s, end=e) for s, e in json.loads(row[8])),
        dates=tuple(json.loads(row[9])),
    )
