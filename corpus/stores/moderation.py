"""Moderation in the database: moderators added from Telegram, and the audit log of changes."""

from __future__ import annotations

from typing import NamedTuple

from corpus.engine import Connection, Database
from corpus.stores.clock import now


class AuditEntry(NamedTuple):
    """One change to the corpus or to the moderators."""

    at: str
    actor: str
    action: str
    source_id: str | None
    content_hash: str | None
    detail: str


def record_change(
    db: Connection,
    actor: str,
    action: str,
    source_id: str | None,
    content_hash: str | None,
    detail: str,
) -> None:
    """Write an audit row inside the transaction of the change it records."""
    db.execute(
        "INSERT INTO audit (at, actor, action, source_id, content_hash, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (now(), actor, action, source_id, content_hash, detail),
    )


class ModerationStore:
    """Moderators and the audit log of one database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def moderators(self) -> list[int]:
        """Moderators added from Telegram (those from the settings are not stored)."""
        rows = self.database.execute("SELECT user_id FROM moderators ORDER BY added_at")
        return [int(row[0]) for row in rows]

    def add_moderator(self, user_id: int, *, actor: str) -> bool:
        """Make ``user_id`` a moderator; False if already one."""
        with self.database.transaction() as db:
            added = db.execute(
                "INSERT INTO moderators (user_id, added_by, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (user_id, actor, now()),
            ).rowcount
            if added:
                record_change(db, actor, "moderator_add", None, None, str(user_id))
        return bool(added)

    def remove_moderator(self, user_id: int, *, actor: str) -> bool:
        """Take the moderator role from ``user_id``; False if they did not have it."""
        with self.database.transaction() as db:
            removed = db.execute("DELETE FROM moderators WHERE user_id = ?", (user_id,)).rowcount
            if removed:
                record_change(db, actor, "moderator_remove", None, None, str(user_id))
        return bool(removed)

    def history(self, limit: int = 20) -> list[AuditEntry]:
        """The latest changes, newest first."""
        rows = self.database.execute(
            "SELECT at, actor, action, source_id, content_hash, detail FROM audit "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*row) for row in rows]
