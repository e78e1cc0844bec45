"""A period of time a statement refers to: a day, a month, a year, or a part of one.

``Period`` is what ``corpus.dates`` finds in sentences and questions and what a document's
``published`` date becomes. Its ``precision`` says how it is written (``iso``, ``label``);
``start`` and ``end`` say which days it covers, so "the end of April 2025" is April 21-30 at month
precision and "spring 2025" March 1 to May 31 at month precision.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Precision = Literal["day", "month", "year"]

#: Month names for labels: nominative (a month on its own) and genitive (after a day or a part).
MONTHS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        tuple(calendar.month_name[m] for m in range(1, 13)),
        tuple(calendar.month_name[m] for m in range(1, 13)),
    ),
    "ru": (
        (
            "январь", "февраль", "март", "апрель", "май", "июнь",
            "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
        ),
        (
            "января", "февраля", "марта", "апреля", "мая", "июня",
            "июля", "августа", "сентября", "октября", "ноября", "декабря",
        ),
    ),
    "be": (
        (
            "студзень", "люты", "сакавік", "красавік", "травень", "чэрвень",
            "ліпень", "жнівень", "верасень", "кастрычнік", "лістапад", "снежань",
        ),
        (
            "студзеня", "лютага", "сакавіка", "красавіка", "траўня", "чэрвеня",
            "ліпеня", "жніўня", "верасня", "кастрычніка", "лістапада", "снежня",
        ),
    ),
}  # fmt: skip

#: Parts of a month, as day ranges: "the start of", "the middle of", "the end of".
MONTH_PARTS: dict[str, tuple[int, int]] = {"start": (1, 10), "mid": (11, 20), "end": (21, 31)}

#: Parts of a year, as month ranges. "The end of 2025" is its last two months; "late 2025" its
#: last third, which is what English and Russian usage stretch to ("в конце года" in October).
YEAR_PARTS: dict[str, tuple[int, int]] = {
    "start": (1, 2),
    "early": (1, 4),
    "first_half": (1, 6),
    "mid": (5, 8),
    "second_half": (7, 12),
    "late": (9, 12),
    "end": (11, 12),
    "q1": (1, 3),
    "q2": (4, 6),
    "q3": (7, 9),
    "q4": (10, 12),
}

#: The parts (of ``MONTH_PARTS`` and ``YEAR_PARTS``) that point at their first or last day.
_START_PARTS = frozenset({"start", "early", "first_half"})
_END_PARTS = frozenset({"end", "late", "second_half"})

#: Seasons as (first month, last month); winter starts in December of the year before.
SEASONS: dict[str, tuple[int, int]] = {
    "winter": (12, 2),
    "spring": (3, 5),
    "summer": (6, 8),
    "autumn": (9, 11),
}

_LABEL_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "start": "start of {}", "mid": "mid-{}", "end": "end of {}",
        "early": "early {}", "late": "late {}", "first_half": "first half of {}",
        "second_half": "second half of {}", "winter": "winter {}", "spring": "spring {}",
        "summer": "summer {}", "autumn": "autumn {}", "year": "{}", "span": "{} – {}",
        "q1": "first quarter of {}", "q2": "second quarter of {}", "q3": "third quarter of {}",
        "q4": "fourth quarter of {}",
    },
    "ru": {
        "start": "начало {}", "mid": "середина {}", "end": "конец {}",
        "early": "начало {}", "late": "конец {}", "first_half": "первая половина {}",
        "second_half": "вторая половина {}", "winter": "зима {}", "spring": "весна {}",
        "summer": "лето {}", "autumn": "осень {}", "year": "{} г.", "span": "{} – {}",
        "q1": "I квартал {}", "q2": "II квартал {}", "q3": "III квартал {}", "q4": "IV квартал {}",
    },
    "be": {
        "start": "пачатак {}", "mid": "сярэдзіна {}", "end": "канец {}",
        "early": "пачатак {}", "late": "канец {}", "first_half": "першая палова {}",
        "second_half": "другая палова {}", "winter": "зіма {}", "spring": "вясна {}",
        "summer": "лета {}", "autumn": "восень {}", "year": "{} г.", "span": "{} – {}",
        "q1": "I квартал {}", "q2": "II квартал {}", "q3": "III квартал {}", "q4": "IV квартал {}",
    },
}  # fmt: skip

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``start`` to ``end`` (inclusive), written at ``precision``."""

    start: date
    end: date
    precision: Precision

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def day(cls, value: date) -> Period:
        """One day."""
        return cls(value, value, "day")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """One whole month."""
        return cls(date(year, month, 1), month_end(year, month), "month")

    @classmethod
    def year(cls, year: int) -> Period:
        """One whole year."""
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def months(cls, year: int, first: int, last: int) -> Period:
        """Months ``first`` to ``last`` of ``year`` at month precision (``first`` may be larger:
        then it is in the year before, as December is for winter)."""
        start_year = year - 1 if first > last else year
        return cls(date(start_year, first, 1), month_end(year, last), "month")

    @classmethod
    def from_iso(cls, text: str) -> Period:
        """``2026-02-01``, ``2026-02`` or ``2026``, or an interval of two of them
        (``2026-01/2026-04``, ISO 8601): the inverse of ``iso`` (and the form of a document's
        ``published``); ``ValueError`` for anything else."""
        first, slash, last = text.strip().partition("/")
        if slash:
            if "/" in last:
                raise ValueError(f"not an interval like 2026-01/2026-04: {text!r}")
            start, end = cls.from_iso(first), cls.from_iso(last)
            if end.end < start.start:
                raise ValueError(f"not an interval like 2026-01/2026-04: {text!r}")
            precision = start.precision if start.precision == end.precision else "month"
            return cls(start.start, end.end, precision)
        match = _ISO.match(first)
        if not match:
            raise ValueError(f"not a date like 2026-02-01, 2026-02 or 2026: {text!r}")
        year, month, day = (int(g) if g else None for g in match.groups())
        assert year is not None
        try:
            if month is None:
                return cls.year(year)
            if day is None:
                return cls.month(year, month)
            return cls.day(date(year, month, day))
        except ValueError as exc:
            raise ValueError(f"not a real date: {text!r} ({exc})") from exc

    # -- reading --------------------------------------------------------------------------------

    def iso(self) -> str:
        """``2026-02-01``, ``2026-02`` or ``2026`` by precision (a part of a month gives its
        month); a period of several days, months or years at that precision, such as "from
        January to April 2026" or a season, is an ISO 8601 interval, ``2026-01/2026-04``."""
        first, last = self._unit(self.start), self._unit(self.end)
        return first if first == last else f"{first}/{last}"

    def _unit(self, day: date) -> str:
        if self.precision == "day":
            return day.isoformat()
        if self.precision == "month":
            return f"{day.year:04d}-{day.month:02d}"
        return f"{day.year:04d}"

    @property
    def middle(self) -> date:
        """The day halfway through the period."""
        return self.start + timedelta(days=(self.end - self.start).days // 2)

    @property
    def anchor(self) -> date | None:
        """The day a part of a month or a year points at: its first for "the start of" /
        "early" / "the first half", its last for "the end of" / "late" / "the second half", its
        middle for "mid-"; None for a whole month or year, a season, a quarter or a span."""
        part = self._month_part() if self.start.month == self.end.month else None
        if part is None and (found := self._year_part()) is not None:
            part = found[0]
        if part in _START_PARTS:
            return self.start
        if part in _END_PARTS:
            return self.end
        return self.middle if part == "mid" else None

    def contains(self, other: Period) -> bool:
        """Whether every day of ``other`` is inside this period."""
        return self.start <= other.start and other.end <= self.end

    def distance_days(self, other: Period) -> int:
        """Days between the two periods: 0 when they overlap, else the gap between the nearer
        ends (so a month is 0 days from each of its days)."""
        if other.end < self.start:
            return (self.start - other.end).days
        if self.end < other.start:
            return (other.start - self.end).days
        return 0

    def shifted_years(self, years: int) -> Period:
        """The same days ``years`` later (earlier when negative); 29 February becomes the 28th,
        and a period that ends a month still ends it (February 2025 -> 1-29 February 2024)."""
        end = _shift_year(self.end, years)
        if self.end == month_end(self.end.year, self.end.month):
            end = month_end(end.year, end.month)
        return Period(_shift_year(self.start, years), end, self.precision)

    # -- writing --------------------------------------------------------------------------------

    def label(self, language: str) -> str:
        """How a reader says it: "1 February 2026", "February 2026", "1 февраля 2026 г.",
        "люты 2026 г.", "end of April 2025", "весна 2025 г.". English for unknown languages.

        A month on its own is in the nominative (a heading, or after "на" in "по состоянию на
        февраль"); after a day or a part of the month, in the genitive.
        """
        language = language if language in MONTHS else "en"
        nominative, genitive = MONTHS[language]
        words = _LABEL_WORDS[language]
        year_word = words["year"]
        start, end = self.start, self.end
        if self.precision == "day":
            return f"{start.day} {genitive[start.month - 1]} {year_word.format(start.year)}"
        if self.precision == "year" or self._is_whole_years():
            if start.year == end.year:
                return year_word.format(start.year)
            return words["span"].format(start.year, year_word.format(end.year))
        if start.year == end.year and start.month == end.month:
            part = self._month_part()
            if part is None:
                return f"{nominative[start.month - 1]} {year_word.format(start.year)}"
            return words[part].format(f"{genitive[start.month - 1]} {year_word.format(start.year)}")
        named = self._year_part()
        if named is not None:
            name, year = named
            text = f"{year - 1}/{year % 100:02d}" if name == "winter" else str(year)
            return words[name].format(text if language == "en" else f"{text} г.")
        first = f"{nominative[start.month - 1]} {year_word.format(start.year)}"
        last = f"{nominative[end.month - 1]} {year_word.format(end.year)}"
        return words["span"].format(first, last)

    def _is_whole_years(self) -> bool:
        return (self.start.month, self.start.day) == (1, 1) and (self.end.month, self.end.day) == (
            12,
            31,
        )

    def _month_part(self) -> str | None:
        last = calendar.monthrange(self.start.year, self.start.month)[1]
        days = (self.start.day, min(self.end.day, last))
        if days == (1, last):
            return None
        for name, (first, final) in MONTH_PARTS.items():
            if days == (first, min(final, last)):
                return name
        return None

    def _year_part(self) -> tuple[str, int] | None:
        if self.start.day != 1 or self.end != month_end(self.end.year, self.end.month):
            return None
        months = (self.start.month, self.end.month)
        for name, bounds in SEASONS.items():
            same_year = name != "winter" and self.start.year == self.end.year
            crosses = name == "winter" and self.start.year + 1 == self.end.year
            if months == bounds and (same_year or crosses):
                return name, self.end.year
        if self.start.year != self.end.year:
            return None
        for name, bounds in YEAR_PARTS.items():
            if months == bounds:
                return name, self.start.year
        return None


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
