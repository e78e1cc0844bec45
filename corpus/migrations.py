"""Numbered schema migrations, for SQLite and PostgreSQL. Each runs once, inside the transaction
that records it.

Add a migration by appending ``mNNN_what`` to ``MIGRATIONS``; never edit one that has shipped. A
migration gets the connection and writes SQL both engines accept (``ALTER TABLE ... ADD COLUMN``
does), or branches on ``db.engine`` where the dialects differ. Migrations must stay additive
(new tables, new nullable columns) so that replicas of the previous version keep working while
a new version is rolled out (README, Deployment).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from corpus.engine import Connection, Database
from corpus.errors import StoreError


def m001_initial(db: Connection) -> None:
    """Sources, passages, the embedding cache and the corpus version."""
    pg = db.engine == "postgresql"
    _script(
        db,
        f"""
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        INSERT INTO meta (key, value) VALUES ('corpus_version', '0');

        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            title TEXT NOT NULL,
            published TEXT NOT NULL,
            url TEXT,
            publisher TEXT,
            language TEXT NOT NULL,
            cites TEXT NOT NULL DEFAULT '[]',
            content_hash TEXT NOT NULL,
            text TEXT NOT NULL,
            pages TEXT NOT NULL DEFAULT '[]',
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE passages (
            id {_serial(pg)},
            source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            page INTEGER,
            language TEXT NOT NULL,
            sentences TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            UNIQUE (source_id, ordinal)
        );
        CREATE INDEX passages_source ON passages(source_id);

        -- Vectors keyed by model and text hash, so unchanged text is never embedded twice.
        CREATE TABLE embeddings (
            model TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            vector {"BYTEA" if pg else "BLOB"} NOT NULL,
            PRIMARY KEY (model, content_hash)
        ) {"" if pg else "WITHOUT ROWID"};
        """,
    )


def m002_feedback_and_daily_counts(db: Connection) -> None:
    """Anonymous feedback votes and per-day question counts (no user, no text)."""
    pg = db.engine == "postgresql"
    _script(
        db,
        f"""
        CREATE TABLE feedback (
            id {_serial(pg)},
            passage_id {"BIGINT" if pg else "INTEGER"} NOT NULL,
            source_id TEXT NOT NULL,
            vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
            created_at TEXT NOT NULL
        );
        CREATE INDEX feedback_source ON feedback(source_id);

        CREATE TABLE daily_questions (
            day TEXT PRIMARY KEY,
            asked INTEGER NOT NULL DEFAULT 0,
            answered INTEGER NOT NULL DEFAULT 0
        );
        """,
    )


def m003_moderation(db: Connection) -> None:
    """Moderators added from Telegram, and the audit log of every change."""
    pg = db.engine == "postgresql"
    _script(
        db,
        f"""
        CREATE TABLE moderators (
            user_id {"BIGINT" if pg else "INTEGER"} PRIMARY KEY,
            added_by TEXT NOT NULL,
            added_at TEXT NOT NULL
        );

        CREATE TABLE audit (
            id {_serial(pg)},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            source_id TEXT,
            content_hash TEXT,
            detail TEXT NOT NULL DEFAULT ''
        );
        """,
    )


def m004_dates(db: Connection) -> None:
    """When figures are true: each document's own as-of date, each sentence's stated date.

    Additive on both engines (a nullable column, one with a default): a replica of the previous
    version keeps inserting passages while this one rolls out; they read as undated.
    """
    from corpus.dating import date_passages
    from corpus.models import Span

    _script(
        db,
        """
        ALTER TABLE sources ADD COLUMN as_of TEXT;
        ALTER TABLE passages ADD COLUMN dates TEXT NOT NULL DEFAULT '[]';
        """,
    )
    sources = db.execute("SELECT id, text, language, published FROM sources").fetchall()
    for source_id, text, language, published in sources:
        rows = db.execute(
            "SELECT id, char_start, sentences FROM passages WHERE source_id = ? ORDER BY ordinal",
            (source_id,),
        ).fetchall()
        spans = [
            (start, [Span(start=a, end=b) for a, b in json.loads(sentences)])
            for _, start, sentences in rows
        ]
        current, dated = date_passages(text, spans, language=language, published=published)
        db.execute("UPDATE sources SET as_of = ? WHERE id = ?", (current, source_id))
        db.executemany(
            "UPDATE passages SET dates = ? WHERE id = ?",
            [(json.dumps(d), pid) for (pid, _, _), d in zip(rows, dated, strict=True)],
        )


def m005_shared_state(db: Connection) -> None:
    """Short-lived state the bot's replicas share (PostgreSQL only; SQLite keeps it in memory).

    UNLOGGED: nothing here outlives its expiry by design, so it skips the write-ahead log (and
    a database crash empties these tables, which costs at most an expired "More" button).
    """
    if db.engine != "postgresql":
        return
    _script(
        db,
        """
        -- Answers kept for "More", pending uploads, confirmations, salts: by namespace and key.
        CREATE UNLOGGED TABLE shared_state (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value BYTEA NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        CREATE INDEX shared_state_expiry ON shared_state(expires_at);

        -- The flood guard's token buckets, keyed by a salted hash (never a user id).
        CREATE UNLOGGED TABLE rate_buckets (
            key BYTEA PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            allowed BOOLEAN NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX rate_buckets_expiry ON rate_buckets(expires_at);

        -- Which replica handles which Telegram update, so a redelivery is handled once.
        CREATE UNLOGGED TABLE update_claims (
            update_id BIGINT PRIMARY KEY,
            replica BIGINT NOT NULL,
            done BOOLEAN NOT NULL DEFAULT FALSE,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX update_claims_expiry ON update_claims(expires_at);

        -- Updates acknowledged to Telegram but not yet answered, sealed with a key that never
        -- enters the database; deleted once answered, taken over if their replica dies.
        CREATE UNLOGGED TABLE inbox (
            update_id BIGINT PRIMARY KEY,
            replica BIGINT NOT NULL,
            body BYTEA NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX inbox_replica ON inbox(replica);
        """,
    )


def _serial(pg: bool) -> str:
    """An integer primary key that never reuses a value (FAISS ids and votes refer to it)."""
    return (
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        if pg
        else "INTEGER PRIMARY KEY AUTOINCREMENT"
    )


def _script(db: Connection, sql: str) -> None:
    """Run statements one by one (inside the migration's transaction, on either engine)."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    m001_initial,
    m002_feedback_and_daily_counts,
    m003_moderation,
    m004_dates,
    m005_shared_state,
)

_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def schema_version(database: Database) -> int:
    """The highest migration applied (0 for an empty database); refuses a newer schema."""
    with database.transaction() as db:
        db.execute(_TABLE)
        applied = db.execute("SELECT version, name FROM schema_migrations").fetchall()
    version = max((int(v) for v, _ in applied), default=0)
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the database has schema version {version}, newer than this citebot "
            f"({len(MIGRATIONS)}); upgrade citebot"
        )
    # A number is only a position: a database migrated by a build that put another migration
    # there would skip ours, and fail later on a missing column.
    for number, name in applied:
        if MIGRATIONS[int(number) - 1].__name__ != name:
            raise StoreError(
                f"the database {database.describe()} applied {name} as migration {number}, "
                f"where this citebot has {MIGRATIONS[int(number) - 1].__name__} (it was made "
                "by a development build): start from a fresh database and ingest again"
            )
    return version


def migrate(database: Database) -> int:
    """Bring the schema up to date; return the schema version. Refuses a newer schema.

    Safe to run from several processes at once: each migration's transaction is exclusive and
    checks again that no one applied it meanwhile.
    """
    from corpus.store import now

    if schema_version(database) == len(MIGRATIONS):
        return len(MIGRATIONS)
    for number, migration in enumerate(MIGRATIONS, start=1):
        with database.transaction() as db:
            if db.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (number,)
            ).fetchone():
                continue
            migration(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, migration.__name__, now()),
            )
    return len(MIGRATIONS)


def require_current(database: Database) -> int:
    """Refuse a database whose schema is older than this citebot (PostgreSQL is migrated once,
    by ``citebot migrate``, not by every replica that starts)."""
    version = schema_version(database)
    if version < len(MIGRATIONS):
        raise StoreError(
            f"the database {database.describe()} has schema version {version}, this citebot "
            f"needs {len(MIGRATIONS)}: run `citebot migrate` once"
        )
    return version
