"""The date index: which passages state something about a given time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from corpus.models import Passage, Span
from corpus.periods import Period
from retrieval.dated import DateIndex


def passage(pid: int, *dates: str | None) -> Passage:
    text = " ".join(f"Sentence {i}." for i in range(len(dates)))
    spans = tuple(Span(start=12 * i, end=12 * i + 11) for i in range(len(dates)))
    return Passage(
        id=pid,
        source_id="s",
        ordinal=pid,
        text=text,
        char_start=0,
        char_end=len(text),
        sentences=spans,
        dates=dates,
    )


INDEX = DateIndex.build(
    [
        passage(1, "2026-02-01", None),
        passage(2, None, "2026-03"),
        passage(3, "2025"),
        passage(4, None, None),  # no date of its own: the document's is no statement's
        passage(5, "2026-02-15", "2026-02-15"),
    ]
)


def test_the_passages_dated_in_a_period_are_found() -> None:
    assert INDEX.within(Period.month(2026, 2)) == [1, 5]
    assert INDEX.within(Period.month(2026, 3)) == [2]
    assert INDEX.within(Period.year(2025)) == [3]
    assert INDEX.within(Period.month(2024, 1)) == []


def test_slack_widens_the_period_on_both_sides() -> None:
    # A count of 1 February is near a question about January.
    january = Period.month(2026, 1)
    assert INDEX.within(january) == []
    assert INDEX.within(january, slack_days=1) == [1, 3]
    assert INDEX.within(Period.day(date(2026, 4, 5)), slack_days=5) == [2]


def test_the_latest_days_end_at_the_newest_date_stated() -> None:
    latest = INDEX.latest(10)
    assert latest is not None
    assert (latest.start, latest.end) == (date(2026, 3, 21), date(2026, 3, 31))
    assert INDEX.within(latest) == [2]
    assert DateIndex.build([passage(4, None)]).latest(10) is None
    # Not after the day asked on: a sentence dated later (a document dated ahead) is left out.
    before = INDEX.latest(10, until=date(2026, 2, 20))
    assert before is not None
    assert (before.start, before.end) == (date(2026, 2, 5), date(2026, 2, 15))
    assert INDEX.latest(10, until=date(2024, 1, 1)) is None


def test_it_is_saved_and_loaded_and_an_older_build_without_it_has_none(tmp_path: Path) -> None:
    INDEX.save(tmp_path)
    assert DateIndex.load(tmp_path).within(Period.month(2026, 2)) == [1, 5]
    older = tmp_path / "older"
    older.mkdir()
    assert DateIndex.load(older).within(Period.year(2026)) == []


def test_a_passage_dated_by_a_span_is_found_in_every_month_of_it() -> None:
    # "From January to April 2026, 74 organisations were listed": stored as an interval.
    spanned = DateIndex.build([passage(7, Period.months(2026, 1, 4).iso())])
    assert spanned.within(Period.month(2026, 3)) == [7]
    assert spanned.within(Period.months(2026, 1, 4)) == [7]
    assert spanned.within(Period.month(2026, 5)) == []
