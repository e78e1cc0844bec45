"""What readers leave behind, anonymously: feedback votes and per-day question counts."""

from __future__ import annotations

from corpus.engine import Database
from corpus.stores.clock import now


class ReaderStore:
    """Feedback and daily counts of one database (no user, no question text)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record_feedback(self, passage_id: int, vote: int) -> bool:
        """Store an anonymous vote (+1 useful, -1 not) on a passage; False if it is gone."""
        with self.database.transaction(exclusive=False) as db:
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

    def count_question(self, *, answered: bool) -> None:
        """Add one question to today's anonymous counts."""
        with self.database.transaction(exclusive=False) as db:
            db.execute(
                "INSERT INTO daily_questions (day, asked, answered) VALUES (?, 1, ?) "
                "ON CONFLICT (day) DO UPDATE SET asked = daily_questions.asked + 1, "
                "answered = daily_questions.answered + excluded.answered",
                (now()[:10], 1 if answered else 0),
            )

    def daily_questions(self, days: int = 14) -> list[tuple[str, int, int]]:
        """``(day, asked, answered)`` for the latest ``days`` days with questions."""
        rows = self.database.execute(
            "SELECT day, asked, answered FROM daily_questions ORDER BY day DESC LIMIT ?", (days,)
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def feedback_by_source(self) -> list[tuple[str, str, int, int]]:
        """``(source id, title, useful, not useful)`` for sources with votes."""
        rows = self.database.execute(
            "SELECT f.source_id, COALESCE(s.title, '(removed)'), "
            "SUM(CASE WHEN f.vote > 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN f.vote < 0 THEN 1 ELSE 0 END) FROM feedback f "
            "LEFT JOIN sources s ON s.id = f.source_id GROUP BY f.source_id, s.title "
            "ORDER BY COUNT(*) DESC, f.source_id"
        )
        return [(row[0], row[1], int(row[2]), int(row[3])) for row in rows]
