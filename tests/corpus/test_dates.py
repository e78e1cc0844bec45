"""Dates: the as-of date of a sentence and the time a question asks about, in three languages.

Real dateparser, no models. Expected values: "2026-02-01" / "2026-02" / "2026" compare by iso,
"2025-04-21..2025-04-30" compares start and end, None is no date.
"""

from __future__ import annotations

from datetime import date

import pytest

from corpus import dates
from corpus.dates import (
    MAX_TEXT_CHARS,
    DateOptions,
    TimeKind,
    as_of,
    document_as_of,
    figure_dates,
    find_dates,
    looks_back,
    passage_as_of,
    question_time,
    sentence_dates,
    warm_up,
)
from corpus.periods import Period


def same(found: Period | None, expected: str | None) -> bool:
    if expected is None or found is None:
        return expected is None and found is None
    if ".." in expected:
        first, last = expected.split("..")
        return (found.start, found.end) == (
            Period.from_iso(first).start,
            Period.from_iso(last).end,
        )
    return found.iso() == expected


def show(found: Period | None) -> str:
    return f"{found.start}..{found.end} ({found.precision})" if found else "None"


# (published, sentence, expected as-of)
ENGLISH = [
    (
        "2026-02-12",
        "As of 1 February 2026, the centre counted 1,080 political prisoners.",
        "2026-02-01",
    ),
    ("2026-02-12", "The list stood at 1,080 names as of February 1, 2026.", "2026-02-01"),
    (
        "2025-05-04",
        "At the end of April, 1,150 people were held for political reasons.",
        "2025-04-21..2025-04-30",
    ),
    ("2025-11-05", "In October the monitor counted 1,110 political prisoners.", "2025-10"),
    ("2026-02-12", "A year ago there were 1,310 of them.", "2025-02"),
    (
        "2025-04-01",
        "By mid-March 2025, 1,190 people remained behind bars.",
        "2025-03-11..2025-03-20",
    ),
    ("2025-07-01", "In spring 2025 the number hovered around 1,200.", "2025-03-01..2025-05-31"),
    ("2025-09-20", "Last spring about 1,200 people were in prison.", "2025-03-01..2025-05-31"),
    ("2025-03-20", "In early 2025 the list held some 1,250 names.", "2025-01-01..2025-04-30"),
    (
        "2026-01-08",
        "At the end of last year, 1,105 names were on the list.",
        "2025-11-01..2025-12-31",
    ),
    ("2026-02-12", "The list had 1,080 names on 01.02.2026.", "2026-02-01"),
    ("2026-02-12", "Last month the monitor recorded 1,092 political prisoners.", "2026-01"),
    ("2026-02-12", "Today 1,080 people remain in prison.", "2026-02-12"),
    ("2025-10-02", "The count rose from 1,050 in August to 1,110 in September.", "2025-09"),
    ("2025-02-15", "Of those, 41 were sentenced in January.", "2025-01"),
    ("2026-10-06", "The September count was 1,010.", "2026-09"),
    ("2024-04-10", "In the first quarter of 2024, 90 names were added.", "2024-01-01..2024-03-31"),
    # Not as-of dates.
    (
        "2025-09-24",
        "Since 2020, more than 3,000 people have been recognised as political prisoners.",
        None,
    ),
    ("2026-02-12", "Ales Bialiatski, arrested in July 2021, is one of the 1,080 prisoners.", None),
    ("2025-06-01", "He was sentenced on 3 May to five years in a colony.", None),
    ("2025-12-05", "The authorities promise to free all of them by 2030.", None),
    ("2026-02-12", "On 1 March 2026 the list is expected to shrink again by 20.", None),
    ("2026-02-12", "There are 1,080 prisoners, down from 1,310 in February 2025.", None),
    ("2026-02-12", "Tsikhanouskaya left Belarus in August 2020.", None),
    # Both ends of a span: a total over it, true of the span.
    (
        "2026-02-12",
        "Between 2020 and 2025 about 7,000 people were convicted.",
        "2020-01-01..2025-12-31",
    ),
    ("2025-11-03", "The prisoners will be released in December, officials said.", None),
    (
        "2024-01-15",
        "The centre has counted women separately since it began in 2021, now 181.",
        "2024-01-15",
    ),
    ("2026-02-12", "They may face new charges, the lawyer said.", None),
    (
        "2025-02-15",
        "That is 200 fewer than a year ago, as people convicted in 2021 finish their terms.",
        None,
    ),
]
RUSSIAN = [
    ("2026-03-25", "Весной прошлого года в списке было 1 201 человек.", "2025-03-01..2025-05-31"),
    (
        "2025-08-20",
        "По состоянию на 15 августа 2025 года в Беларуси 1 180 политзаключённых.",
        "2025-08-15",
    ),
    (
        "2026-02-16",
        "В конце января правозащитники насчитывали 1 090 политзаключённых.",
        "2026-01-21..2026-01-31",
    ),
    ("2026-02-16", "В январе 2026 года в списке было 1 100 имён.", "2026-01"),
    ("2026-02-16", "На 1 февраля в списке 1 080 человек.", "2026-02-01"),
    ("2026-02-16", "На 1-е февраля в списке 1 080 человек.", "2026-02-01"),
    ("2026-02-16", "Год назад политзаключённых было 1 310.", "2025-02"),
    ("2026-02-16", "Месяц назад их было 1 095.", "2026-01"),
    ("2026-02-16", "В прошлом году суды вынесли более 1 600 приговоров.", "2025"),
    ("2025-01-09", "В конце прошлого года политзаключённых было 1 260.", "2024-11-01..2024-12-31"),
    (
        "2025-04-10",
        "Весной 2025 года за решёткой оставались около 1 200 человек.",
        "2025-03-01..2025-05-31",
    ),
    ("2024-10-12", "Полгода назад их было около 1 400.", "2024-04"),
    ("2026-02-16", "Сейчас в списке 1 080 человек.", "2026-02-16"),
    ("2025-02-15", "37 человек осуждены в январе.", "2025-01"),
    ("2026-11-12", "В середине октября их число составляло 1 020.", "2026-10-11..2026-10-20"),
    # Not as-of dates.
    ("2025-12-05", "Власти обещают освободить всех до 2030 года.", None),
    ("2026-02-16", "С 2020 года политзаключёнными признаны более 3 000 человек.", None),
    ("2025-06-01", "Его приговорили 3 мая к пяти годам колонии.", None),
    ("2026-11-12", "Это на 300 человек меньше, чем год назад.", None),
    (
        "2026-11-12",
        "В 2024–2025 годах суды вынесли около 3 000 приговоров.",
        "2024-01-01..2025-12-31",
    ),
    ("2026-02-16", "Эксперты ожидают новых освобождений в марте.", None),
    (
        "2025-08-20",
        "С начала года начато 212 дел, тогда как за весь 2024 год их было около двухсот.",
        None,
    ),
]
BELARUSIAN = [
    ("2025-12-05", "На 1 снежня 2025 года ў Беларусі 1 110 палітвязняў.", "2025-12-01"),
    (
        "2025-11-03",
        "На канец кастрычніка праваабаронцы налічвалі 1 120 палітвязняў.",
        "2025-10-21..2025-10-31",
    ),
    ("2026-03-25", "У лютым 2026 года ў спісе было 1 080 чалавек.", "2026-02"),
    ("2026-03-25", "У студзені праваабаронцы налічылі 1 095 палітвязняў.", "2026-01"),
    ("2026-03-25", "На 1-га лютага ў спісе было 1 080 імёнаў.", "2026-02-01"),
    ("2026-03-25", "Год таму палітвязняў было 1 300.", "2025-03"),
    ("2025-12-05", "Месяц таму праваабаронцы налічвалі 1 120 палітвязняў.", "2025-11"),
    ("2026-03-25", "Летась суды вынеслі больш за 1 600 прысудаў.", "2025"),
    # A season beside its year is one date; a word's first ў is a у to the patterns.
    ("2026-03-25", "Летась увесну ў спісе было 1 201 чалавек.", "2025-03-01..2025-05-31"),
    ("2026-03-25", "Справы былі ўлетку 2024 года ў 612 чалавек.", "2024-06-01..2024-08-31"),
    ("2026-03-25", "У мінулым годзе вызвалілі каля 300 чалавек.", "2025"),
    ("2025-08-27", "Два гады таму іх было блізу 1 500.", "2023-08"),
    ("2025-08-27", "Па стане на 25 жніўня 2025 года палітвязняў 1 180.", "2025-08-25"),
    ("2026-11-29", "На 1 сьнежня 2025 года палітвязняў было 1 110.", "2025-12-01"),
    ("2026-11-29", "У верасьні вызвалілі 24 чалавекі.", "2026-09"),
    ("2025-03-05", "У лютым праваабаронцы зафiксавалi 1 240 палiтвязняў.", "2025-02"),
    ("2024-07-05", "Паўгода таму іх было 1 430.", "2024-01"),
    ("2026-05-20", "Зімой вызвалілі каля 60 чалавек.", "2025-12-01..2026-02-28"),
    ("2025-08-27", "Цяпер за кратамі 1 180 чалавек.", "2025-08-27"),
    (
        "2026-05-10",
        "За студзень–красавік 2026 года МУС прызнала экстрэмісцкімі 74 арганізацыі.",
        "2026-01-01..2026-04-30",
    ),
    # Not as-of dates.
    ("2025-04-08", "Яго асудзілі 3 сакавіка на пяць гадоў.", None),
    ("2025-04-08", "З 2020 года палітвязнямі прызналі больш за 3 000 чалавек.", None),
    ("2025-04-08", "Улады абяцаюць вызваліць усіх да 2030 года.", None),
    ("2026-11-29", "Гэта на 300 чалавек менш, чым год таму.", None),
    ("2026-11-03", "Праваабарончы цэнтр «Вясна» заснаваны ў 1996 годзе.", None),
    (
        "2025-04-08",
        "Падставай стаў перавод 20 еўра ў фонд, які ў 2020 годзе дапамагаў сем'ям.",
        None,
    ),
]


@pytest.mark.parametrize(
    ("language", "published", "sentence", "expected"),
    [("en", *case) for case in ENGLISH]
    + [("ru", *case) for case in RUSSIAN]
    + [("be", *case) for case in BELARUSIAN],
)
def test_as_of(language: str, published: str, sentence: str, expected: str | None) -> None:
    found = as_of(sentence, language=language, published=Period.from_iso(published))
    assert same(found, expected), f"{sentence!r}: want {expected}, got {show(found)}"


def test_a_month_without_a_year_is_the_latest_on_or_before_publication() -> None:
    sentence = "At the end of April, 1,150 people were held."
    before = as_of(sentence, language="en", published=Period.from_iso("2025-04-10"))
    after = as_of(sentence, language="en", published=Period.from_iso("2025-05-02"))
    assert same(before, "2024-04-21..2024-04-30")
    assert same(after, "2025-04-21..2025-04-30")
    # A month-precision publication date counts to its last day.
    assert same(
        as_of(sentence, language="en", published=Period.from_iso("2025-04")),
        "2025-04-21..2025-04-30",
    )


def test_dates_a_few_days_after_publication_are_kept_later_ones_not() -> None:
    published = Period.from_iso("2026-01-30")
    kept = as_of("As of 1 February 2026, 1,080 remained.", language="en", published=published)
    dropped = as_of("As of 10 February 2026, 1,080 remained.", language="en", published=published)
    assert same(kept, "2026-02-01")
    assert dropped is None


def test_an_as_of_cue_beats_an_earlier_date_in_the_same_sentence() -> None:
    sentence = "In January 2026 the list grew, and as of 1 February 2026 it had 1,080 names."
    assert same(
        as_of(sentence, language="en", published=Period.from_iso("2026-02-10")), "2026-02-01"
    )


def test_words_of_the_present_take_the_document_date_when_given() -> None:
    published = Period.from_iso("2026-02-16")
    own = Period.from_iso("2026-02-01")
    sentence = "Сейчас нам известно о 34 таких людях."
    assert as_of(sentence, language="ru", published=published) == published
    assert as_of(sentence, language="ru", published=published, current=own) == own


def test_languages_without_date_tables_get_no_dates() -> None:
    published = Period.from_iso("2026-02")
    assert (
        as_of("Станом на 1 лютого 2026 року 1 080 в'язнів.", language="uk", published=published)
        is None
    )
    assert (
        question_time("Скільки в'язнів зараз?", language="uk", today=date(2026, 3, 1)).kind
        is TimeKind.CURRENT
    )


def test_a_sentence_without_a_date_never_reaches_dateparser() -> None:
    dates._dateparser.cache_clear()
    published = Period.from_iso("2026-02")
    for sentence, language in [
        ("Lukashenko's government still holds approximately 1,200 political prisoners.", "en"),
        ("They may march on the capital.", "en"),
        ("Правительство по-прежнему удерживает около 1 200 политических заключённых.", "ru"),
        ("Урад па-ранейшаму ўтрымлівае каля 1 200 палітвязняў.", "be"),
    ]:
        as_of(sentence, language=language, published=published)
    assert dates._dateparser.cache_info().currsize == 0


def test_text_past_the_bound_is_not_read() -> None:
    padding = "word " * (MAX_TEXT_CHARS // 5)
    sentence = padding + "As of 1 February 2026, 1,080 remained."
    assert as_of(sentence, language="en", published=Period.from_iso("2026-02-10")) is None
    many = " ".join(f"In January 2026 there were {n}." for n in range(1000))
    assert (
        len(find_dates(many, language="en", reference=Period.from_iso("2026-02")))
        == dates.MAX_MENTIONS
    )


def test_each_hand_written_piece_is_what_makes_its_case_work() -> None:
    published = Period.from_iso("2026-02-16")
    cases = [
        ("month_forms", "ru", "В январе 2026 года в списке было 1 100 имён."),
        ("ordinals", "be", "На 1-га лютага ў спісе было 1 080 імёнаў."),
        ("bare_units", "be", "Год таму палітвязняў было 1 300."),
        ("number_words", "be", "Два гады таму іх было блізу 1 500."),
        ("relative_words", "be", "Летась суды вынеслі больш за 1 600 прысудаў."),
        ("parts", "ru", "В конце января правозащитники насчитывали 1 090 политзаключённых."),
        ("seasons", "en", "Last spring about 1,200 people were in prison."),
    ]
    for option, language, sentence in cases:
        with_it = as_of(sentence, language=language, published=published)
        without = as_of(
            sentence,
            language=language,
            published=published,
            options=DateOptions(**{option: False}),
        )
        assert with_it is not None and with_it != without, option


def test_passage_dates_fall_back_to_neighbours_then_publication() -> None:
    published = Period.from_iso("2026-02-10")
    sentences = [
        "The monitor published its monthly brief.",
        "As of 1 February 2026, it counted 1,080 political prisoners.",
        "Among them were 147 women.",
    ]
    found = sentence_dates(sentences, language="en", published=published)
    assert found[0] is None and found[2] is None
    assert same(found[1], "2026-02-01")
    assert same(passage_as_of(found, 2, published), "2026-02-01")  # the one before
    assert same(passage_as_of(found, 0, published), "2026-02-01")  # else the one after
    assert passage_as_of((None, None), 1, published) == published
    with pytest.raises(IndexError):
        passage_as_of(found, 3, published)


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("en", "A year ago, 858 people were on the list.", True),
        ("en", "Twelve months earlier there were 858.", True),
        ("en", "Last year 858 people were on the list.", True),
        ("en", "The list passed 1,000 names as early as May.", True),
        ("en", "In May 2026, 1,000 people were on the list.", False),
        ("en", "This year 300 people were convicted.", False),
        ("ru", "Год назад в списке было 858 человек.", True),
        ("ru", "Отметку в тысячу человек список преодолел ещё в мае.", True),
        ("ru", "В прошлом году в списке было 858 человек.", True),
        ("ru", "По состоянию на 1 августа 2026 года в списке 1 071 человек.", False),
        ("ru", "В мае в списке была тысяча человек.", False),
        ("be", "Летась у гэты ж час у спісе было 858 чалавек.", True),
        ("be", "Год таму ў спісе было 858 чалавек.", True),
        ("be", "Спіс перавысіў тысячу чалавек яшчэ ў траўні.", True),
        ("be", "На 1 лістапада 2026 года ў спісе 1146 чалавек.", False),
        ("be", "Сёлета асудзілі 300 чалавек.", False),
        # A sentence without a date looks back at nothing.
        ("be", "Ужо завочна асуджаныя 718 чалавек.", False),
    ],
)
def test_looks_back(language: str, sentence: str, expected: bool) -> None:
    published = Period.from_iso("2026-11-05")
    # "Earlier" counts back from a date before it: the document's own, here its publication.
    found = looks_back(sentence, language=language, published=published, current=published)
    assert found is expected


def test_a_date_looking_back_is_its_own_sentence_only() -> None:
    published = Period.from_iso("2026-11-05")
    current = Period.from_iso("2026-11-01")
    sentences = [
        "На 1 лістапада 2026 года справы былі заведзеныя супраць 1146 беларусаў.",
        "Летась у гэты ж час у спісе было 858 чалавек.",
        "Праваабаронцы тлумачаць рост новымі справамі.",
        "Ужо завочна асуджаныя 718 чалавек з тых, хто трапіў у спіс.",
    ]
    found = sentence_dates(sentences, language="be", published=published, current=current)
    assert same(found[1], "2025")
    assert found[2] is None and found[3] is None
    back = [looks_back(s, language="be", published=published, current=current) for s in sentences]
    assert back == [False, True, False, False]
    # The sentences after "last year" speak of the present again: the date before it carries.
    assert same(passage_as_of(found, 3, current, back), "2026-11-01")
    assert same(passage_as_of(found, 1, current, back), "2025")  # its own date stays
    # Without the flags, the old rule: the nearest date before.
    assert same(passage_as_of(found, 3, current), "2025")
    # Nothing else in the passage: the document's own date.
    assert passage_as_of(found[1:], 2, current, back[1:]) == current


def test_a_year_earlier_counts_back_from_the_date_before_it() -> None:
    published = Period.from_iso("2026-01-15")
    sentences = ["На 1 января 2026 года в списке 34 человека.", "Годом ранее их было 39."]
    found = sentence_dates(sentences, language="ru", published=published)
    assert same(found[1], "2025-01")
    # Alone, "a year earlier" than nothing is no date.
    assert as_of(sentences[1], language="ru", published=published) is None


def test_document_as_of_is_the_lead_as_of_date() -> None:
    published = Period.from_iso("2026-02-10")
    lead = [
        "January brought a small decrease.",
        "As of 1 February 2026, the centre counted 1,139 political prisoners.",
    ]
    assert same(document_as_of(lead, language="en", published=published), "2026-02-01")
    history = ["As of 1 January 2024, the centre counted 1,437 political prisoners."]
    assert document_as_of(history, language="en", published=published) == published
    assert document_as_of(["No dates here."], language="en", published=published) == published


def test_figure_dates_give_each_figure_its_own_date() -> None:
    published = Period.from_iso("2026-01-10")
    sentence = (
        "As of 1 January 2026, the centre counted 1,147 political prisoners, "
        "compared with 1,265 twelve months earlier."
    )
    figures = figure_dates(sentence, language="en", published=published)
    assert [f.text for f in figures] == ["1,147", "1,265"]
    assert same(figures[0].period, "2026-01-01")
    assert same(figures[1].period, "2025-01")
    assert sentence[figures[1].start : figures[1].end] == "1,265"

    other = figure_dates(
        "The centre counted 1,085 as of 1 October 2026, up from 1,072 in mid-August.",
        language="en",
        published=Period.from_iso("2026-10-06"),
    )
    assert same(other[0].period, "2026-10-01")
    assert same(other[1].period, "2026-08-11..2026-08-20")

    belarusian = figure_dates(
        "Летась у гэты ж час іх было 1 149, а цяпер — 1 080.",
        language="be",
        published=Period.from_iso("2026-11-03"),
        current=Period.from_iso("2026-11-01"),
    )
    assert same(belarusian[0].period, "2025")
    assert same(belarusian[1].period, "2026-11-01")


# (question, expected kind, expected period); today is 2026-03-15.
QUESTIONS = {
    "en": [
        ("How many political prisoners remain?", "current", None),
        ("How many political prisoners are there now?", "current", None),
        ("Are people still held at present?", "current", None),
        ("When was Bialiatski arrested?", "current", None),
        ("How many have been freed since 2020?", "current", None),
        ("How many political prisoners were there in August 2025?", "point", "2025-08"),
        ("How many were held at the end of January 2026?", "point", "2026-01-21..2026-01-31"),
        ("How many political prisoners were there a year ago?", "point", "2025-03"),
        ("How many were held at the start of 2025?", "point", "2025-01-01..2025-02-28"),
        ("How many political prisoners were there last spring?", "point", "2025-03-01..2025-05-31"),
        ("how many political prisoners in may?", "point", "2025-05"),
        ("When in 2021 was he arrested?", "point", "2021"),
        ("How has the number of political prisoners changed?", "series", None),
        ("How did it change over the past year?", "series", "2025-03-15..2026-03-15"),
        ("What is the trend since 2020?", "series", "2020-01-01..2026-03-15"),
        ("Compare August 2025 and February 2026.", "series", "2025-08-01..2026-02-28"),
        ("How many are held now, compared with a year ago?", "current", None),
        ("How many were left after the February 2026 pardon?", "point", "2026-02"),
        ("Has the count gone down since 2024?", "series", "2024-01-01..2026-03-15"),
        # Both ends of a span: a figure of that span (a total over it), not of now.
        ("How many were sentenced from January to April 2025?", "point", "2025-01-01..2025-04-30"),
        ("How many were freed between 2020 and 2024?", "point", "2020-01-01..2024-12-31"),
        # Two months joined by a dash are the two ends too, not two points to compare.
        ("How many groups were banned in January–April 2025?", "point", "2025-01-01..2025-04-30"),
        # A season beside the year it is in is one period, not two points of a series.
        ("How many were closed in the spring of last year?", "point", "2025-03-01..2025-05-31"),
        ("How many were closed last year in summer?", "point", "2025-06-01..2025-08-31"),
        # A part of a season is its month; the end of a span with no start, a point.
        ("What was the count at the end of summer 2025?", "point", "2025-08"),
        ("How many had been liquidated until July 2024?", "point", "2024-07"),
        # A rise or fall going on still asks where it stands now.
        ("Is the number of political prisoners still falling?", "current", None),
        ("Is the count still growing, and where does it stand?", "current", None),
        ("Was it still growing in August 2025?", "point", "2025-08"),
    ],
    "ru": [
        ("Сколько политзаключённых сейчас?", "current", None),
        ("Сколько людей до сих пор за решёткой?", "current", None),
        ("Сколько политзаключённых на сегодня?", "current", None),
        ("Когда арестовали Беляцкого?", "current", None),
        ("Сколько было политзаключённых в конце января 2026?", "point", "2026-01-21..2026-01-31"),
        ("Сколько политзаключённых было год назад?", "point", "2025-03"),
        ("Сколько было в прошлом месяце?", "point", "2026-02"),
        ("сколько политзаключенных было в январе?", "point", "2026-01"),
        ("Сколько было политзаключённых на 1 февраля?", "point", "2026-02-01"),
        ("Как менялось число политзаключённых?", "series", None),
        ("Как изменилось число политзаключённых за год?", "series", "2025-03-15..2026-03-15"),
        ("Динамика числа политзаключённых", "series", None),
        ("Сколько политзаключённых сейчас, если сравнить с началом года?", "current", None),
        ("Сколько их было в середине февраля этого года?", "point", "2026-02-11..2026-02-20"),
        (
            "Сколько организаций запретили с января по апрель 2025-го?",
            "point",
            "2025-01-01..2025-04-30",
        ),
        (
            "Сколько организаций запретили за январь-апрель 2025 года?",
            "point",
            "2025-01-01..2025-04-30",
        ),
        # An event named by its month's adjective: that month (of the year given after it).
        ("Сколько осталось в списке после январского помилования?", "point", "2026-01"),
        ("Сколько их осталось после сентябрьского освобождения 2025 года?", "point", "2025-09"),
        ("Какие майские праздники в Беларуси?", "current", None),
        ("Сколько НКО ликвидировали весной прошлого года?", "point", "2025-03-01..2025-05-31"),
        ("Сколько их было в прошлом году летом?", "point", "2025-06-01..2025-08-31"),
        ("Сколько было в конце лета 2025 года?", "point", "2025-08"),
        ("Сколько организаций ликвидировали до июля 2024 года?", "point", "2024-07"),
        ("Число политзаключённых всё ещё растёт?", "current", None),
    ],
    "be": [
        ("Колькі палітвязняў цяпер?", "current", None),
        ("Колькі палітвязняў зараз?", "current", None),
        ("Колькі палітвязняў на сёння?", "current", None),
        ("Колькі людзей па-ранейшаму ў турмах?", "current", None),
        ("Колькі палітвязняў застаецца?", "current", None),
        ("Калі арыштавалі Бяляцкага?", "current", None),
        ("Колькі палітвязняў было ў лютым 2026?", "point", "2026-02"),
        ("Колькі палітвязняў было год таму?", "point", "2025-03"),
        ("Колькі палітвязняў было летась?", "point", "2025"),
        ("Колькi палiтвязняў было ў студзенi?", "point", "2026-01"),
        ("Як змянялася колькасць палітвязняў?", "series", None),
        ("Як мянялася колькасць палітвязняў за апошні год?", "series", "2025-03-15..2026-03-15"),
        ("Колькі палітвязняў цяпер у параўнанні з леташнім?", "current", None),
        ("Колькі іх было ў лютым гэтага года?", "point", "2026-02"),
        ("Ці зменшылася колькасць палітвязняў?", "series", None),
        (
            "Колькі арганізацый забаранілі са студзеня па красавік 2025 года?",
            "point",
            "2025-01-01..2025-04-30",
        ),
        (
            "Колькі арганізацый забаранілі за студзень–красавік 2025 года?",
            "point",
            "2025-01-01..2025-04-30",
        ),
        ("Колькі засталося пасля лютаўскага памілавання?", "point", "2026-02"),
        ("Колькі засталося пасля вераснёўскага вызвалення 2025 года?", "point", "2025-09"),
        ("колькі НДА было ліквідавана летась увесну", "point", "2025-03-01..2025-05-31"),
        # A word's first у is ў after a vowel: "справы ўлетку".
        ("Колькі беларусаў мелі справы ўлетку 2024 года?", "point", "2024-06-01..2024-08-31"),
        ("Колькі было ў канцы лета 2025 года?", "point", "2025-08"),
        ("Колькі арганізацый ліквідавалі да ліпеня 2024 года?", "point", "2024-07"),
        ("Колькасць палітвязняў па-ранейшаму расце?", "current", None),
    ],
}


@pytest.mark.parametrize(
    ("language", "question", "kind", "period"),
    [(language, *case) for language, cases in QUESTIONS.items() for case in cases],
)
def test_question_time(language: str, question: str, kind: str, period: str | None) -> None:
    intent = question_time(question, language=language, today=date(2026, 3, 15))
    assert intent.kind is TimeKind(kind), question
    assert same(intent.period, period), f"{question!r}: want {period}, got {show(intent.period)}"


def test_relative_questions_count_from_today() -> None:
    for today, expected in [(date(2025, 9, 30), "2024-09"), (date(2026, 3, 15), "2025-03")]:
        intent = question_time("How many were there a year ago?", language="en", today=today)
        assert intent.kind is TimeKind.POINT
        assert same(intent.period, expected)


def test_warm_up_parses_what_dated_questions_then_find_in_the_cache() -> None:
    dates._dateparser.cache_clear()
    warm_up()
    assert dates._dateparser.cache_info().currsize == 2 * len(dates.LANGUAGES)
    hits = dates._dateparser.cache_info().hits
    for language, question in [
        ("en", "How many were held on 1 January 2026?"),
        ("ru", "Сколько их было на 1 января 2026?"),
        ("be", "Колькі іх было на 1 студзеня 2026?"),
    ]:
        intent = question_time(question, language=language, today=date(2026, 3, 15))
        assert same(intent.period, "2026-01-01")
    assert dates._dateparser.cache_info().hits == hits + 3
