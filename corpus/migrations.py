"""Numbered schema migrations. Each runs once, inside the transaction that records it.

Add a migration by appending ``mNNN_what`` to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from corpus.errors import StoreError


def m001_initial(db: sqlite3.Connection) -> None:
    """Sources, passages, the embedding cache and the corpus version."""
    _script(
        db,
        """
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
            id INTEGER PRIMARY KEY AUTOINCREMENT,
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
            vector BLOB NOT NULL,
            PRIMARY KEY (model, content_hash)
        ) WITHOUT ROWID;
        """,
    )


def m002_feedback_and_daily_counts(db: sqlite3.Connection) -> None:
    """Anonymous feedback votes and per-day question counts (no user, no text)."""
    _script(
        db,
        """
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            passage_id INTEGER NOT NULL,
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


def m003_moderation(db: sqlite3.Connection) -> None:
    """Moderators added from Telegram, and the audit log of every change."""
    _script(
        db,
        """
        CREATE TABLE moderators (
            user_id INTEGER PRIMARY KEY,
            added_by TEXT NOT NULL,
            added_at TEXT NOT NULL
        );

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            source_id TEXT,
            content_hash TEXT,
            detail TEXT NOT NULL DEFAULT ''
        );
        """,
    )


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run statements one by one: ``executescript`` would commit the migration's transaction."""
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


def m004_dates(db: sqlite3.Connection) -> None:
    """When figures are true: each document's own as-of date, each sentence's stated date."""
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


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    m001_initial,
    m002_feedback_and_daily_counts,
    m003_moderation,
    m004_dates,
)


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema up to date; return the schema version. Refuses a newer schema."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    if done and max(done) > len(MIGRATIONS):
        raise StoreError(
            f"the database has schema version {max(done)}, newer than this citebot "
            f"({len(MIGRATIONS)}); upgrade citebot"
        )
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if db.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (number,)
            ).fetchone():
                db.execute("ROLLBACK")
                continue
            migration(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) "
                "VALUES (?, ?, datetime('now'))",
                (number, migration.__name__),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
