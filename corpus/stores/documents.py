"""The corpus in the database: sources, their passages, the embedding cache, the corpus version.

Every change is one transaction that also writes its audit row and bumps the corpus version, so
readers (every replica's index) can tell that a build made from an older version is stale.

A removal (or a replacement) leaves none of the old text behind: the embedding-cache rows of
texts no passage uses any more go in the same transaction, the audit log forgets the removed
source's title, and once committed the engine makes the deleted rows unreadable on disk
(``Database.forget_deleted``: SQLite's zeroed pages and truncated write-ahead log, PostgreSQL's
rewritten tables).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from corpus.chunking import Chunk
from corpus.dating import date_passages
from corpus.engine import Connection, Database
from corpus.errors import SourceNotFound
from corpus.loaders import Document, source_id_for
from corpus.models import Passage, Source, Span
from corpus.stores.clock import now, text_hash
from corpus.stores.moderation import record_change

#: Hashes per ``IN (...)`` list when reading or deleting cached vectors.
_VECTOR_BATCH = 500
#: The tables a removal deletes text (or its vectors) from, and the audit log it blanks.
_TEXT_TABLES = ("sources", "passages", "embeddings", "audit")

_SOURCE_COLUMNS = (
    "s.id, s.identity, s.title, s.published, s.url, s.publisher, s.language, s.cites, "
    "s.content_hash, s.added_at, (SELECT COUNT(*) FROM passages p WHERE p.source_id = s.id), "
    "s.as_of"
)
_PASSAGE_COLUMNS = (
    "id, source_id, ordinal, text, char_start, char_end, page, language, sentences, dates"
)


class CorpusStats(NamedTuple):
    """The size of the corpus and when it last changed."""

    sources: int
    passages: int
    updated_at: str | None


class CorpusStore:
    """Sources, passages and cached vectors of one database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- reads -------------------------------------------------------------------------------

    def corpus_version(self) -> int:
        """A number that grows with every change to the corpus."""
        [(value,)] = self.database.execute("SELECT value FROM meta WHERE key = 'corpus_version'")
        return int(value)

    def sources(self) -> list[Source]:
        """All sources, newest publication first."""
        rows = self.database.execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s ORDER BY s.published DESC, s.title"
        )
        return [_source(row) for row in rows]

    def get_source(self, source_id: str) -> Source:
        """The source with this id, or ``SourceNotFound``."""
        rows = self.database.execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.id = ?", (source_id,)
        )
        if not rows:
            raise SourceNotFound(source_id)
        return _source(rows[0])

    def sources_by_id(self, ids: Sequence[str]) -> dict[str, Source]:
        """The sources with these ids (missing ids are left out)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.database.execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.id IN ({marks})", tuple(ids)
        )
        return {row[0]: _source(row) for row in rows}

    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        """The passages with these ids (ids removed since are left out)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.database.execute(
            f"SELECT {_PASSAGE_COLUMNS} FROM passages WHERE id IN ({marks})",
            tuple(int(i) for i in ids),
        )
        return {row[0]: _passage(row) for row in rows}

    def passage_ids_by_source(self, source_ids: Sequence[str]) -> dict[str, frozenset[int]]:
        """The ids of each of these sources' passages (sources removed since are left out)."""
        if not source_ids:
            return {}
        unique = list(dict.fromkeys(source_ids))
        marks = ",".join("?" * len(unique))
        rows = self.database.execute(
            f"SELECT source_id, id FROM passages WHERE source_id IN ({marks})", tuple(unique)
        )
        found: dict[str, set[int]] = {}
        for source_id, passage_id in rows:
            found.setdefault(source_id, set()).add(int(passage_id))
        return {source_id: frozenset(ids) for source_id, ids in found.items()}

    def snapshot(self) -> tuple[int, list[Passage]]:
        """The corpus version and all its passages, read in one transaction."""
        with self.database.snapshot() as db:
            version = int(
                db.execute("SELECT value FROM meta WHERE key = 'corpus_version'").fetchone()[0]
            )
            rows = db.execute(f"SELECT {_PASSAGE_COLUMNS} FROM passages ORDER BY id").fetchall()
        return version, [_passage(row) for row in rows]

    def passage_count(self) -> int:
        """How many passages the corpus holds."""
        [(count,)] = self.database.execute("SELECT COUNT(*) FROM passages")
        return int(count)

    def source_by_identity(self, identity: str) -> Source | None:
        """The source with this identity (URL, else file name), if any."""
        rows = self.database.execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.identity = ?", (identity,)
        )
        return _source(rows[0]) if rows else None

    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        """Cached embeddings (opaque bytes) of these text hashes for ``model``."""
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        with self.database.snapshot() as db:
            for i in range(0, len(unique), _VECTOR_BATCH):
                batch = unique[i : i + _VECTOR_BATCH]
                marks = ",".join("?" * len(batch))
                rows = db.execute(
                    "SELECT content_hash, vector FROM embeddings "
                    f"WHERE model = ? AND content_hash IN ({marks})",
                    (model, *batch),
                )
                found.update((h, bytes(v)) for h, v in rows)
        return found

    def stats(self) -> CorpusStats:
        """Sources, passages and the time of the last change."""
        [row] = self.database.execute(
            "SELECT (SELECT COUNT(*) FROM sources), (SELECT COUNT(*) FROM passages), "
            "(SELECT MAX(updated_at) FROM sources)"
        )
        return CorpusStats(sources=int(row[0]), passages=int(row[1]), updated_at=row[2])

    # -- writes ------------------------------------------------------------------------------

    def put_vectors(self, model: str, vectors: Mapping[str, bytes]) -> None:
        """Cache embeddings (a cache: storing them changes no corpus version)."""
        if not vectors:
            return
        with self.database.transaction(exclusive=False) as db:
            db.executemany(
                "INSERT INTO embeddings (model, content_hash, vector) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(model, h, v) for h, v in vectors.items()],
            )

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
        with self.database.transaction() as db:
            for document, chunks in items:
                source_id = source_id_for(document.identity)
                old = db.execute(
                    "SELECT added_at FROM sources WHERE id = ?", (source_id,)
                ).fetchone()
                old_texts |= _embedded_texts(db, source_id)
                db.execute("DELETE FROM sources WHERE id = ?", (source_id,))
                _insert(db, document, chunks, source_id, added_at=old[0] if old else stamp)
                replaced.append((source_id, old is not None))
                record_change(
                    db,
                    actor,
                    "replace" if old else "add",
                    source_id,
                    document.content_hash,
                    document.metadata["title"],
                )
            _drop_unused_vectors(db, old_texts)
            bump(db)
        if old_texts:
            self.database.forget_deleted(_TEXT_TABLES)
        return [(self.get_source(sid), was) for sid, was in replaced]

    def remove_source(self, source_id: str, *, actor: str = "cli") -> Source:
        """Remove a source and its passages; return what was removed."""
        source = self.get_source(source_id)
        with self.database.transaction() as db:
            texts = _embedded_texts(db, source_id)
            deleted = db.execute("DELETE FROM sources WHERE id = ?", (source_id,)).rowcount
            if not deleted:
                raise SourceNotFound(source_id)
            _drop_unused_vectors(db, texts)
            # The audit log keeps that the source was removed, by whom and when, not its title:
            # a title can hold the very name a takedown is about.
            db.execute("UPDATE audit SET detail = '' WHERE source_id = ?", (source_id,))
            record_change(db, actor, "remove", source_id, source.content_hash, "")
            bump(db)
        self.database.forget_deleted(_TEXT_TABLES)
        return source

    def touch(self) -> int:
        """Bump the corpus version without changing content (forces indexes to rebuild)."""
        with self.database.transaction() as db:
            return bump(db)


def bump(db: Connection) -> int:
    """Increase the corpus version inside a change's transaction; return the new version."""
    db.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
        "WHERE key = 'corpus_version'"
    )
    return int(db.execute("SELECT value FROM meta WHERE key = 'corpus_version'").fetchone()[0])


def _insert(
    db: Connection,
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


def _embedded_texts(db: Connection, source_id: str) -> set[str]:
    """Every text of a source that has a vector: its passages and their sentences."""
    texts: set[str] = set()
    rows = db.execute("SELECT text, sentences FROM passages WHERE source_id = ?", (source_id,))
    for text, sentences in rows:
        texts.add(text)
        texts.update(_sentence_texts(text, sentences))
    return texts


def _drop_unused_vectors(db: Connection, texts: set[str]) -> None:
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
        for i in range(0, len(hashes), _VECTOR_BATCH):
            batch = hashes[i : i + _VECTOR_BATCH]
            marks = ",".join("?" * len(batch))
            db.execute(
                f"DELETE FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
                (model, *batch),
            )


# The distinct models of the embedding cache, one primary-key probe per model (both engines).
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


def _source(row: Sequence) -> Source:
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
        passage_count=int(row[10]),
        as_of=row[11],
    )


def _passage(row: Sequence) -> Passage:
    return Passage(
        id=int(row[0]),
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
