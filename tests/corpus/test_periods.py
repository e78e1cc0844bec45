"""Periods: ISO forms, labels in three languages, containment and distance."""

from __future__ import annotations

from datetime import date

import pytest

from corpus.periods import Period


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("2026-02-01", date(2026, 2, 1), date(2026, 2, 1), "day"),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "month"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "year"),
    ],
)
def test_from_iso_and_back(text: str, start: date, end: date, precision: str) -> None:
    period = Period.from_iso(text)
    assert (period.start, period.end, period.precision) == (start, end, precision)
    assert period.iso() == text
    assert Period.from_iso(period.iso()) == period


@pytest.mark.parametrize("text", ["2026-13", "2026-02-30", "Feb 2026", "", "26-02-01", "2026-2"])
def test_from_iso_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        Period.from_iso(text)


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 2, 2), date(2026, 2, 1), "day")


def test_a_part_of_a_month_writes_its_month_and_a_span_an_interval() -> None:
    end_of_april = Period(date(2025, 4, 21), date(2025, 4, 30), "month")
    assert end_of_april.iso() == "2025-04"
    assert Period.months(2025, 3, 5).iso() == "2025-03/2025-05"
    assert Period.months(2025, 12, 2).iso() == "2024-12/2025-02"  # winter 2025 starts in December
    assert Period(date(2020, 1, 1), date(2024, 12, 31), "year").iso() == "2020/2024"
    for period in (Period.months(2026, 1, 4), Period.months(2025, 12, 2), Period.year(2026)):
        assert Period.from_iso(period.iso()) == period


@pytest.mark.parametrize("text", ["2026-04/2026-01", "2026/2027/2028", "2026-01/", "/2026"])
def test_an_interval_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Period.from_iso(text)


LABELS = [
    (Period.from_iso("2026-02-01"), "1 February 2026", "1 февраля 2026 г.", "1 лютага 2026 г."),
    (Period.from_iso("2026-02"), "February 2026", "февраль 2026 г.", "люты 2026 г."),
    (Period.from_iso("2026"), "2026", "2026 г.", "2026 г."),
    (
        Period(date(2025, 4, 21), date(2025, 4, 30), "month"),
        "end of April 2025",
        "конец апреля 2025 г.",
        "канец красавіка 2025 г.",
    ),
    (
        Period(date(2025, 3, 11), date(2025, 3, 20), "month"),
        "mid-March 2025",
        "середина марта 2025 г.",
        "сярэдзіна сакавіка 2025 г.",
    ),
    (Period.months(2025, 3, 5), "spring 2025", "весна 2025 г.", "вясна 2025 г."),
    (Period.months(2025, 12, 2), "winter 2024/25", "зима 2024/25 г.", "зіма 2024/25 г."),
    (Period.months(2025, 1, 4), "early 2025", "начало 2025 г.", "пачатак 2025 г."),
    (Period.months(2024, 1, 3), "first quarter of 2024", "I квартал 2024 г.", "I квартал 2024 г."),
    (
        Period(date(2025, 2, 15), date(2026, 2, 15), "month"),
        "February 2025 – February 2026",
        "февраль 2025 г. – февраль 2026 г.",
        "люты 2025 г. – люты 2026 г.",
    ),
]


@pytest.mark.parametrize(("period", "en", "ru", "be"), LABELS)
def test_labels_read_naturally(period: Period, en: str, ru: str, be: str) -> None:
    assert period.label("en") == en
    assert period.label("ru") == ru
    assert period.label("be") == be


def test_an_unknown_language_gets_the_english_label() -> None:
    assert Period.from_iso("2026-02-01").label("pl") == "1 February 2026"


def test_contains_and_distance() -> None:
    february = Period.from_iso("2026-02")
    first = Period.from_iso("2026-02-01")
    march = Period.from_iso("2026-03-10")
    assert february.contains(first)
    assert not first.contains(february)
    assert not february.contains(march)
    assert february.distance_days(first) == 0
    assert first.distance_days(february) == 0
    assert february.distance_days(march) == 10  # 28 February to 10 March
    assert march.distance_days(february) == 10
    assert Period.from_iso("2025").distance_days(Period.from_iso("2026-01-31")) == 31


def test_shifting_a_leap_day_by_a_year_lands_on_the_28th() -> None:
    leap = Period.from_iso("2024-02-29")
    assert leap.shifted_years(-1) == Period.from_iso("2023-02-28")
    assert Period.from_iso("2025-02").shifted_years(-1) == Period.from_iso("2024-02")


@pytest.mark.parametrize(
    ("period", "anchor"),
    [
        (Period.months(2026, 1, 2), date(2026, 1, 1)),  # the start of 2026
        (Period.months(2024, 1, 4), date(2024, 1, 1)),  # early 2024
        (Period.months(2025, 11, 12), date(2025, 12, 31)),  # the end of 2025
        (Period.months(2025, 9, 12), date(2025, 12, 31)),  # late 2025
        (Period(date(2026, 4, 21), date(2026, 4, 30), "month"), date(2026, 4, 30)),  # end of April
        (Period(date(2026, 3, 11), date(2026, 3, 20), "month"), date(2026, 3, 15)),  # mid-March
        (Period.month(2026, 1), None),
        (Period.months(2026, 1, 12), None),
        (Period.months(2025, 3, 5), None),  # spring
        (Period.months(2025, 1, 3), None),  # a quarter
        (Period.day(date(2026, 1, 1)), None),
    ],
)
def test_a_part_points_at_a_day(period: Period, anchor: date | None) -> None:
    assert period.anchor == anchor
