"""Which passages state something about a given time: the as-of dates of their sentences.

A question about a point in time ("how many in February 2026?") is answered by a passage dated
then, which dense search and BM25 may rank below passages that merely read like the question (a
figure of another month): the first stage also takes the passages dated in the period asked
about. Like FAISS, this index holds ids and days only; text lives in the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

from corpus.models import Passage
from corpus.periods import Period

_FILE = "dates.npy"


class DateIndex:
    """One row per dated sentence: ``(passage id, first day, last day)``, days as ordinals."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    @classmethod
    def build(cls, passages: Iterable[Passage]) -> DateIndex:
        """From the passages' own sentence dates (``Passage.dates``; a document's date is not a
        statement's, so a passage without one is not indexed)."""
        rows: list[tuple[int, int, int]] = []
        for passage in passages:
            for iso in {d for d in passage.dates if d}:
                period = Period.from_iso(iso)
                rows.append((passage.id, period.start.toordinal(), period.end.toordinal()))
        return cls(np.array(rows, dtype=np.int64).reshape(-1, 3))

    def save(self, folder: Path) -> None:
        np.save(folder / _FILE, self.rows)

    @classmethod
    def load(cls, folder: Path) -> DateIndex:
        """What ``save`` wrote; a build written before dates were indexed has none."""
        path = folder / _FILE
        if not path.exists():
            return cls(np.zeros((0, 3), dtype=np.int64))
        return cls(np.load(path))

    def within(self, period: Period, *, slack_days: int = 0) -> list[int]:
        """The passages with a sentence dated inside ``period`` widened by ``slack_days`` on
        each side (overlapping it), by id: "a year ago" asked on 1 December is answered by a
        count of 1 November."""
        start = period.start.toordinal() - slack_days
        end = period.end.toordinal() + slack_days
        rows = self.rows
        hit = (rows[:, 1] <= end) & (rows[:, 2] >= start)
        return [int(pid) for pid in np.unique(rows[hit, 0])]

    def latest(self, days: int, *, until: date | None = None) -> Period | None:
        """The last ``days`` days up to the newest date any sentence states, not after
        ``until`` (a document dated ahead by mistake moves nothing), or None: where the current
        state of a figure is found."""
        ends = self.rows[:, 2]
        if until is not None:
            ends = ends[self.rows[:, 1] <= until.toordinal()]
        if not len(ends):
            return None
        end = min(date.fromordinal(int(ends.max())), until or date.max)
        return Period(date.fromordinal(end.toordinal() - days), end, "day")
