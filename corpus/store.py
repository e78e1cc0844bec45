"""The store: the source of truth, on SQLite (the default) or PostgreSQL.

One ``Store`` opens the database and gives each concept its part: ``corpus`` (sources, passages,
the embedding cache, the corpus version), ``moderation`` (moderators and the audit log),
``readers`` (anonymous feedback and daily counts) and ``shared`` (short-lived state the bot's
replicas share). Every change is one transaction with its audit row.
"""

from __future__ import annotations

from pathlib import Path

from corpus.engine import DB_NAME, Database, open_database
from corpus.migrations import migrate, require_current
from corpus.stores.clock import now, text_hash
from corpus.stores.documents import CorpusStats, CorpusStore
from corpus.stores.moderation import AuditEntry, ModerationStore
from corpus.stores.readers import ReaderStore
from corpus.stores.shared import SharedState, open_state

__all__ = [
    "DB_NAME",
    "AuditEntry",
    "CorpusStats",
    "Store",
    "now",
    "text_hash",
]


class Store:
    """The database of one deployment and its parts by concept."""

    def __init__(
        self, *, data_dir: Path, url: str | None = None, migrate_schema: bool | None = None
    ) -> None:
        """SQLite in ``data_dir`` unless ``url`` names PostgreSQL.

        SQLite is migrated on open, as the one process that owns it. PostgreSQL is migrated
        once, by ``citebot migrate`` (``migrate_schema=True``), not by every replica that
        starts: the others refuse an older schema with a message saying so.
        """
        self.database: Database = open_database(data_dir=data_dir, url=url)
        self.data_dir = data_dir
        try:
            if migrate_schema or (migrate_schema is None and self.database.engine == "sqlite"):
                migrate(self.database)
            else:
                require_current(self.database)
        except BaseException:
            self.database.close()
            raise
        self.corpus = CorpusStore(self.database)
        self.moderation = ModerationStore(self.database)
        self.readers = ReaderStore(self.database)
        self.shared: SharedState = open_state(self.database, data_dir=data_dir)

    @property
    def engine(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.database.engine

    def describe(self) -> str:
        """Where the database is (never a password)."""
        return self.database.describe()

    def close(self, *, timeout: float = 30.0) -> None:
        """Release every connection, after the operations in flight (in any thread) finish."""
        self.shared.close()
        self.database.close(timeout=timeout)
