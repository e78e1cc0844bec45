"""How a hit's date reads: a day, a month, a season or a span as a reader says it."""

from __future__ import annotations

import pytest

from bot.render import date_label
from corpus.models import Hit, Passage, Source, Span

SOURCE = Source(id="s", identity="https://example.org/r", title="Report", published="2026-05-10")
PASSAGE = Passage(
    id=1, source_id="s", ordinal=0, text="A sentence.", char_start=0, char_end=11,
    sentences=(Span(start=0, end=11),),
)  # fmt: skip


def hit(as_of: str | None) -> Hit:
    return Hit(
        passage=PASSAGE, source=SOURCE, score=1.0, highlight=Span(start=0, end=11), as_of=as_of
    )


@pytest.mark.parametrize(
    ("as_of", "language", "label"),
    [
        ("2026-02-01", "en", "1 February 2026"),
        ("2026-02", "ru", "февраль 2026 г."),
        # A season is stored as the interval of its months, and reads as the season.
        ("2025-03/2025-05", "en", "spring 2025"),
        ("2025-03/2025-05", "be", "вясна 2025 г."),
        ("2020/2024", "en", "2020 – 2024"),
        # No date of its own: the publication date.
        (None, "en", "10 May 2026"),
    ],
)
def test_a_hits_date_reads_as_a_reader_says_it(
    as_of: str | None, language: str, label: str
) -> None:
    assert date_label(hit(as_of), language) == label
