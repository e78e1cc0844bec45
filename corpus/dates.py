"""Dates in English, Russian and Belarusian: when a sentence's figure is true, and what a question
asks about time.

dateparser parses the dates; what it does not do is written here, and ``bench/dates.py``
measures what each piece buys (README, Dates):

- **Finding.** Cheap regular expressions per language find candidate phrases (built from a
  table of every case of every month name, numeric dates, years with a cue, relative phrases,
  seasons, and "the end / start / middle of" parts): one led by a digit, which the engine skips
  to, and one led by a word, run only when the text has one of its trigger words. A sentence
  without a date costs microseconds; dateparser sees the short phrase only, never the sentence.
- **Normalising** what dateparser lacks: inflected and taraškievica month forms ("в январе",
  "у лютым", "сьнежня") become the genitive it knows; "1-га лютага" loses its suffix; a bare
  unit gets its "1" ("год таму"); Belarusian number words become digits; "летась", "сёлета",
  "прошлого года" become the phrase dateparser knows. A year alone ("в 2025 году") is read by
  hand: four digits, which dateparser reads as year 1 with their word, for a millisecond.
- **Parts and seasons** ("at the end of April", "mid-March 2025", "early 2025", "весной 2025
  года", "last spring"): dateparser has none; they are computed on the period it returns.
- **Resolving** against a reference date: the document's publication date for a sentence, today
  for a question. A date without a year is the most recent one on or before the reference; a
  relative one ("a year ago", "месяц таму") counts back from the middle of the reference.
- **Deciding** which date is a sentence's as-of date (the rule, ``as_of``), a passage's
  (``sentence_dates``, ``passage_as_of``), a document's (``document_as_of``) and each figure's
  (``figure_dates``); and what a question asks about time (``question_time``).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum
from functools import cache, lru_cache

from dateparser.date import DateDataParser

from corpus.language import normalise_belarusian
from corpus.periods import (
    MONTH_PARTS,
    MONTHS,
    SEASONS,
    YEAR_PARTS,
    Period,
    Precision,
    add_months,
)

#: Languages whose dates are understood; others get no dates (and questions the current state).
LANGUAGES = ("en", "ru", "be")
#: A date this many days after publication is still taken (reports are dated a little ahead, and
#: "as of 1 February" may be published on 31 January); later ones are plans or typos.
FUTURE_SLACK_DAYS = 3
#: Only this much of a sentence or question is read: no input may cost unbounded time.
MAX_TEXT_CHARS = 2000
#: At most this many date phrases of one sentence go to dateparser.
MAX_MENTIONS = 8
#: How far before a date its cue words are looked for ("по состоянию на", "arrested in").
WINDOW_CHARS = 60
#: dateparser results kept (phrase, language, reference): corpora repeat their dates.
PARSE_CACHE_SIZE = 4096

_PRECISION_ORDER: dict[Precision, int] = {"day": 0, "month": 1, "year": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class DateOptions:
    """Which hand-written pieces run (all by default): switches for ``bench/dates.py``, which
    measures what each buys. Off, a piece's phrases go to dateparser as written, or are lost."""

    month_forms: bool = True  # "январе", "лютым", "сьнежня" -> the genitive dateparser knows
    ordinals: bool = True  # "1-га", "1-го" -> "1"
    bare_units: bool = True  # "год таму" -> "1 год таму"
    number_words: bool = True  # Belarusian "два гады таму" -> "2 гады таму"
    relative_words: bool = True  # "летась", "прошлого года", "this year" -> a phrase it knows
    year_words: bool = True  # "2025 году" -> 2025, read by hand
    parts: bool = True  # "the end of", "в начале", "mid-", "early"
    seasons: bool = True  # "spring 2025", "весной", "last spring"
    earlier: bool = True  # "a year earlier", "годом ранее": counted back from the date before
    cues: bool = True  # the as-of rule; off: the first date of a sentence, whatever its cue


DEFAULT_OPTIONS = DateOptions()


class Cue(IntEnum):
    """What the words before a date say about it, strongest as-of evidence first."""

    AS_OF = 0  # "as of", "по состоянию на", "па стане на", "на" + date
    PLAIN = 1  # "in October", "в январе", "a year ago", or no cue at all
    RANGE = 2  # "since 2020", "до 2030 года", "з 2020 года": one end of a span
    EVENT = 3  # "arrested in March 2021", "осуждён 3 мая": the date of an event
    COMPARISON = 4  # "down from 1,310 in February 2025", "по сравнению с ...": an older figure


@dataclass(frozen=True, slots=True)
class Mention:
    """A date phrase found in a text: where, what it resolves to, and its cue."""

    start: int
    end: int
    text: str
    period: Period
    cue: Cue
    explicit_year: bool
    #: Stated looking back from the text's own present ("a year ago", "last year", "летась",
    #: "ещё в мае", "as early as May"): the date of this statement only, not the time the
    #: sentences after it speak of (``passage_as_of``).
    looks_back: bool = False


class TimeKind(StrEnum):
    """What a question asks about time."""

    CURRENT = "current"  # the state now ("how many remain?"), or no time at all
    POINT = "point"  # the state at a time ("in August 2025", "год таму")
    SERIES = "series"  # how it changed ("over the past year", "как менялось")


@dataclass(frozen=True, slots=True)
class TimeIntent:
    """A question's time: its kind and, for a point, the time asked about (for a series, the
    span when the question gives one)."""

    kind: TimeKind
    period: Period | None = None


# -- language tables ------------------------------------------------------------------------------

# Every form a month name takes in running text, by month. English: full names (the only ones
# allowed without a day or year) and abbreviations. Russian: nominative, genitive,
# prepositional, dative, instrumental. Belarusian: the same cases, official orthography and
# taraškievica ("сьнежня", "верасьня").
_EN_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov",
                     "Dec")  # fmt: skip
_RU_FORMS = (
    "январь января январе январю январём январем",
    "февраль февраля феврале февралю февралём февралем",
    "март марта марте марту мартом",
    "апрель апреля апреле апрелю апрелем",
    "май мая мае маю маем",
    "июнь июня июне июню июнем",
    "июль июля июле июлю июлем",
    "август августа августе августу августом",
    "сентябрь сентября сентябре сентябрю сентябрём сентябрем",
    "октябрь октября октябре октябрю октябрём октябрем",
    "ноябрь ноября ноябре ноябрю ноябрём ноябрем",
    "декабрь декабря декабре декабрю декабрём декабрем",
)
_RU_ABBREVIATIONS = ("янв.", "февр.", "мар.", "апр.", "авг.", "сент.", "окт.", "нояб.", "дек.")
_BE_FORMS = (
    "студзень студзеня студзені студзеню студзенем",
    "люты лютага лютым лютаму",
    "сакавік сакавіка сакавіку сакавіком",
    "красавік красавіка красавіку красавіком",
    # "мая" is common in Belarusian texts beside the standard "траўня".
    "травень траўня траўні траўню траўнем май мая маі маю",
    "чэрвень чэрвеня чэрвені чэрвеню чэрвенем",
    "ліпень ліпеня ліпені ліпеню ліпенем",
    "жнівень жніўня жніўні жніўню жніўнем",
    "верасень верасня верасні вераснем верасьня верасьні верасьнем",
    "кастрычнік кастрычніка кастрычніку кастрычнікам",
    "лістапад лістапада лістападзе лістападу лістападам",
    "снежань снежня снежні снежню снежнем сьнежань сьнежня сьнежні сьнежню сьнежнем",
)

_NUMBER_WORDS = {
    "ru": {"один": 1, "одну": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
           "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "одиннадцать": 11,
           "двенадцать": 12},
    "be": {"адзін": 1, "адну": 1, "адна": 1, "два": 2, "дзве": 2, "тры": 3, "чатыры": 4,
           "пяць": 5, "шэсць": 6, "сем": 7, "восем": 8, "дзевяць": 9, "дзесяць": 10,
           "адзінаццаць": 11, "дванаццаць": 12},
    "en": {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12},
}  # fmt: skip


# Adjectives of months ("после июльского помилования", "пасля вераснёўскага вызвалення"), by
# month: a question names an event by its month so, as English does with a bare month name ("the
# July pardon"). Their endings in every case, both genders and the plural.
_RU_MONTH_ADJECTIVES = ("январск", "февральск", "мартовск", "апрельск", "майск", "июньск",
                        "июльск", "августовск", "сентябрьск", "октябрьск", "ноябрьск",
                        "декабрьск")  # fmt: skip
_BE_MONTH_ADJECTIVES = ("студзеньск", "лютаўск", "сакавіцк", "красавіцк", "травеньск",
                        "чэрвеньск", "ліпеньск", "жнівеньск", "вераснёўск|верасьнёўск",
                        "кастрычніцк", "лістападаўск", "снежаньск")  # fmt: skip
_ADJECTIVE_ENDINGS = {
    "ru": "ий|ого|ому|им|ом|ая|ой|ую|ое|ие|их|ими",
    "be": "і|ы|ага|аму|ім|ым|ая|ай|ую|ае|ія|ыя|іх|ых|імі|ымі",
}


@cache
def _month_adjectives(language: str) -> list[tuple[re.Pattern[str], str]]:
    """Per month, its adjective's pattern (with the year that follows the noun it qualifies,
    if any) and the month's genitive, which the patterns read."""
    stems = {"ru": _RU_MONTH_ADJECTIVES, "be": _BE_MONTH_ADJECTIVES}.get(language)
    if stems is None:
        return []
    forms = _RU_FORMS if language == "ru" else _BE_FORMS
    endings = _ADJECTIVE_ENDINGS[language]
    return [
        (
            re.compile(
                rf"(?<!\w)(?:{stem})(?:{endings})(?!\w)(?:((?:\s+[^\W\d]+){{1,2}})\s+(\d{{4}})(?!\d))?",
                re.IGNORECASE,
            ),
            line.split()[1],
        )
        for stem, line in zip(stems, forms, strict=True)
    ]


def _months_for_adjectives(text: str, language: str) -> str:
    """``text`` with each month adjective replaced by the month's genitive, next to the year
    of the event when one follows ("июльского помилования 2026 года" -> "июля 2026 помилования
    года", "сентябрьского освобождения" -> "сентября освобождения")."""
    for pattern, genitive in _month_adjectives(language):

        def month(found: re.Match[str], genitive: str = genitive) -> str:
            words, year = found.group(1, 2)
            return genitive if year is None else f"{genitive} {year}{words}"

        text = pattern.sub(month, text)
    return text


def month_forms(language: str) -> dict[str, int]:
    """Every form of every month name in ``language`` (lower case) -> the month's number."""
    if language == "en":
        forms = {name.lower(): m for m, name in enumerate(MONTHS["en"][0], start=1)}
        for m, short in enumerate(_EN_ABBREVIATIONS, start=1):
            forms.setdefault(short.lower(), m)
        forms["sep"] = 9
        return forms
    table = _RU_FORMS if language == "ru" else _BE_FORMS
    forms = {form: m for m, line in enumerate(table, start=1) for form in line.split()}
    if language == "ru":
        forms.update({short: m for m, short in zip((1, 2, 3, 4, 8, 9, 10, 11, 12),
                                                    _RU_ABBREVIATIONS, strict=True)})  # fmt: skip
    return forms


def _alternation(words: Sequence[str]) -> str:
    # Longest first, so "январе" is not cut to "январ..." by a shorter alternative.
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Per language: parts of a period (the words before a month or a year), year words, units,
# relative and season phrases, and the cue patterns looked for before a date.
_YEAR = r"(?:19|20)\d\d"
_SPEC: dict[str, dict[str, str]] = {
    "en": {
        "part": r"(?:(?:the\s+)?(?:very\s+)?(?:end|start|beginning|middle|first\s+half|"
        r"second\s+half|(?:first|second|third|fourth|last|final)\s+quarter)\s+of\s+(?:the\s+)?|"
        r"(?:early|mid|late)(?:-|\s+)|q[1-4]\s+)",
        "year_word": r"",
        "part_year": r"year",
        "day_suffix": r"(?:st|nd|rd|th)?",
        "ago": r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})"
        r"\s+(?:years?|months?|weeks?|days?)\s+ago",
        "ago_units": r"(?:years?|months?|weeks?|days?)\s+ago",
        "earlier_units": r"(?:years?|months?|weeks?|days?)\s+(?:earlier|before|previously)",
        "earlier": r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
        r"\s+(?:years?|months?|weeks?|days?)\s+(?:earlier|before|previously)",
        "calendar": r"(?:last|this)\s+(?:year|month|week)",
        "season": rf"(?:(?:last|this)\s+)?(?:spring|summer|autumn|fall|winter)"
        rf"(?:\s+(?:of\s+)?{_YEAR})?",
        "as_of": r"\bas\s+(?:of|at)\s*$|\bas\s+it\s+stood\s+(?:on|in|at)\s*$",
        "range": r"\b(?:since|from|until|till|to|through|between|before|after|starting|"
        r"beginning|up\s+to|prior\s+to)\s+(?:the\s+)?$",
        "range_clause": r"\b(?:since|until|till)\b[^,;:.\d]{0,60}$",
        "preposition": r"\b(?:in|of|on|at|by|since|from|until|till|to|through|during|over|"
        r"throughout|before|after|for|between|around|about|as\s+of|as\s+early\s+as)\s+(?:the\s+)?$",
        "event": r"\b(?:arrested|detained|sentenced|convicted|jailed|imprisoned|born|died|killed|"
        r"elected|founded|appointed|charged|tried|extradited|deported|abducted|kidnapped|"
        r"exiled|fired|dismissed)\b(?:\W+\w+){0,4}\W*$",
        "comparison": r"\b(?:down|up)\s+from\b|\bcompared\s+(?:with|to)\b|\bfrom\s+[\d,.]+\d\b"
        r"|\bthan\s+$|\bwhereas\b"
        r"|\bagainst\s+[\d,.]*\d\b",
        "figure_words": r"\b(?:hundreds?|thousands?|dozens?)\b",
        "unit_after": r"\s*(?:-\s*)?(?:years?|months?|weeks?|days?|hours?|minutes?|times|euros?|"
        r"dollars?|roubles?|rubles?|BYN|USD|EUR)\b",
        "attributive": r"\s+(?:count|counts|figure|figures|report|list|total|update|tally|data|"
        r"numbers|statistics|census|survey)\b",
        "looking_back": r"\b(?:as\s+early\s+as|back\s+in|already\s+(?:in|by|on))\s+(?:the\s+)?$",
        "future": r"\b(?:will|shall|plans?\s+to|planned\s+to|expected\s+to|going\s+to|"
        r"promised\s+to|intends?\s+to)\b",
        "present": r"\b(?:now|currently|at\s+present|presently|today|still|to\s+date|so\s+far|"
        r"at\s+(?:the|this)\s+moment|"
        r"as\s+it\s+stands|remain|remains)\b",
    },
    "ru": {
        "part": r"(?:конц[еау]|конец|начал[еоау]|середин[еуыа]|(?:перв|втор)(?:ой|ую|ая)\s+"
        r"половин[еуыа]|(?:перв|втор|трет|четв[её]рт|последн)\w*\s+квартал\w*)\s+",
        "year_word": r"(?:\s*(?:года|году|год|годах|годы|гг?\.))?",
        "part_year": r"года",
        "day_suffix": r"(?:-?(?:го|ого|е|ое))?",
        "ago": r"(?:(?:\d{1,2}|одн[уа]|один|два|две|три|четыре|пять|шесть|семь|восемь|девять|"
        r"десять|одиннадцать|двенадцать)\s+|пол)?(?:года|год|лет|месяцев|месяца|месяц|неделю|"
        r"недели|недель|дней|дня|день)\s+(?:тому\s+)?назад",
        "ago_units": r"(?:года|год|лет|месяцев|месяца|месяц|недели|недель|неделю|дней|дня|день)"
        r"\s+(?:тому\s+)?назад",
        "earlier_units": r"(?:года|лет|месяцев|месяца|недели|недель|дней|дня)\s+(?:ранее|раньше)",
        "earlier": r"(?:(?:два|две|три|четыре|пять|шесть)\s+(?:года|лет|месяцев|месяца|недели|"
        r"недель)|годом|месяцем|неделей)\s+(?:ранее|раньше)",
        "calendar": r"(?:в\s+)?(?:прошлом|этом|текущем|позапрошлом)\s+(?:году|месяце)|"
        r"(?:прошлого|этого|текущего|позапрошлого)\s+(?:года|месяца)|"
        r"(?:прошлый|этот|текущий|позапрошлый)\s+(?:год|месяц)|(?:на\s+)?(?:прошлой|этой)\s+неделе",
        "season": rf"(?:(?:прошл|эт)(?:ой|ым|ую|ого|ом|ая|ое|им|ую)\s+)?(?:весн(?:ой|а|у|ы|е)|"
        rf"лет(?:ом|о|е)|лета(?=\s+{_YEAR})|осень(?:ю)?|осени|зим(?:ой|а|у|ы|е))"
        rf"(?:\s+{_YEAR}(?:\s*(?:года|году|г\.))?)?",
        "as_of": r"по\s+состоянию\s+на\s*$|(?<!\w)на\s*$",
        "range": r"(?<!\w)(?:с|со|до|от|после|перед|по|начиная\s+с|между|вплоть\s+до)\s*$",
        "range_clause": r"(?<!\w)(?:с\s+тех\s+пор|с\s+момента|с\s+того\s+времени|"
        r"вплоть\s+до|до\s+тех\s+пор)(?!\w)[^,;:.\d]{0,60}$",
        "preposition": r"(?<!\w)(?:в|во|на|к|с|со|до|от|по|за|после|перед|около|между|"
        r"начиная\s+с)\s*$",
        "event": r"(?<!\w)(?:арестова|задержа|осужд|осуди|приговор|посаж|родил|умер|скончал|"
        r"избра|основа|назнач|обвин|похищ|высла|депортир|уволи|освобожд[её]н)\w*"
        r"(?:\W+\w+){0,4}\W*$",
        "comparison": r"по\s+сравнению\s+с|в\s+сравнении\s+с|(?<!\w)против\s+[\d\s\u00a0,.]*\d"
        r"|(?<!\w)чем\s+$|тогда\s+как|в\s+то\s+время\s+как"
        r"|(?<!\w)с\s+[\d\s\u00a0,.]*\d\d(?!\d)",
        "figure_words": r"(?<!\w)(?:сот(?:ни|ен|ню|ня)|тысяч\w*|десят(?:ки|ков|ка))(?!\w)",
        "unit_after": r"\s*(?:лет|год\w*|месяц\w*|недел\w*|дн[яейю]\w*|день|сут\w*|час\w*|раз|"
        r"евро|доллар\w*|рубл\w*|руб\.?|BYN|USD|EUR)(?!\w)",
        "looking_back": r"(?<!\w)(?:ещ[её]|уже)\s+(?:(?:в|во|на|к)\s+)?$",
        "future": r"(?<!\w)(?:будут|будет|планиру\w*|собира\w*|намерен\w*|обеща\w*|"
        r"ожида\w*)(?!\w)",
        "present": r"(?<!\w)(?:сейчас|в\s+настоящее\s+время|на\s+сегодня(?:шний\s+день)?|"
        r"сегодня|по-прежнему|до\s+сих\s+пор|вс[её]\s+ещ[её]|на\s+данный\s+момент|"
        r"на\s+текущий\s+момент|оста[ёе]тся|остаются)(?!\w)",
    },
    "be": {
        "part": r"(?:канц[ыа]|канец|пачат(?:ку|ак|ка)|сярэдзін[еуыа]|(?:перш|друг)(?:ай|ой|ую|ая)"
        r"\s+палов[еуыа]|(?:перш|друг|трэц|чацв[её]рт|апошн)\w*\s+квартал\w*)\s+",
        "year_word": r"(?:\s*(?:года|годзе|год|гадах|гады|гг?\.))?",
        "part_year": r"года",
        "day_suffix": r"(?:-?(?:га|е|ае))?",
        "ago": r"(?:(?:\d{1,2}|адзін|адну|два|дзве|тры|чатыры|пяць|шэсць|сем|восем|дзевяць|"
        r"дзесяць|адзінаццаць|дванаццаць)\s+|паў)?(?:гадоў|гады|года|год|месяцаў|месяцы|месяц|"
        r"тыдняў|тыдні|тыдзень|дзён|дні|дзень)\s+таму",
        "ago_units": r"(?:гадоў|гады|года|год|месяцаў|месяцы|месяц|тыдняў|тыдні|тыдзень|дзён|дні|"
        r"дзень)\s+таму",
        "earlier_units": r"(?:гадоў|гады|месяцаў|месяцы|тыдняў|тыдні|дзён|дні)\s+раней",
        "earlier": r"(?:(?:два|дзве|тры|чатыры|пяць|шэсць)\s+(?:гады|гадоў|месяцы|месяцаў|тыдні|"
        r"тыдняў)|годам|месяцам|тыднем)\s+раней",
        "calendar": r"(?:[уў]\s+)?(?:мінулым|гэтым|бягучым|пазамінулым)\s+(?:годзе|месяцы)|"
        r"(?:мінулага|гэтага|бягучага|пазамінулага)\s+(?:года|месяца)|"
        r"(?:мінулы|гэты|бягучы|пазамінулы)\s+(?:год|месяц)|(?:на\s+)?(?:мінулым|гэтым)\s+тыдні|"
        r"пазалетась|летась|сёлета",
        "season": rf"(?:(?:мінул|гэт)(?:ай|ым|ую|ага|ая|ае)\s+)?(?:вясн(?:ой|ою|а|у|ы|е)|увесну|"
        rf"лет(?:ам|а)|улетку|восен(?:ню|ь|і)|увосень|зім(?:ой|ою|а|у|ы|е)|узімку)"
        rf"(?:\s+{_YEAR}(?:\s*(?:года|годзе|г\.))?)?",
        "as_of": r"па\s+стане\s+на\s*$|(?<!\w)на\s*$",
        "range": r"(?<!\w)(?:з|са|ад|да|пасля|перад|па|пачынаючы\s+з|паміж)\s*$",
        "range_clause": r"(?<!\w)(?:з\s+таго\s+часу|з\s+моманту|да\s+таго\s+часу)(?!\w)"
        r"[^,;:.\d]{0,60}$",
        "preposition": r"(?<!\w)(?:у|ў|в|на|да|з|са|ад|па|за|пасля|перад|каля|паміж)\s*$",
        "event": r"(?<!\w)(?:арыштава|затрыма|асуджа|асудзі|прысуд|пасадзі|пасаджа|нарадзі|памёр|"
        r"памерла|абра|заснава|прызнача|абвінавач|выкрад|вызвален|звольне)\w*"
        r"(?:\W+\w+){0,4}\W*$",
        "comparison": r"у\s+параўнанні\s+з|(?<!\w)супраць\s+[\d\s\u00a0,.]*\d"
        r"|(?<!\w)чым\s+$|тады\s+як|у\s+той\s+час\s+як"
        r"|(?<!\w)з\s+[\d\s\u00a0,.]*\d\d(?!\d)",
        "figure_words": r"(?<!\w)(?:сотн\w*|соцень|тысяч\w*|дзясятк\w*|дзясятак)(?!\w)",
        "unit_after": r"\s*(?:гад\w*|год\w*|месяц\w*|тыдз\w*|тыдн\w*|дз[её]н\w*|дні|сут\w*|"
        r"гадзін\w*|раз\w*|еўра|долар\w*|рубл\w*|руб\.?|BYN|USD|EUR)(?!\w)",
        "looking_back": r"(?<!\w)(?:яшчэ|ужо)\s+(?:(?:у|ў|в|на|да)\s+)?$",
        "future": r"(?<!\w)(?:будуць|будзе|плану\w*|збіра\w*|абяца\w*|чака\w*)(?!\w)",
        "present": r"(?<!\w)(?:цяпер|зараз|на\s+сёння(?:шні\s+дзень)?|сёння|па-ранейшаму|"
        r"дагэтуль|усё\s+яшчэ|да\s+гэтага\s+часу|на\s+дадзены\s+момант|застаюцца|застаецца)"
        r"(?!\w)",
    },
}

# Words of a part phrase -> the part's name (see corpus.periods.MONTH_PARTS, YEAR_PARTS).
_PART_WORDS = (
    (re.compile(r"(?:first|перв|перш)\w*\s+(?:quarter|квартал)|q1", re.I), "q1"),
    (re.compile(r"(?:second|втор|друг)\w*\s+(?:quarter|квартал)|q2", re.I), "q2"),
    (re.compile(r"(?:third|трет|трэц)\w*\s+(?:quarter|квартал)|q3", re.I), "q3"),
    (
        re.compile(
            r"(?:fourth|last|final|четв|чацв|последн|апошн)\w*\s+(?:quarter|квартал)|q4", re.I
        ),
        "q4",
    ),
    (re.compile(r"first\s+half|перв\w*\s+половин|перш\w*\s+палов", re.I), "first_half"),
    (re.compile(r"second\s+half|втор\w*\s+половин|друг\w*\s+палов", re.I), "second_half"),
    (re.compile(r"end|конц|конец|канц|канец", re.I), "end"),
    (re.compile(r"start|beginning|начал|пачат", re.I), "start"),
    (re.compile(r"middle|mid|середин|сярэдзін", re.I), "mid"),
    (re.compile(r"early", re.I), "early"),
    (re.compile(r"late", re.I), "late"),
)
_SEASON_WORDS = (
    (re.compile(r"spring|весн|вясн|увесну", re.I), "spring"),
    (re.compile(r"summer|лет|улетку", re.I), "summer"),
    (re.compile(r"autumn|fall|осен|восен|увосень", re.I), "autumn"),
    (re.compile(r"winter|зим|зім|узімку", re.I), "winter"),
)
# Seasons that need no cue: the adverbial forms ("весной" is "in spring").
_SEASON_ADVERB = re.compile(
    r"^(?:весной|летом|осенью|зимой|вясной|вясною|увесну|летам|улетку|восенню|увосень|зімой|"
    r"зімою|узімку)$",
    re.I,
)
_LAST = re.compile(r"last|прошл|мінул", re.I)
_THIS = re.compile(r"this|эт|текущ|гэт|бягуч", re.I)
_BEFORE_LAST = re.compile(r"позапрошл|пазамінул|пазалетась", re.I)
#: A calendar word or season that looks back from the present ("last year", "летась").
_LOOKS_BACK = re.compile(r"last|прошл|мінул|летась", re.I)
_UNIT = (
    (re.compile(r"year|год|лет|гад|летась|сёлета", re.I), "year"),
    (re.compile(r"month|месяц", re.I), "month"),
    (re.compile(r"week|недел|тыдз|тыдн", re.I), "week"),
    (re.compile(r"day|дн|день|дзён|дзень", re.I), "day"),
)
_YEAR_IN = re.compile(rf"(?<!\d){_YEAR}(?!\d)")
_DIGITS = re.compile(r"\d+")
# "the September count": a month used as an adjective of a figure's noun.
_THE = re.compile(r"\bthe\s+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Grammar:
    language: str
    digit_core: re.Pattern[str]  # phrases that start with a digit ("1 лютага", "2025 года")
    word_core: re.Pattern[str]  # phrases that start with a word ("в январе 2026", "год таму")
    triggers: frozenset[str]  # a word_core phrase has one of these words (lower case) ...
    cased_triggers: frozenset[str]  # ... or one of these as written (English month names)
    months: dict[str, int]
    month_in: re.Pattern[str]
    part_before: re.Pattern[str]
    as_of: re.Pattern[str]
    range: re.Pattern[str]
    range_clause: re.Pattern[str]
    preposition: re.Pattern[str]
    event: re.Pattern[str]
    comparison: re.Pattern[str]
    figure_words: re.Pattern[str]
    unit_after: re.Pattern[str]
    present: re.Pattern[str]
    future: re.Pattern[str]
    looking_back: re.Pattern[str]
    attributive: re.Pattern[str]


_WORD = re.compile(r"\w+")
_FIGURE = re.compile(
    r"(?<![\w.,])\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+(?!\d)|(?<![\w.,])\d+(?:[.,]\d+)?(?!\d)"
)
_TRIGGER_WORDS = {
    "en": "ago year month week spring summer autumn fall winter earlier",
    "ru": "назад ранее раньше году года год месяце месяца месяц неделе весной весна весну весны "
    "весне летом лето лета лете осенью осень осени зимой зима зиму зимы зиме",
    "be": "таму раней годзе года год месяцы месяца месяц тыдні летась сёлета пазалетась вясной "
    "вясною вясна вясну вясны вясне увесну летам лета улетку восенню восень восені увосень зімой "
    "зімою зіма зіму зімы зіме узімку",
}


@cache
def _grammar(language: str, question: bool) -> _Grammar:
    r"""The patterns of one language; a question's month names may be lower-case.

    Speed is the point (every sentence of every document passes here): ``digit_core`` starts
    with ``\d`` so the regular expression engine skips to digits, and ``word_core`` runs only on
    a text that has one of its trigger words.
    """
    spec = _SPEC[language]
    months = month_forms(language)
    if language == "en":
        full = list(MONTHS["en"][0])
        short = [s for s in _EN_ABBREVIATIONS if s != "May"] + ["Sep"]
        # Documents capitalise month names, so "may" and "march" stay verbs; questions need not.
        case = "(?i:" if question else "(?-i:"
        any_month = rf"{case}(?:{_alternation(full)})|(?:{_alternation(short)})\.?)"
        bare_month = rf"{case}{_alternation(full)})"
        cased = frozenset() if question else frozenset([*full, *short])
        month_triggers = frozenset(m.lower() for m in (*full, *short)) if question else frozenset()
    else:
        forms = sorted(months)
        any_month = rf"(?:{_alternation(forms)})"
        bare_month = rf"(?:{_alternation([f for f in forms if not f.endswith('.')])})"
        cased = frozenset()
        month_triggers = frozenset(f.rstrip(".") for f in forms)
    end = r"(?!\w)"
    day_rest = rf"\d?{spec['day_suffix']}(?!\d)"
    year_word = spec["year_word"]
    year = rf"(?<![\d.,]){_YEAR}(?!\d)"
    # Every digit-led alternative without its first digit, which the pattern matches once up
    # front (and checks is not inside a longer number).
    digit_kinds = {
        "iso": r"\d{3}-\d\d-\d\d(?!\d)",
        "dotted": r"\d?\.\d{1,2}\.\d{4}(?!\d)",
        "dmy": rf"{day_rest}\s+(?:of\s+)?{any_month}(?:,?\s+{year}{year_word})?{end}",
        "ago": rf"\d?\s+(?:{spec['ago_units']}){end}",
        "earlier": rf"\d?\s+(?:{spec['earlier_units']}){end}",
        "year": rf"\d{{3}}(?![\d]|[.,]\d){year_word}{end}",
    }
    word_kinds = {
        "part_year": rf"(?<!\w){spec['part']}{spec['part_year']}{end}",
        "mdy": rf"(?<!\w){any_month}\s+\d{{1,2}}{spec['day_suffix']}(?!\d)(?:,?\s+{year})?{end}"
        if language == "en"
        else None,
        "my": rf"(?<!\w){any_month}\s+(?:of\s+)?{year}{year_word}{end}",
        "ago": rf"(?<!\w)(?:{spec['ago']}){end}",
        "earlier": rf"(?<!\w)(?:{spec['earlier']}){end}",
        "calendar": rf"(?<!\w)(?:{spec['calendar']}){end}",
        "season": rf"(?<!\w)(?:{spec['season']}){end}",
        "month": rf"(?<!\w){bare_month}{end}",
    }
    digit_core = (
        r"\d(?<![\d.,]\d)(?:" + "|".join(f"(?P<{k}>{v})" for k, v in digit_kinds.items()) + ")"
    )
    word_core = "|".join(f"(?P<{k}>{v})" for k, v in word_kinds.items() if v)

    def compiled(pattern: str) -> re.Pattern[str]:
        return re.compile(pattern, re.IGNORECASE)

    return _Grammar(
        language=language,
        digit_core=compiled(digit_core),
        word_core=compiled(word_core),
        triggers=frozenset(_TRIGGER_WORDS[language].split()) | month_triggers,
        cased_triggers=cased,
        months=months,
        month_in=compiled(rf"(?<!\w)(?:{_alternation(sorted(months))})(?!\w)"),
        part_before=compiled(rf"(?<!\w){spec['part']}$"),
        as_of=compiled(spec["as_of"]),
        range=compiled(spec["range"]),
        range_clause=compiled(spec["range_clause"]),
        preposition=compiled(spec["preposition"]),
        event=compiled(spec["event"]),
        comparison=compiled(spec["comparison"]),
        figure_words=compiled(spec["figure_words"]),
        unit_after=compiled(spec["unit_after"]),
        present=compiled(spec["present"]),
        future=compiled(spec["future"]),
        looking_back=compiled(spec["looking_back"]),
        attributive=compiled(spec.get("attributive", r"(?!x)x")),
    )


def _triggered(text: str, grammar: _Grammar) -> bool:
    cased = grammar.cased_triggers
    triggers = grammar.triggers
    return any(word in cased or word.lower() in triggers for word in _WORD.findall(text))


# -- dateparser -----------------------------------------------------------------------------------

# dateparser keeps module-level state that is not safe across threads (its issue 441).
_dateparser_lock = threading.Lock()


# The reference of a phrase that names its year: any will do, and one for all documents makes
# "1 февраля 2026 года" one cache entry.
_ANY_REFERENCE = date(2000, 1, 1)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _dateparser(
    phrase: str, language: str, reference: date, relative: bool
) -> tuple[date, str] | None:
    """dateparser on one short phrase: the date and its period ("day", "week", "month", "year").

    Only the parser the phrase needs runs: its relative-time parser costs about 1 ms a call even
    on "1 февраля 2026".
    """
    settings = {
        "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
        "PARSERS": ["relative-time"] if relative else ["absolute-time"],
    }
    with _dateparser_lock:
        data = DateDataParser(languages=[language], settings=settings).get_date_data(phrase)
    if data.date_obj is None:
        return None
    return data.date_obj.date(), data.period or "day"


def warm_up() -> None:
    """Load dateparser's data for every language now (80-350 ms each the first time), so the
    first dated question does not pay it."""
    for language in LANGUAGES:
        for phrase, relative in (("1 " + MONTHS[language][1][0] + " 2026", False),
                                 ("1 " + _WARM_UNIT[language], True)):  # fmt: skip
            _dateparser(phrase, language, _ANY_REFERENCE, relative)


_WARM_UNIT = {"en": "year ago", "ru": "год назад", "be": "год таму"}


def _as_period(value: date, period: str) -> Period:
    if period == "year":
        return Period.year(value.year)
    if period == "month":
        return Period.month(value.year, value.month)
    return Period.day(value)


def _coarser(a: Precision, b: Precision) -> Precision:
    return a if _PRECISION_ORDER[a] >= _PRECISION_ORDER[b] else b


# -- one phrase -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What a phrase is resolved against: the reference period and the latest date allowed."""

    reference: Period
    limit: date | None  # None: future dates are fine (a question may ask about any time)
    options: DateOptions


def _part_name(text: str | None) -> str | None:
    if not text:
        return None
    for pattern, name in _PART_WORDS:
        if pattern.search(text):
            return name
    return None


def _apply_part(period: Period, part: str | None) -> Period | None:
    """The part of a month or a year; None for a part that does not fit (of a day)."""
    if part is None:
        return period
    if period.precision == "day":
        return None
    if period.precision == "month":
        if part.startswith("q"):
            return None
        name = {"early": "start", "late": "end", "first_half": "start", "second_half": "end"}.get(
            part, part
        )
        first, last = MONTH_PARTS[name]
        final = min(last, period.end.day)
        return Period(period.start.replace(day=first), period.start.replace(day=final), "month")
    first, last = YEAR_PARTS[part]
    return Period.months(period.start.year, first, last)


def _back_within(period: Period, limit: date | None, explicit_year: bool) -> Period | None:
    """A period not after ``limit``: an explicit year is kept or refused, a guessed one moved
    back a year at a time (dateparser already took the nearest past, but a part or a season may
    still end up ahead)."""
    if limit is None or period.start <= limit:
        return period
    if explicit_year:
        return None
    moved = period.shifted_years(-1)
    return moved if moved.start <= limit else None


def _season(text: str, context: _Context) -> tuple[Period, bool] | None:
    name = next((n for p, n in _SEASON_WORDS if p.search(text)), None)
    if name is None:
        return None
    first, last = SEASONS[name]
    found = _YEAR_IN.search(text)
    reference = context.reference.middle
    if found:
        return Period.months(int(found.group()), first, last), True
    # The season ending in each year around the reference, latest first.
    years = range(reference.year + 1, reference.year - 3, -1)
    candidates = [Period.months(y, first, last) for y in years]
    if _LAST.search(text):
        chosen = next(p for p in candidates if p.end < reference)
    elif _THIS.search(text):
        chosen = min(candidates, key=lambda p: p.distance_days(Period.day(reference)))
    else:
        chosen = next(p for p in candidates if p.start <= reference)
    return chosen, False


def _season_part(season: Period, explicit_year: bool, part: str) -> tuple[Period, bool] | None:
    """The month of a season a part points at ("at the end of summer 2025": August 2025); a
    quarter or a half of a season is nothing people say."""
    months = [season.start]
    while months[-1].replace(day=1) < season.end.replace(day=1):
        months.append(add_months(months[-1], 1))
    index = {"start": 0, "early": 0, "mid": len(months) // 2, "end": -1, "late": -1}.get(part)
    if index is None:
        return None
    month = months[index]
    return Period.month(month.year, month.month), explicit_year


def _ago(text: str, language: str, context: _Context) -> tuple[str, Precision]:
    """The phrase dateparser gets for "N units ago" and the precision of its answer."""
    options = context.options
    lowered = text.lower()
    unit = next((u for p, u in _UNIT if p.search(lowered)), "year")
    words = lowered.split()
    phrase = lowered
    if words[0] in _NUMBER_WORDS.get(language, {}) and options.number_words and language == "be":
        phrase = " ".join([str(_NUMBER_WORDS[language][words[0]]), *words[1:]])
    elif (
        options.bare_units
        and not words[0].isdigit()
        and words[0] not in _NUMBER_WORDS.get(language, {})
        and not lowered.startswith(("пол", "паў"))
    ):
        phrase = f"1 {lowered}"
    if lowered.startswith("паў") and options.number_words:
        phrase = "6 месяцаў таму"
    precision: Precision = "day" if unit in ("day", "week") else "month"
    return phrase, _coarser(precision, context.reference.precision)


_CALENDAR_PHRASES = {
    "en": {("last", "year"): "last year", ("this", "year"): "this year",
           ("last", "month"): "last month", ("this", "month"): "this month",
           ("last", "week"): "last week", ("this", "week"): "this week",
           ("before_last", "year"): "2 years ago"},
    "ru": {("last", "year"): "в прошлом году", ("this", "year"): "в этом году",
           ("last", "month"): "в прошлом месяце", ("this", "month"): "в этом месяце",
           ("last", "week"): "на прошлой неделе", ("this", "week"): "на этой неделе",
           ("before_last", "year"): "2 года назад"},
    "be": {("last", "year"): "у мінулым годзе", ("this", "year"): "у гэтым годзе",
           ("last", "month"): "у мінулым месяцы", ("this", "month"): "у гэтым месяцы",
           ("last", "week"): "на мінулым тыдні", ("this", "week"): "на гэтым тыдні",
           ("before_last", "year"): "2 гады таму"},
}  # fmt: skip


def _calendar(text: str, language: str, context: _Context) -> tuple[str, Precision]:
    lowered = text.lower()
    unit = next((u for p, u in _UNIT if p.search(lowered)), "year")
    if _BEFORE_LAST.search(lowered):
        which = "before_last"
    elif _LAST.search(lowered) or lowered == "летась":
        which = "last"
    else:
        which = "this"
    phrase = _CALENDAR_PHRASES[language].get((which, unit), lowered)
    if not context.options.relative_words:
        phrase = lowered
    precision: Precision = {"year": "year", "month": "month"}.get(unit, "day")  # type: ignore[assignment]
    return phrase, precision


def _core_phrase(kind: str, text: str, grammar: _Grammar, options: DateOptions) -> str:
    """The phrase as dateparser knows it (each rewrite is one of ``DateOptions``)."""
    phrase = text
    if kind in ("dmy", "mdy", "my", "month") and grammar.language != "en" and options.month_forms:
        genitive = MONTHS[grammar.language][1]

        def to_genitive(match: re.Match[str]) -> str:
            return genitive[grammar.months[match.group().lower()] - 1]

        phrase = grammar.month_in.sub(to_genitive, phrase)
    if kind == "dmy" and grammar.language != "en" and options.ordinals:
        phrase = re.sub(r"^(\d{1,2})-?(?:го|ого|е|ое|га|ае)\b", r"\1", phrase)
    return phrase


def _resolve(
    kind: str, text: str, part: str | None, grammar: _Grammar, context: _Context
) -> tuple[Period, bool] | None:
    """The period a phrase stands for (before the as-of rule), and whether it names its year."""
    options = context.options
    language = grammar.language
    if kind == "part_year":
        part = _part_name(text) if options.parts else None
        if part is None:
            return None
        period = _apply_part(Period.year(context.reference.end.year), part)
        return (period, False) if period else None
    part = _part_name(part)
    explicit_year = bool(_YEAR_IN.search(text)) and kind not in ("ago", "calendar")
    if kind == "season":
        if not options.seasons:
            return None
        found = _season(text, context)
        if found is None or part is None:
            return found
        return _season_part(*found, part)
    if not _valid_numbers(kind, text):
        return None
    if kind == "year" and options.year_words:
        # Four digits, which dateparser reads wrongly with their word ("в 2025 году": year 1)
        # and costs a millisecond for; the only phrase not given to it.
        year = int(_YEAR_IN.search(text).group())  # type: ignore[union-attr]
        shaped_year = _apply_part(Period.year(year), part)
        return (shaped_year, True) if shaped_year else None
    precision: Precision | None = None
    reference = context.reference.end
    if kind == "ago":
        phrase, precision = _ago(text, language, context)
        reference = context.reference.middle
    elif kind == "calendar":
        phrase, precision = _calendar(text, language, context)
        reference = context.reference.middle
    else:
        phrase = _core_phrase(kind, text, grammar, options)
    relative = kind in ("ago", "calendar")
    if explicit_year and not relative:
        reference = _ANY_REFERENCE
    parsed = _dateparser(phrase, language, reference, relative)
    if parsed is None:
        return None
    value, period_name = parsed
    # A relative phrase keeps the day dateparser counted back to, at the precision it supports.
    period = _as_period(value, precision or period_name)
    if kind == "year":
        period = Period.year(period.start.year)
    shaped = _apply_part(period, part)
    return (shaped, explicit_year) if shaped else None


def _valid_numbers(kind: str, text: str) -> bool:
    """The digit-led patterns match loosely (speed); the numbers are checked here."""
    numbers = [int(n) for n in _DIGITS.findall(text)]
    if kind == "iso":
        return 1900 <= numbers[0] < 2100 and 1 <= numbers[1] <= 12 and 1 <= numbers[2] <= 31
    if kind == "dotted":
        return 1 <= numbers[0] <= 31 and 1 <= numbers[1] <= 12 and 1900 <= numbers[2] < 2100
    if kind in ("dmy", "mdy"):
        return 1 <= numbers[0] <= 31
    if kind == "year":
        return 1900 <= numbers[0] < 2100
    return True


# -- finding and judging --------------------------------------------------------------------------


def _needs_cue(kind: str, text: str, part: str | None) -> bool:
    """A bare month, year or season name is a date only after a preposition or in a part."""
    if part:
        return False
    if kind == "month":
        return True
    if kind == "year":
        return not re.search(r"\D", text.strip())
    if kind == "season":
        return not (_YEAR_IN.search(text) or _LAST.search(text) or _THIS.search(text)
                    or _SEASON_ADVERB.match(text.strip()))  # fmt: skip
    return False


_DASH_AFTER = re.compile(r"\s*[–—-]\s*\d")
_DASH_BEFORE = re.compile(r"\d\s*[–—-]\s*$")
_JOIN = re.compile(r"\s*(?:and|to|и|по|до|і|па|да|[–—-])\s*", re.IGNORECASE)
#: Two dates joined by nothing but a dash ("January–April 2026", "студзень–красавік"): a span.
_DASH_JOIN = re.compile(r"\s*[–—-]\s*")


def _cue(
    text: str, start: int, end: int, found: Sequence[Mention], grammar: _Grammar, question: bool
) -> Cue:
    window_start = max(0, start - WINDOW_CHARS)
    window = text[window_start:start]
    if grammar.as_of.search(window):
        return Cue.AS_OF
    previous = found[-1] if found else None
    if (
        grammar.range.search(window)
        # "since it began to count women separately in 2021": the clause is one end of a span.
        or grammar.range_clause.search(window)
        or _DASH_AFTER.match(text, end)
        or _DASH_BEFORE.search(window)
        # The other end of "between 2020 and 2025", "с 2020 по 2025 год".
        or (previous and previous.cue is Cue.RANGE and _JOIN.fullmatch(text, previous.end, start))
    ):
        return Cue.RANGE
    if question:
        return Cue.PLAIN
    event = grammar.event.search(window)
    # "sentenced on 3 May" is an event's date; "37 were sentenced in January" counts events (a
    # figure in the event's own clause: "two hundred fewer, as people convicted in 2021 ..."
    # does not count the convictions).
    if event and not _counts_events(text, window_start + event.start(), found, grammar):
        return Cue.EVENT
    if grammar.comparison.search(text, previous.end if previous else 0, start):
        return Cue.COMPARISON
    return Cue.PLAIN


def find_dates(
    text: str,
    *,
    language: str,
    reference: Period,
    future: bool = False,
    question: bool = False,
    options: DateOptions = DEFAULT_OPTIONS,
) -> tuple[Mention, ...]:
    """Every date phrase of ``text`` with its period and cue, in order.

    ``reference`` resolves dates without a year and relative ones (a document's publication date,
    or today). Dates after it (plus ``FUTURE_SLACK_DAYS``) are dropped unless ``future``.
    """
    if language not in LANGUAGES:
        return ()
    return _find(_prepare(text, language), language, reference, future, question, options)


# Belarusian writes a word's first у as ў after a vowel ("справы ўлетку", "было ўвосень"); the
# patterns spell the у, and the swap keeps every offset.
_INITIAL_SHORT_U = re.compile(r"(?<!\w)[ўЎ]")


def _prepare(text: str, language: str) -> str:
    """The text as the patterns read it: bounded, Belarusian with its own і and apostrophe and
    a word's first ў read as у."""
    text = text[:MAX_TEXT_CHARS]
    if language == "be":
        text = normalise_belarusian(text).replace("’", "'")
        text = _INITIAL_SHORT_U.sub(lambda m: "у" if m.group() == "ў" else "У", text)
    return text


def _earlier(text: str, language: str, anchor: Period) -> Period:
    """ "Twelve months earlier", "годом ранее": counted back from ``anchor``, the date given
    before it (in the sentence, the passage, or the document's own)."""
    lowered = text.lower()
    first = lowered.split()[0]
    count = int(first) if first.isdigit() else _NUMBER_WORDS.get(language, {}).get(first, 1)
    unit = next((u for p, u in _UNIT if p.search(lowered)), "year")
    middle = anchor.middle
    if unit in ("day", "week"):
        day = middle - timedelta(days=count * (7 if unit == "week" else 1))
        return Period.day(day) if anchor.precision == "day" else Period.month(day.year, day.month)
    moved = add_months(middle, -count * (12 if unit == "year" else 1))
    if anchor.precision == "year":
        return Period.year(moved.year)
    return Period.month(moved.year, moved.month)


def _find(
    text: str,
    language: str,
    reference: Period,
    future: bool,
    question: bool,
    options: DateOptions,
    current: Period | None = None,
) -> tuple[Mention, ...]:
    grammar = _grammar(language, question)
    limit = None if future else reference.end + timedelta(days=FUTURE_SLACK_DAYS)
    context = _Context(reference=reference, limit=limit, options=options)
    matches = list(grammar.digit_core.finditer(text))
    if _triggered(text, grammar):
        matches.extend(grammar.word_core.finditer(text))
        matches.sort(key=lambda m: (m.start(), -m.end()))
    found: list[Mention] = []
    yearless: list[bool] = []  # for each of ``found``: a season without a year of its own
    previous_end = 0
    for match in matches:
        if len(found) >= MAX_MENTIONS:
            break
        if match.start() < previous_end:
            continue  # inside a longer phrase ("2026" of "January 2026"), taken or refused
        previous_end = match.end()
        kind = match.lastgroup or ""
        start, core_text = match.start(), match.group()
        part_match = grammar.part_before.search(text, max(0, start - WINDOW_CHARS), start)
        part_text = part_match.group() if part_match and options.parts else None
        if part_text and part_match:
            start = part_match.start()
        window = text[max(0, start - WINDOW_CHARS) : start]
        if _needs_cue(kind, core_text, part_text) and not (
            grammar.preposition.search(window)
            or grammar.as_of.search(window)
            or (
                kind == "month"
                and grammar.attributive.match(text, match.end())
                and _THE.search(window)
            )
            # The other end of a span: "between 2020 and 2024", "с января по апрель".
            or (
                found and found[-1].cue is Cue.RANGE and _JOIN.fullmatch(text, found[-1].end, start)
            )
        ):
            continue
        if kind == "earlier":
            if not options.earlier:
                continue
            anchors = [m.period for m in found if m.cue not in (Cue.RANGE, Cue.EVENT)]
            anchor = anchors[-1] if anchors else current
            if anchor is None:
                continue  # earlier than what? Nothing this sentence or its caller says.
            resolved: tuple[Period, bool] | None = (_earlier(core_text, language, anchor), False)
        else:
            resolved = _resolve(kind, core_text, part_text, grammar, context)
        if resolved is None:
            continue
        period, explicit_year = resolved
        within = _back_within(period, limit, explicit_year)
        if within is None:
            continue
        cue = _cue(text, start, match.end(), found, grammar, question)
        if (
            found
            and found[-1].cue in (Cue.PLAIN, Cue.RANGE)
            and _DASH_JOIN.fullmatch(text, found[-1].end, start)
        ):
            # "за студзень–красавік 2026 года": both are ends of one span, which "2024–2025"
            # already is (a dash before a digit); the first end is known only now.
            found[-1] = replace(found[-1], cue=Cue.RANGE)
            cue = Cue.RANGE
        looks_back = (
            kind in ("ago", "earlier")
            or (kind in ("calendar", "season") and _LOOKS_BACK.search(core_text) is not None)
            or grammar.looking_back.search(window) is not None
        )
        mention = Mention(
            start, match.end(), text[start : match.end()], within, cue, explicit_year, looks_back
        )
        season = kind == "season" and not explicit_year
        if found and season != yearless[-1]:
            merged = _season_of_year(
                text, found[-1], mention, season=found[-1] if yearless[-1] else mention
            )
            if merged is not None:
                found[-1], yearless[-1] = merged, False
                continue
        found.append(mention)
        yearless.append(season)
    return tuple(found)


# What may stand between a season and the year it is in: "spring of last year", "last year in
# spring", "летась увесну", "весной прошлого года", "у мінулым годзе ўлетку".
_SEASON_YEAR_JOIN = re.compile(r"\s*,?\s*(?:(?:of|in)\s+(?:the\s+)?|the\s+)?", re.IGNORECASE)


def _season_of_year(
    text: str, before: Mention, after: Mention, *, season: Mention
) -> Mention | None:
    """A season (``season``, one of ``before`` and ``after``) and, beside it, the year it is in
    as one mention ("весной прошлого года": spring 2025, not spring 2026 and 2025 as two
    points); None when the other one is no year or they are not side by side."""
    year = after if season is before else before
    if year.period.precision != "year" or not _SEASON_YEAR_JOIN.fullmatch(
        text, before.end, after.start
    ):
        return None
    name = next(n for p, n in _SEASON_WORDS if p.search(season.text))
    first, last = SEASONS[name]
    period = Period.months(year.period.start.year, first, last)
    return Mention(
        before.start,
        after.end,
        text[before.start : after.end],
        period,
        before.cue,
        True,
        before.looks_back or after.looks_back,
    )


def _figures(text: str, mentions: Sequence[Mention], grammar: _Grammar) -> list[re.Match[str]]:
    """The numbers of a sentence that are figures: outside its dates, neither a year nor a
    duration ("5 years", "на пяць гадоў")."""
    figures = []
    for number in _FIGURE.finditer(text):
        if any(m.start <= number.start() < m.end for m in mentions):
            continue
        digits = re.sub(r"\D", "", number.group())
        if len(digits) == 4 and digits[:2] in ("19", "20") and number.group().isdigit():
            continue
        if grammar.unit_after.match(text, number.end()):
            continue
        figures.append(number)
    return figures


def _counts_events(text: str, event: int, found: Sequence[Mention], grammar: _Grammar) -> bool:
    """Whether a figure before the event word at ``event``, in its clause, is what it counts."""
    figures = _figures(text[:event], found, grammar)
    if not figures:
        return False
    return not _clause(grammar.language).search(text, figures[-1].end(), event)


def _has_figure(text: str, mentions: Sequence[Mention], grammar: _Grammar) -> bool:
    """Whether the sentence states a figure (a number, or "hundreds", "тысячи")."""
    return bool(grammar.figure_words.search(text) or _figures(text, mentions, grammar))


def as_of(
    sentence: str,
    *,
    language: str,
    published: Period,
    current: Period | None = None,
    options: DateOptions = DEFAULT_OPTIONS,
) -> Period | None:
    """The date a sentence's statement refers to, when the sentence says it; else None.

    The rule: a date is the sentence's as-of date when

    1. it is not in the future of ``published`` (plus ``FUTURE_SLACK_DAYS``);
    2. it is not one end of a span ("since 2020", "с 2020 года", "до 2030 года", "2024–2025",
       "since it began counting in 2021"), not the date of an event named just before it
       ("arrested in March 2021", "sentenced on 3 May", "осуждён 3 мая"; but "37 were sentenced
       in January" counts events, so it is their date), and not the date of an older figure the
       sentence compares with ("down from 1,310 in February 2025", "than a year ago", "по
       сравнению с ...");
    3. it follows an as-of cue ("as of", "по состоянию на", "па стане на", "на" + date), or the
       sentence states a figure (a number that is not a date, a year or a duration): a date
       attached to a count is what matters, so "In October, 1,110" counts and "In October the
       report was published" does not;
    4. with a word of the future ("will", "обещают", "чакаюць"), it names its year.

    Of several, an as-of cue wins, then the first. A sentence with no such date but a word of the
    present ("now", "currently", "still", "remain", "сейчас", "по-прежнему", "цяпер",
    "застаецца") is as of ``current``: the document's own as-of date when it has one
    (``document_as_of``), else ``published``. Relative dates count back from ``published``.
    """
    if language not in LANGUAGES:
        return None
    return _as_of(sentence, language, published, current, current, options)


def _as_of(
    sentence: str,
    language: str,
    published: Period,
    current: Period | None,
    anchor: Period | None,
    options: DateOptions,
) -> Period | None:
    """``as_of`` with the date "a year earlier" counts back from when the sentence gives none."""
    found = _stated(sentence, language, published, current, anchor, options)
    return found[0] if found is not None else None


def looks_back(
    sentence: str,
    *,
    language: str,
    published: Period,
    current: Period | None = None,
    options: DateOptions = DEFAULT_OPTIONS,
) -> bool:
    """Whether the sentence's as-of date is stated looking back from the text's present ("A
    year ago there were 858", "Летась у гэты ж час ...", "The list passed a thousand as early
    as May"): it dates that statement only, while the sentences after it speak of the present
    again ("... Already 718 have been convicted"), so ``passage_as_of`` does not carry it on."""
    if language not in LANGUAGES:
        return False
    found = _stated(sentence, language, published, current, current, options)
    return found is not None and found[1]


def _stated(
    sentence: str,
    language: str,
    published: Period,
    current: Period | None,
    anchor: Period | None,
    options: DateOptions,
) -> tuple[Period, bool] | None:
    """A sentence's as-of date (``as_of``) and whether it is stated looking back
    (``Mention.looks_back``)."""
    text = _prepare(sentence, language)
    mentions = _find(text, language, published, False, False, options, anchor)
    if not options.cues:
        return (mentions[0].period, mentions[0].looks_back) if mentions else None
    grammar = _grammar(language, False)
    usable = [m for m in mentions if m.cue in (Cue.AS_OF, Cue.PLAIN)]
    if grammar.future.search(text):
        # "will release them in March": a month without a year is then a plan, not a count.
        usable = [m for m in usable if m.explicit_year]
    strong = [m for m in usable if m.cue is Cue.AS_OF]
    if strong:
        return strong[0].period, strong[0].looks_back
    span = _closed_span(text, mentions)
    figure = (span is not None or bool(usable)) and _has_figure(text, mentions, grammar)
    if span is not None and figure:
        # "From January to April 2026, 74 organisations were listed": a total over the span.
        return span, False
    if usable and figure:
        return usable[0].period, usable[0].looks_back
    if grammar.present.search(text):
        return current or published, False
    return None


def sentence_dates(
    sentences: Sequence[str],
    *,
    language: str,
    published: Period,
    current: Period | None = None,
    options: DateOptions = DEFAULT_OPTIONS,
) -> tuple[Period | None, ...]:
    """The explicit as-of date of each sentence of a passage (None where it states none); see
    ``as_of`` for ``current``. "A year earlier" counts back from the last date before it in the
    passage, else from ``current``."""
    if language not in LANGUAGES:
        return tuple(None for _ in sentences)
    found: list[Period | None] = []
    anchor = current
    for sentence in sentences:
        period = _as_of(sentence, language, published, current, anchor, options)
        found.append(period)
        anchor = period or anchor
    return tuple(found)


#: A document's own as-of date is stated in its first sentences ...
LEAD_SENTENCES = 6
#: ... and lies at most this many days before its publication (a monthly brief is published a
#: week or two after the date it counts to; an older date up front is history, not the report's).
LEAD_MAX_DAYS = 62


def document_as_of(
    sentences: Sequence[str],
    *,
    language: str,
    published: Period,
    options: DateOptions = DEFAULT_OPTIONS,
) -> Period:
    """The date a document as a whole counts to: the first date with an as-of cue ("As of 1
    February 2026", "по состоянию на 15 августа", "на 1 снежня") in its first
    ``LEAD_SENTENCES`` sentences, at most ``LEAD_MAX_DAYS`` before publication; else
    ``published``.

    A report that opens "As of 1 February 2026, the centre counted 1,139" and says in a later
    paragraph "Among them were 147 women" means the women as of 1 February too: pass this as
    ``current`` to ``sentence_dates`` and as the fallback of ``passage_as_of``.
    """
    if language not in LANGUAGES:
        return published
    for sentence in sentences[:LEAD_SENTENCES]:
        text = _prepare(sentence, language)
        for mention in _find(text, language, published, False, False, options):
            early = (published.start - mention.period.end).days
            if mention.cue is Cue.AS_OF and early <= LEAD_MAX_DAYS:
                return mention.period
    return published


def passage_as_of(
    dates: Sequence[Period | None],
    index: int,
    published: Period,
    looking_back: Sequence[bool] = (),
) -> Period:
    """The date sentence ``index`` of a passage is true at: its own explicit date, else the
    nearest explicit one before it in the passage, else after it, else ``published`` (better:
    the document's own date, ``document_as_of``). A date stated looking back from the present
    (``looking_back[i]``, see ``looks_back``: "A year ago there were 858.") is its own
    sentence's only: the sentences around it speak of the present."""
    if not 0 <= index < len(dates):
        raise IndexError(f"sentence {index} of a passage of {len(dates)}")
    own = dates[index]
    if own is not None:
        return own

    def carried(i: int) -> Period | None:
        return None if i < len(looking_back) and looking_back[i] else dates[i]

    for i in range(index - 1, -1, -1):
        if (found := carried(i)) is not None:
            return found
    for i in range(index + 1, len(dates)):
        if (found := carried(i)) is not None:
            return found
    return published


@dataclass(frozen=True, slots=True)
class Figure:
    """A number a sentence states (offsets into the sentence) and the date it refers to."""

    text: str
    start: int
    end: int
    period: Period | None


_CLAUSE = {
    "en": r";|:\s|,\s|\s[—–]\s|\b(?:and|but|while|whereas)\b",
    # A dash is no break in Russian and Belarusian: it stands for the verb ("а цяпер — 1 080").
    "ru": r";|:\s|,\s|(?<!\w)(?:и|а|но|тогда\s+как)(?!\w)",
    "be": r";|:\s|,\s|(?<!\w)(?:і|й|а|але|тады\s+як)(?!\w)",
}


@cache
def _clause(language: str) -> re.Pattern[str]:
    return re.compile(_CLAUSE[language], re.IGNORECASE)


def figure_dates(
    sentence: str,
    *,
    language: str,
    published: Period,
    current: Period | None = None,
    options: DateOptions = DEFAULT_OPTIONS,
) -> tuple[Figure, ...]:
    """Each figure of a sentence with the date it refers to, for sentences that give several:
    "As of 1 January 2026 the centre counted 1,147, compared with 1,265 twelve months earlier"
    -> 1,147 at 1 January 2026 and 1,265 at January 2025.

    A figure takes the date in its own clause (the nearest, an older figure's "up from 1,072 in
    mid-August" included), else a word of the present in its clause (``current``, else
    ``published``), else the nearest as-of date before it in the sentence, else the sentence's
    ``as_of`` (None when it has none: then the passage's or the document's date applies).
    """
    if language not in LANGUAGES:
        return ()
    text = _prepare(sentence, language)
    grammar = _grammar(language, False)
    mentions = _find(text, language, published, False, False, options, current)
    future = bool(grammar.future.search(text))
    attachable = [
        m
        for m in mentions
        if m.cue in (Cue.AS_OF, Cue.PLAIN, Cue.COMPARISON) and (m.explicit_year or not future)
    ]
    own = _as_of(sentence, language, published, current, current, options)
    breaks = [0, *(b.start() for b in _clause(language).finditer(text)), len(text)]
    figures = []
    for number in _figures(text, mentions, grammar):
        start = max(b for b in breaks if b <= number.start())
        end = min(b for b in breaks if b >= number.end())
        inside = [m for m in attachable if start <= m.start and m.end <= end]
        before = [m for m in attachable if m.end <= number.start() and m.cue is not Cue.COMPARISON]
        if inside:
            nearest = min(inside, key=lambda m: min(abs(m.start - number.end()),
                                                     abs(number.start() - m.end)))  # fmt: skip
            period: Period | None = nearest.period
        elif grammar.present.search(text, start, end):
            period = current or published
        elif before:
            period = before[-1].period
        else:
            period = own
        figures.append(Figure(number.group(), number.start(), number.end(), period))
    return tuple(figures)


# -- questions ------------------------------------------------------------------------------------

# Words that ask how a figure changed: a series whatever else the question says.
_CHANGE = {
    "en": r"\b(?:chang(?:e|ed|es|ing)|trends?|over\s+time|evolv\w*|evolution|dynamics|history|"
    r"timeline|month\s+by\s+month|year\s+by\s+year|(?:each|every|per|by)\s+(?:month|year)|"
    r"develop(?:ed|ing|ment)?|over\s+the\s+(?:past|last)|in\s+the\s+(?:past|last)\s+\w+\s+"
    r"(?:years?|months?))\b",
    "ru": r"(?<!\w)(?:менял\w*|изменил\w*|изменени\w*|изменя\w*|динамик\w*|тенденци\w*|тренд\w*|"
    r"по\s+месяцам|по\s+годам|с\s+течением\s+времени|со\s+временем|в\s+каждом\s+месяце|"
    r"ежемесячн\w*|помесячн\w*|за\s+последн\w+)(?!\w)",
    "be": r"(?<!\w)(?:мянял\w*|змянял\w*|змяніл\w*|змен(?:ы|аў|ах|а)?|дынамік\w*|тэндэнцы\w*|"
    r"трэнд\w*|па\s+месяцах|па\s+гадах|з\s+цягам\s+часу|[уў]\s+кожным\s+месяцы|"
    r"штомесячн\w*|за\s+апошн\w+)(?!\w)",
}
# Words of a rise, a fall or a comparison: a series, unless the question asks about now ("How
# many now, compared with a year ago?" wants the newest figure first, the older beside it).
_TREND = {
    "en": r"\b(?:ris(?:e|es|ing)|fall(?:s|ing)?|(?:gone|going|went|go)\s+(?:up|down)|"
    r"grow(?:n|th|ing|s)?|grew|fallen|fell|risen|rose|declin\w*|increas\w*|decreas\w*|drop\w*|"
    r"compar\w*)\b",
    "ru": r"(?<!\w)(?:вырос\w*|сократил\w*|уменьшил\w*|увеличил\w*|снизил\w*|упал\w*|рост\w*|"
    r"снижени\w*|раст[её]т|растут|пада\w*|снижа\w*|уменьша\w*|увеличива\w*|сокраща\w*|"
    r"сравн\w*)(?!\w)",
    "be": r"(?<!\w)(?:вырасл\w*|вырас|скараціл\w*|зменшыл\w*|павялічыл\w*|знізіл\w*|упал\w*|"
    r"рост\w*|зніжэнн\w*|расце|растуць|пада\w*|зніжа\w*|памянша\w*|павялічва\w*|скарача\w*|"
    r"параўн\w*)(?!\w)",
}
# A rise or a fall going on still ("is it still growing?", "всё ещё растёт?", "па-ранейшаму
# расце?") asks where it stands now, the newest figure first, not for the series.
_STILL_TREND = {
    "en": r"\bstill\s+(?:ris|fall|grow|increas|decreas|declin|drop|climb|shrink)\w*",
    "ru": r"(?<!\w)(?:вс[её]\s+ещ[её]|по-прежнему|до\s+сих\s+пор|продолжа\w*)\s+(?:раст|пада|"
    r"сокраща|увеличива|уменьша|снижа)\w*",
    "be": r"(?<!\w)(?:усё\s+яшчэ|па-ранейшаму|дагэтуль|працягва\w*)\s+(?:расце|растуць|раст|пада|"
    r"скарача|павялічва|памянша|зніжа)\w*",
}
# Words of now in a question ("still" is not one: "were they still held in August 2025?").
_NOW = {
    "en": r"\b(?:now|currently|today|at\s+present|presently|these\s+days|at\s+the\s+moment|"
    r"where\s+(?:does|do)\s+(?:\w+\s+){0,3}stand)\b",
    "ru": r"(?<!\w)(?:сейчас|сегодня|теперь|в\s+настоящее\s+время|на\s+данный\s+момент|"
    r"на\s+текущий\s+момент)(?!\w)",
    "be": r"(?<!\w)(?:цяпер|зараз|сёння|на\s+дадзены\s+момант)(?!\w)",
}
# In a question, "after the September 2025 release" asks about the time just after it.
_AFTER = re.compile(r"(?:\bafter|\bbefore|(?<!\w)после|(?<!\w)перед|(?<!\w)пасля|(?<!\w)перад)"
                    r"\s+(?:the\s+)?$", re.IGNORECASE)  # fmt: skip
# "until July 2024", "до июля 2024 года", "да кастрычніка 2024 года": the end of a span with no
# start, a total by then; as a point, its date (a span with both ends is ``_closed_span``).
_UNTIL = re.compile(r"(?:\buntil|\btill|\bup\s+to|(?<!\w)до|(?<!\w)да)\s+(?:the\s+)?$",
                    re.IGNORECASE)  # fmt: skip
_SPAN = {
    "en": r"\b(?:over|in|during|for|throughout)\s+the\s+(?:past|last)\s+(?:(?P<n>\w+)\s+)?"
    r"(?P<unit>years?|months?|decade)\b",
    "ru": r"(?<!\w)за\s+(?:(?:последн|прошедш)\w*\s+)?(?:(?P<n>\d{1,2}|\w+)\s+)?"
    r"(?P<unit>год|года|лет|месяц|месяца|месяцев|полгода)(?!\w)",
    "be": r"(?<!\w)за\s+(?:(?:апошн|мінул)\w*\s+)?(?:(?P<n>\d{1,2}|\w+)\s+)?"
    r"(?P<unit>год|гады|гадоў|месяц|месяцы|месяцаў|паўгода)(?!\w)",
}
_WHEN = {
    "en": r"\bwhen\b|\bwhat\s+(?:date|day|year|month)\b|\bwhich\s+(?:year|month|day)\b|"
    r"\bhow\s+long\s+ago\b",
    "ru": r"(?<!\w)(?:когда|в\s+каком\s+(?:году|месяце)|какого\s+числа|с\s+какого\s+времени)"
    r"(?!\w)",
    "be": r"(?<!\w)(?:калі|у\s+якім\s+(?:годзе|месяцы)|якога\s+чысла|з\s+якога\s+часу)(?!\w)",
}


@dataclass(frozen=True, slots=True)
class _QuestionPatterns:
    change: re.Pattern[str]
    trend: re.Pattern[str]
    now: re.Pattern[str]
    span: re.Pattern[str]
    when: re.Pattern[str]
    still_trend: re.Pattern[str]


@cache
def _question_patterns(language: str) -> _QuestionPatterns:
    return _QuestionPatterns(
        *(
            re.compile(table[language], re.IGNORECASE)
            for table in (_CHANGE, _TREND, _NOW, _SPAN, _WHEN, _STILL_TREND)
        )
    )


def _span_months(match: re.Match[str], language: str) -> int:
    unit = match.group("unit").lower()
    count_text = (match.group("n") or "").lower()
    if unit.startswith(("пол", "паў")):
        return 6
    if count_text.isdigit():
        count = int(count_text)
    else:
        count = _NUMBER_WORDS.get(language, {}).get(count_text, 1)
    if unit.startswith("decade"):
        return 120 * count
    return count * (1 if unit.startswith(("month", "месяц")) else 12)


def _closed_span(text: str, mentions: Sequence[Mention]) -> Period | None:
    """The span of "from <date> to <date>" (two ends of a range, joined by "to", "по", "да", a
    dash): both ends given, unlike "since 2020", which reaches to now."""
    for a, b in itertools.pairwise(mentions):
        if a.cue is Cue.RANGE and b.cue is Cue.RANGE and _JOIN.fullmatch(text, a.end, b.start):
            start = a.period.start
            if not a.explicit_year and b.explicit_year:
                # "from January to April 2025": the first end is in the year of the second.
                while start > b.period.start:
                    start = add_months(start, -12)
            if start <= b.period.end:
                precision = _coarser(a.period.precision, b.period.precision)
                return Period(start, b.period.end, precision)
    return None


def question_time(
    question: str,
    *,
    language: str,
    today: date,
    options: DateOptions = DEFAULT_OPTIONS,
) -> TimeIntent:
    """What ``question`` asks about time: the current state, a point in time or a series.

    A series is asked by change words ("how has it changed", "trend", "как менялось",
    "динамика", "як змянялася", "over the past year", "за последний год"), or by rise, fall and
    comparison words ("has it fallen since 2024", "сравни") in a question that does not ask
    about now; its period is the span asked about, when given ("over the past year", "since
    2020", "в 2025 году"). A point is a date ("in August 2025", "в конце января 2026", "a year
    ago", "год таму", "after the September 2025 release", "until July 2024", "да ліпеня 2024
    года", "весной прошлого года", "at the end of summer 2025"), resolved against ``today``; two
    points make a series, nested ones are the narrower. Anything else is the current state:
    words of the present ("now", "still", "сейчас", "па-ранейшаму"), "since 2020" on its own, a
    rise or a fall still going on ("is it still growing?", "всё ещё растёт?"), and a question
    about now that mentions the past for comparison ("now, compared with a year ago"). A
    question about when something happened ("when was he arrested?") asks no time of a figure:
    the current state, unless it names a period.
    """
    if language not in LANGUAGES:
        return TimeIntent(TimeKind.CURRENT)
    text = _months_for_adjectives(_prepare(question, language), language)
    mentions = _find(text, language, Period.day(today), True, True, options)
    patterns = _question_patterns(language)
    when = bool(patterns.when.search(text))
    now = bool(patterns.now.search(text))
    points = [
        m
        for m in mentions
        if m.cue is not Cue.RANGE
        or (
            m.period.precision != "year"
            and (_AFTER.search(text, 0, m.start) or _UNTIL.search(text, 0, m.start))
        )
    ]
    # "в середине августа этого года": the narrower of two nested dates is the one asked about.
    points = [p for p in points if not any(p.period.contains(q.period) and p.period != q.period
                                           for q in points)]  # fmt: skip
    still = bool(patterns.still_trend.search(text))
    series = patterns.change.search(text) or (patterns.trend.search(text) and not now and not still)
    if series and not when:
        found_span = patterns.span.search(text)
        if found_span:
            months = _span_months(found_span, language)
            return TimeIntent(TimeKind.SERIES, Period(add_months(today, -months), today, "month"))
        if mentions:
            first = min(m.period.start for m in mentions)
            last = max(m.period.end for m in mentions)
            if len(mentions) == 1 and mentions[0].cue is Cue.RANGE:
                last = max(last, today)
            return TimeIntent(TimeKind.SERIES, Period(first, last, "month"))
        return TimeIntent(TimeKind.SERIES)
    span = _closed_span(text, mentions)
    if span is not None and not now:
        # "from January to April 2026", "с 2020 по 2025 год": a figure of that span.
        return TimeIntent(TimeKind.POINT, span)
    if not points or (now and not when):
        return TimeIntent(TimeKind.CURRENT)
    distinct = {(m.period.start, m.period.end) for m in points}
    if len(distinct) > 1 and not when:
        first = min(m.period.start for m in points)
        last = max(m.period.end for m in points)
        return TimeIntent(TimeKind.SERIES, Period(first, last, "month"))
    return TimeIntent(TimeKind.POINT, points[0].period)
