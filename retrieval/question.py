"""What a question asks: its language, its content words, and the kind of answer it wants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import OSA

from corpus.language import detect_language, restore_short_u
from retrieval.lexical import Term, terms


class AnswerType(StrEnum):
    """The kind of answer a question wants; an answering sentence usually contains one."""

    COUNT = "count"
    DATE = "date"
    OTHER = "other"


# Interrogatives carry the answer type, not the topic: they are dropped from the lexical query
# ("how many" must not match "many more were driven into exile").
_QUESTION_WORDS = {
    "en": {
        "how",
        "many",
        "much",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "does",
        "did",
        "do",
        "is",
        "are",
        "was",
        "were",
        # "what's" typed without its apostrophe.
        "whats",
        "hows",
        "whos",
        "wheres",
        "whens",
    },
    "ru": {
        "сколько",
        "как",
        "какой",
        "какая",
        "какие",
        "каких",
        "каково",
        "кто",
        "кого",
        "когда",
        "где",
        "куда",
        "почему",
        "зачем",
        "что",
        "чем",
        "ли",
    },
    "be": {
        "колькі",
        "як",
        "які",
        "якая",
        "якія",
        "якіх",
        "хто",
        "каго",
        "калі",
        "дзе",
        "куды",
        "чаму",
        "навошта",
        "што",
        "ці",
    },
}
_QUESTION_WORDS["uk"] = {"скільки", "як", "який", "яка", "які", "хто", "коли", "де", "чому", "що"}

# A count is asked for by "how many" and by the nouns of counting ("the latest count of",
# "последняя цифра", "якая лічба"); "колькi" is typed with a Latin i on a Russian keyboard.
_COUNT = re.compile(
    r"\bhow\s+(many|much)\b|\bnumber\s+of\b|\bwhat\s+(percentage|percent|share|amount)\b"
    r"|\b(count|tally|figure|figures|total)\s+(of|for)\b"
    r"|(?<!\w)(сколько|скольких|число|числа|количество|численность|цифра|цифру|цифры"
    r"|кольк[іi]|колькасць|л[іi]чба|л[іi]чбу|л[іi]чбы|скільки|кількість)(?!\w)",
    re.IGNORECASE,
)
# The words that ask for a count, as typed in a hurry ("numbr of", "сколко", "кольки" on a
# Russian keyboard): a word of at least ``_TYPO_MIN_CHARS`` letters one edit from one (a
# letter left out, added, changed or two swapped) is read as it, for telling the kind of
# answer only; the lexical query keeps what was typed. Two edits would read "несколько"
# (several) and "насколько" (to what extent) as "сколько".
_COUNT_WORDS = ("number", "сколько", "колькі")
_TYPO_MIN_CHARS = 5
_WORD = re.compile(r"\w+")


def _cues_spelled(text: str) -> str:
    """``text`` with each word one edit from one of ``_COUNT_WORDS`` written as that word."""

    def spelled(found: re.Match[str]) -> str:
        word = found.group()
        if len(word) < _TYPO_MIN_CHARS:
            return word
        lowered = word.lower()
        for cue in _COUNT_WORDS:
            if lowered != cue and OSA.distance(lowered, cue, score_cutoff=1) <= 1:
                return cue
        return word

    return _WORD.sub(spelled, text)


# "What was the liquidation count at the end of summer?", "what's the latest prisoner tally?":
# asked for, a noun of counting at the head of its phrase asks for the count, and what it counts
# is the words before it ("what does the count include?" asks for something else).
_COUNT_NOUN = re.compile(
    r"\bwhat(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+the\s+((?:[\w'-]+\s+){0,3})"
    r"(count|tally|toll|total)\b(?!\s+(of|for)\b)",
    re.IGNORECASE,
)
# "Are there still more than a thousand?", "ці больш за тысячу?": a question that compares a
# quantity with a number asks for the count ("what did the more than 50 freed say?" does not).
_NUMBER = r"((?!(19|20)\d\d\b)\d"  # a number, not a year ("over 2025" is a time)
_COMPARED = re.compile(
    rf"(?<!the\s)\b(more|fewer|less)\s+than\s+(a\s+|an\s+)?{_NUMBER}|hundred|thousand|dozen)"
    rf"|\b(over|under|at\s+least|at\s+most)\s+(a\s+)?{_NUMBER}|hundred|thousand)"
    r"|(?<!\w)(больше|более|меньше|менее|свыше|не\s+менее|больш\s+за|больш\s+чым|менш\s+за"
    rf"|звыш|не\s+менш\s+за|більше|менше)\s+{_NUMBER}|сот|тысяч|тисяч|дзясятк|десят)",
    re.IGNORECASE,
)
# "Насколько кислород-18 тяжелее?", "наколькі спіс большы?", "насколько изменилась
# температура?": by how much a thing is bigger or has changed is a count; "насколько были
# распространены" (to what extent) is not.
_BY_HOW_MUCH = re.compile(
    r"(?<!\w)(насколько|наколькі|наскільки)\s+([\w-]+\s+){0,7}?"
    r"(больше|меньше|выше|ниже|дольше|дороже|дешевле|старше|моложе|\w+[еэ]е|"
    r"большы|больш|меншы|менш|вышэй|ніжэй|даўжэй|даражэй|танней|старэйш\w*|маладзейш\w*|\w+ейш\w*|"
    r"изменил\w*|вырос\w*|выросл\w*|сократил\w*|увеличил\w*|уменьшил\w*|"
    r"змянілі?\w*|вырас\w*|скараціл\w*|павялічыл\w*|зменшыл\w*)(?!\w)",
    re.IGNORECASE,
)
# "How long did the hunger strike last?", "какой срок получила?", "як доўга?": a length of time
# or a prison term is a count of days or years, as "сколько дней голодал?" and "колькі гадоў
# далі?" already ask; what is counted is time, not the words after the cue.
_DURATION = re.compile(
    r"\bhow\s+long\b|\bwhat\s+(sentence|term|prison\s+term|jail\s+term)\b"
    r"|(?<!\w)(как\s+долго|как\s+надолго|как(ой|ому|им)\s+срок(у|ом)?"
    r"|як\s+доўга|як\s+надоўга|як(і|ога|ім)\s+тэрмін(у|ам)?)(?!\w)"
    # A punishment or a fine asked for is a term or an amount: "what was he sentenced to?",
    # "какое наказание светит?", "які штраф атрымаў?".
    r"|\bwhat\s+(punishment|penalty|fine)\b|\bwhat\b[^?]{0,80}\bsentenced\s+to\b(?!\s+\w+\s+years?)"
    r"|(?<!\w)(какое\s+наказание|какой\s+штраф|к\s+чему\s+(приговорил|осудил)\w*"
    r"|якое\s+пакаранне|які\s+штраф|да\s+чаго\s+(асудзіл|прысудзіл)\w*)(?!\w)"
    # A size or an age: "how big was the crowd?", "how old is the teacher?".
    r"|\bhow\s+(big|large|old|far|high|tall|heavy|deep|wide)\b",
    re.IGNORECASE,
)
# "Why is the second group's figure higher?" asks for a reason, not a count.
_WHY = re.compile(
    r"\b(why|how\s+come)\b|(?<!\w)(почему|отчего|зачем|чаму|навошта|чому)(?!\w)", re.IGNORECASE
)
_DATE = re.compile(
    r"\bwhen\b|\bwhat\s+(year|date|month|day)\b|\bwhich\s+(year|date|month)\b"
    r"|(?<!\w)(когда|в\s+каком\s+году|какого\s+числа|калі|у\s+якім\s+годзе|коли)(?!\w)",
    re.IGNORECASE,
)


#: What a how-many question counts is named by the next few words ("how many women are"),
#: words of time ("колькі зараз палітвязняў") and "people", which names nothing a figure of
#: the corpus does not count, aside ("how many people with disabilities" -> disabilities).
_COUNTED_SPAN = 3
_NOT_COUNTED = frozenset(
    {
        *("now", "currently", "still", "today", "yet", "left", "remain", "remaining"),
        *("latest", "newest", "current", "last", "official"),
        *("сейчас", "теперь", "сегодня", "ещё", "еще", "всё", "остаётся", "остается", "осталось"),
        *("цяпер", "зараз", "сёння", "яшчэ", "застаецца", "засталося", "ранейшаму", "дагэтуль"),
        *("people", "persons", "person", "individuals", "человек", "людей", "люди", "лиц"),
        *("чалавек", "людзей", "людзі", "чалавекі", "асоб"),
        # Belarusian has no stop-word list in bm25s: its prepositions and forms of "to be"
        # ("колькі было палітвязняў", "колькі жанчын сярод палітвязняў") count nothing.
        *("па", "за", "на", "у", "ў", "ва", "з", "са", "ад", "да", "для", "пра", "праз", "сярод"),
        *("было", "быў", "была", "былі", "ёсць", "і", "ці", "а", "што", "якія", "якіх"),
        *("среди",),
    }
)


@dataclass(frozen=True, slots=True)
class Question:
    """A question, analysed once and used by every channel."""

    text: str
    language: str
    terms: tuple[Term, ...]
    answer_type: AnswerType
    #: For a how-many question, the stems of what it counts: the first two content words of
    #: the three after "how many" / "сколько" / "колькі" ("how many women are held" -> women).
    counted: tuple[str, ...] = ()
    #: The clause that asks, when the question also has one that only sets the scene ("How
    #: many NGOs are liquidated now, with exiled groups meeting in Vilnius?" -> "How many NGOs
    #: are liquidated now"); None when the whole question asks (``asking_clause``).
    focus: str | None = None

    @property
    def tokens(self) -> list[str]:
        """The stemmed lexical query."""
        return [t.stem for t in self.terms]


def analyse(text: str, *, language: str | None = None) -> Question:
    """Detect the language, drop interrogatives, and tell what kind of answer is wanted."""
    language = language or detect_language(text, question=True)
    if language == "be":
        # Typed on a Russian keyboard, which has no ў: read "палітвязняу" as "палітвязняў".
        text = restore_short_u(text)
    drop = _QUESTION_WORDS.get(language, set()) | _QUESTION_WORDS["en"]
    kept = tuple(t for t in terms(text, language) if t.word not in drop)
    counted: tuple[str, ...] = ()
    cued = _cues_spelled(text)
    cue = _COUNT.search(cued) or _COMPARED.search(cued)
    head = None if cue else _COUNT_NOUN.search(cued)
    if (cue or head) and not _WHY.search(text):
        kind = AnswerType.COUNT
        if cue:
            named = " ".join(cued[cue.end() :].split()[:_COUNTED_SPAN])
        else:
            assert head is not None
            named = head.group(1)
        found = [
            t
            for t in terms(named, language)
            if t.word not in drop | _NOT_COUNTED and not t.word[0].isdigit()
        ]
        counted = tuple(t.stem for t in found[:2])
    elif (_DURATION.search(text) or _BY_HOW_MUCH.search(cued)) and not _WHY.search(text):
        kind = AnswerType.COUNT
    elif _DATE.search(text):
        kind = AnswerType.DATE
    else:
        kind = AnswerType.OTHER
    return Question(
        text=text,
        language=language,
        terms=kept,
        answer_type=kind,
        counted=counted,
        focus=asking_clause(text),
    )


# Interrogatives that open what is asked (no auxiliaries: "is", "ли" ask nothing by themselves).
_ASKING = re.compile(
    r"(?<!\w)(how|what|which|who|whom|whose|when|where|why"
    r"|сколько|скольких|как|какой|какая|какое|какие|каких|каков\w*|кто|кого|когда|где|почему|что"
    r"|кольк[іi]|як|які|якая|якое|якія|якіх|хто|каго|калі|дзе|чаму|што"
    r"|скільки|який|яка|коли|чому|що)(?!\w)",
    re.IGNORECASE,
)
# A clause that opens with one of these (as its first or second word: "против кого", "of
# what") belongs to the clause before it: a relative clause says which one is meant ("the
# channel that opened a studio in Warsaw", "людей, которым пишут открытки"), a complement or
# comparison completes it ("выше, чем у «Фонаря»"), and "and" goes on asking ("is it growing,
# and where does it stand?").
_JOINS = re.compile(
    r"^(\w+\s+)?(that|than|and|or|but"
    r"|котор\w*|кто|кого|кому|кем|чем|что|чего|как|где|куда|чей|чья|чьи|и|или|а|но"
    r"|як\w*|хто|каго|каму|кім|чым|што|чаго|дзе|куды|чый|чые|і|ці"
    r"|котр\w*|кого|кому|чим|що|де)(?!\w)",
    re.IGNORECASE,
)
# A clause that opens with one of these sets a scene beside what is asked ("..., while exiled
# channels open new studios", "With sanctions back on the table, ...", "..., пока в Литве
# спорят", "..., пакуль вырашаецца лёс санкцый"). "When", "когда", "калі" are left out: they
# mostly say when the thing asked about happened ("How old was Manning when he played in
# Super Bowl 50?"), and so are the fronted phrases of place or manner ("In a steam turbine,
# what are rotors mounted on?"), which narrow what is asked.
_SCENE = re.compile(
    r"^(while|whilst|with|пока|в\s+то\s+время\s+как|тогда\s+как|пакуль|у\s+той\s+час\s+як"
    r"|тады\s+як|поки|доки)(?!\w)",
    re.IGNORECASE,
)
# English sets off by a comma only a relative clause that adds something about what is asked
# ("how many are still in prison, the ones the diaspora writes postcards to?", "..., who was
# freed in 2025?"); one that says which is meant takes none ("the prisoners who were freed").
# Such a clause sets a scene too. Russian and Belarusian put a comma before every relative
# clause, so theirs belong to the clause before them (``_JOINS``).
_ASIDE = re.compile(r"^((\w+\s+){0,2}(which|whom|whose)|who|the\s+ones|those)(?!\w)", re.IGNORECASE)
# Clauses are split at commas and semicolons, and at a dash between spaces.
_CLAUSES = re.compile(r"[,;]|\s[—–-]\s")
#: An asking clause of fewer words is not a question of its own ("Political prisoners, how
#: many?").
_ASKING_WORDS = 3


def asking_clause(text: str) -> str | None:
    """What ``text`` asks, without a clause that only sets the scene: "With the diaspora
    packing concert halls in Warsaw, how many Belarusians abroad are tried in absentia?" asks
    about trials in absentia, and a passage about the concert answers nothing. The clauses are
    split at punctuation; relative, complement, comparative and coordinated clauses stay with
    the clause they belong to (``_JOINS``), and a clause opened by "while", "with", "пока",
    "пакуль" (``_SCENE``) is set aside, as is an English relative clause set off by a comma
    that asks nothing itself (``_ASIDE``: "..., the ones the diaspora writes postcards to").
    None when nothing is set aside, or what is left has no interrogative or fewer than three
    words. Ranking reads it beside the whole question, never instead of it
    (``FirstStage.focus``)."""
    clauses: list[str] = []
    aside: set[int] = set()
    for part in (p.strip() for p in _CLAUSES.split(text)):
        if not part:
            continue
        opened = _ASIDE.search(part) if clauses else None
        if opened and not _ASKING.search(part[opened.end() :]):
            aside.add(len(clauses))
            clauses.append(part)
        elif clauses and _JOINS.search(part):
            clauses[-1] = f"{clauses[-1]}, {part}"
        else:
            clauses.append(part)
    kept = [c for i, c in enumerate(clauses) if i not in aside and not _SCENE.search(c)]
    if len(kept) == len(clauses) or not kept:
        return None
    asked = ", ".join(kept).rstrip("?!. ")
    if not _ASKING.search(asked) or len(re.findall(r"\w+", asked)) < _ASKING_WORDS:
        return None
    return asked
