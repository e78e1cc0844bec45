"""Who a document says a statement comes from: "according to The Associated Press", "Viasna
reported", "по данным правозащитного центра «Весна»", "паводле звестак «Вясны»".

``attribution`` returns the source as the sentence writes it, in its case: "правозащитного
центра «Весна»" after "по данным", not a nominative guessed without a morphology library (a wrong
name is worse than an inflected one; a renderer can put it back after "по данным"). It is
conservative: the phrase must name someone, that is hold a quoted name, a capitalised word that
is not a month or a word any sentence may start with, or a generic source on a short list
("human rights organizations", "правозащитники", "праваабаронцы"); pronouns ("he said"),
anaphora ("the group said"), documents ("according to the law", "по официальным данным") and
vague crowds ("media reports say", "officials said") give None. The phrase is at most
``MAX_SOURCE_WORDS`` words, or runs to the end of a quoted name.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache

from corpus.dates import month_forms
from corpus.language import normalise_belarusian

#: A source is at most this many words (a quoted name may add ``MAX_QUOTED_WORDS``).
MAX_SOURCE_WORDS = 8
MAX_QUOTED_WORDS = 12
#: Only this much of a sentence is read.
MAX_SENTENCE_CHARS = 2000

# A quoted name, a word (with inner hyphens and apostrophes), or one punctuation mark.
_TOKEN = re.compile(
    r"«[^»]{1,120}»|„[^“”]{1,120}[“”]|“[^”]{1,120}”|\"[^\"]{1,120}\"|\w+(?:[-'’]\w+)*(?:['’](?!\w))?"
    r"|[^\w\s]"
)
_QUOTED = re.compile(r"^[«„“\"]")
# A quotation, not a quoted name: it ends with its own punctuation ("...pay," said the editor).
_QUOTATION = re.compile(r"[,.!?;:…]\W?$")
#: A quoted name has at most this many words; a longer quotation is what someone said.
MAX_QUOTED_NAME_WORDS = 5
# "Vilnius-based", "Minsk-born": a place made an adjective, no name of a source.
_COMPOUND_ADJECTIVE = re.compile(r"^\w+-[^\W\d_]*[a-zа-яёіў]$")
_POSSESSIVE = re.compile(r"(?:'s|’s)$")


@dataclass(frozen=True, slots=True)
class _Language:
    before: re.Pattern[str]  # cue words after which the source is named ("according to")
    after: re.Pattern[str]  # verbs before which it is named ("Viasna reported")
    lead_in: re.Pattern[str]  # "data from", "a report by": skipped at the start of a source
    stop: frozenset[str]  # words that end a source (prepositions, conjunctions, "that")
    glue: frozenset[str]  # lower-case words inside names ("human rights center", "центра")
    function: frozenset[str]  # words never part of a name ("It", "In", "Then")
    vague: frozenset[str]  # capitalised alone they name nobody ("Officials", "Media", "Staff")
    prepositions: frozenset[str]  # before a name it is an object ("Lawyers in Minsk said")
    plural: re.Pattern[str]  # a lone capitalised plural opening a sentence is a common noun
    agents: re.Pattern[str]  # generic sources accepted without a name
    adjective: re.Pattern[str]  # a capitalised adjective that lower-case words may follow


_WEEKDAYS = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "понедельник", "вторник", "среда", "среду", "четверг", "пятница", "пятницу", "суббота",
    "субботу", "воскресенье", "панядзелак", "аўторак", "серада", "сераду", "чацвер", "пятніца",
    "пятніцу", "субота", "суботу", "нядзеля", "нядзелю",
)  # fmt: skip
# A month or a weekday is never part of a source's name ("In October Viasna reported").
_MONTHS_AND_DAYS = frozenset(_WEEKDAYS).union(*(month_forms(lang) for lang in ("en", "ru", "be")))

_SPEC = {
    "en": {
        "before": r"\baccording\s+to\s+|\bciting\s+|\b(?:reported|cited|compiled|counted|"
        r"documented|published)\s+by\s+|,[\"”»]?\s*(?:said|says|reported|reports|told\s+\w+)\s+",
        "after": r"\b(?:say|says|said|reported|reports|estimates|estimated|counted|counts|"
        r"announced|stated|confirmed|noted|told|wrote|documented|recorded)\b",
        "lead_in": r"(?:(?:the|a|an)\s+)?(?:(?:latest|most\s+recent|new|recent|updated|"
        r"official)\s+)?(?:data|figures|count|counts|estimates?|report|statistics|numbers|"
        r"information|list|tally)\s+(?:from|by|of|compiled\s+by)\s+",
        "stop": "that which who whom whose while when where as on in at for since with from by "
        "to there this than but or nor so because after before during until about over into "
        "is are was were has have had will would said says reported",
        "glue": "of the for and human rights right center centre organization organizations "
        "organisation organisations group groups defenders monitor monitoring watchdog "
        "agency news service committee ministry department office spokesperson spokesman "
        "spokeswoman leader head director chairman chairwoman commissioner rapporteur "
        "special council association union network foundation institute initiative project "
        "mission bureau press de authorities officials government court police",
        "function": "the a an this that these those it he she they we i you his her their its "
        "our my in on at by for from as since after before during according but and or so yet "
        "however meanwhile also earlier later now today then yesterday here there when while "
        "if thus still separately instead many some several most others",
        "vague": "media report reports sources source officials official experts critics "
        "observers analysts people residents witnesses independent local state government "
        "police lawyers relatives families prosecutors data figures estimates staff editors "
        "diplomats organisers organizers visitors interviewees publishers journalists doctors "
        "teachers students workers neighbours neighbors friends colleagues jury",
        "prepositions": "in at from to with after before into on over under near against across "
        "around among between during without through behind beyond",
        "plural": r"^(?![A-Z]+$)\w+s$",
        "agents": r"^(?:(?:the\s+)?(?:human\s+)?rights\s+(?:organi[sz]ations?|groups?|"
        r"defenders?|activists?|advocates?|monitors?|watchdogs?)|(?:human\s+rights\s+)?"
        r"activists|the\s+opposition|opposition\s+(?:leaders?|activists|figures))$",
        "adjective": r"(?!x)x",
    },
    "ru": {
        "before": r"(?<!\w)(?:по|согласно)\s+(?:(?:последним|новым|свежим|предварительным)\s+)?"
        r"(?:данным|информации|сведениям|оценкам|оценке|подсч[её]там|словам|сообщению|"
        r"сообщениям|мнению)\s+|(?<!\w)(?:об\s+этом|как)\s+(?:сообщает|сообщил[аио]?|сообщают|передаёт|"
        r"передает|пишет|писал[аи]?|отмечает|отметил[аи]?|заявил[аи]?|заявляет|подсчитал[аи]?|"
        r"рассказал[аи]?)\s+|(?<!\w)(?:со\s+ссылкой|ссылаясь)\s+на\s+|[,—–-][\"”»]?\s*"
        r"(?:[—–-]\s*)?(?:сообщает|сообщил[аи]?|сообщают|передаёт|передает|пишет|отмечает|"
        r"заявил[аи]?|сказал[аи]?|подсчитал[аи]?)\s+",
        "after": r"(?<!\w)(?:сообщает|сообщил[аои]?|сообщают|заявил[аои]?|заявляет|заявляют|"
        r"подсчитал[аои]?|насчитал[аои]?|насчитывает|считает|отмечает|отметил[аои]?|"
        r"констатирует|фиксирует|зафиксировал[аои]?|приводит\s+данные)(?!\w)",
        "lead_in": r"(?:(?:последним|новым|свежим)\s+)?(?:данным|данные|подсч[её]там)\s+",
        "stop": "на в во с со к по за о об до от у при что и а но как когда который которая "
        "которые где уже ещё еще это этот эта там тогда также после перед около более менее "
        "свыше было были был была есть",
        "glue": "правозащитного правозащитный правозащитная правозащитной правозащитных "
        "правозащитные центра центр центре организации организация организаций организаций "
        "ассоциации ассоциация комитета комитет службы служба министерства министерство "
        "совета совет союза союз управления управление инициативы инициатива фонда фонд "
        "миссии миссия группы группа агентства агентство представителя представитель "
        "докладчика докладчик по правам человека специального специальный пресс-службы "
        "пресс-служба международной международная независимого независимый",
        "function": "в на по с к у о и а но это этот эта эти он она они оно мы я вы его её их "
        "тогда затем потом сегодня вчера здесь там также",
        "vague": "сми источники источник эксперты чиновники власти журналисты врачи адвокаты "
        "родственники сотрудники жюри организаторы посетители",
        "prepositions": "в во на из с со к по у от до за о об при без для после около",
        "plural": r"^(?![А-ЯЁ]+$)\w+[ыи]$",
        "agents": r"^(?:правозащитник\w*|правозащитн\w+\s+(?:организаци\w*|центр\w*|групп\w*|"
        r"сообществ\w*)|активист\w*|оппозици\w*)$",
        "adjective": r"\w+(?:ой|ого|ая|ий|ый|ое|ых|их|ую|ей)$",
    },
    "be": {
        "before": r"(?<!\w)(?:паводле|па)\s+(?:(?:апошніх|новых|свежых|папярэдніх)\s+)?"
        r"(?:звестак|дадзеных|звестках|інфармацыі|ацэнак|ацэнках|падлікаў|падліках|слоў|"
        r"словах|паведамлення|меркавання)\s+|(?<!\w)паводле\s+|(?<!\w)(?:пра\s+гэта|як)\s+(?:паведамляе|"
        r"паведаміў|паведаміла|паведамілі|паведамляюць|перадае|піша|адзначае|адзначыў|"
        r"адзначыла|заявіў|заявіла|заявілі|падлічыў|падлічыла|падлічылі)\s+|(?<!\w)(?:са\s+"
        r"спасылкай|спасылаючыся)\s+на\s+|[,—–-][\"”»]?\s*(?:[—–-]\s*)?(?:паведамляе|паведаміў|"
        r"паведаміла|паведамілі|паведамляюць|перадае|піша|адзначае|заявіў|заявіла|заявілі|"
        r"сказаў|сказала|сказалі)\s+",
        "after": r"(?<!\w)(?:паведамляе|паведаміў|паведаміла|паведамілі|паведамляюць|заявіў|"
        r"заявіла|заявілі|заяўляе|падлічыў|падлічыла|падлічылі|налічыў|налічыла|налічылі|"
        r"налічвае|лічыць|адзначае|адзначыў|адзначыла|фіксуе|зафіксаваў|зафіксавала)(?!\w)",
        "lead_in": r"(?:(?:апошніх|новых|свежых)\s+)?(?:звестак|дадзеных|падлікаў)\s+",
        "stop": "на ў у в з са к да па за пра аб ад пры што і й а але як калі які якая якія "
        "дзе ужо ўжо яшчэ гэта гэты гэтая там тады таксама пасля перад каля больш менш звыш "
        "было былі быў была ёсць",
        "glue": "праваабарончага праваабарончы праваабарончая праваабарончай праваабарончых "
        "праваабарончыя цэнтра цэнтр цэнтры арганізацыі арганізацыя арганізацый асацыяцыі "
        "асацыяцыя камітэта камітэт службы служба міністэрства міністэрства савета савет "
        "саюза саюз ініцыятывы ініцыятыва фонду фонд місіі місія групы група агенцтва "
        "агенцтва прадстаўніка прадстаўнік дакладчыка дакладчык па правах чалавека "
        "спецыяльнага спецыяльны прэс-службы прэс-служба міжнароднай міжнародная "
        "незалежнага незалежны",
        "function": "у ў на па з к і а але гэта гэты гэтая гэтыя ён яна яны яно мы я вы яго яе "
        "іх тады потым сёння учора тут там таксама",
        "vague": "смі крыніцы крыніца эксперты чыноўнікі улады журналісты лекары адвакаты "
        "сваякі супрацоўнікі журы арганізатары наведвальнікі",
        "prepositions": "у ў в на з са да ад па за аб пра пры без для пасля каля",
        "plural": r"^(?![А-ЯЁІЎ]+$)\w+[ыіи]$",
        "agents": r"^(?:праваабаронц\w*|праваабарончы\w*\s+(?:арганізацы\w*|цэнтр\w*|"
        r"суполк\w*)|актывіст\w*|апазіцы\w*)$",
        "adjective": r"\w+(?:ай|ага|ая|ы|і|ае|ых|іх|ую)$",
    },
}


@cache
def _language(language: str) -> _Language:
    spec = _SPEC[language]
    return _Language(
        before=re.compile(spec["before"], re.IGNORECASE),
        after=re.compile(spec["after"], re.IGNORECASE),
        lead_in=re.compile(spec["lead_in"], re.IGNORECASE),
        stop=frozenset(spec["stop"].split()),
        glue=frozenset(spec["glue"].split()),
        function=frozenset(spec["function"].split()),
        vague=frozenset(spec["vague"].split()),
        prepositions=frozenset(spec["prepositions"].split()),
        plural=re.compile(spec["plural"]),
        agents=re.compile(spec["agents"], re.IGNORECASE),
        adjective=re.compile(spec["adjective"], re.IGNORECASE),
    )


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text[0].isalnum() or self.text[0] == "_"

    @property
    def quoted(self) -> bool:
        """A quoted name («Вясна», "Nasha Niva"), not a quotation."""
        return (
            bool(_QUOTED.match(self.text))
            and not _QUOTATION.search(self.text[:-1])
            and len(self.text.split()) <= MAX_QUOTED_NAME_WORDS
        )

    @property
    def quotation(self) -> bool:
        return bool(_QUOTED.match(self.text)) and not self.quoted

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper()


def attribution(sentence: str, *, language: str) -> str | None:
    """The source ``sentence`` attributes its statement to, as written, or None.

    "Viasna reported that 1,080 remain" -> "Viasna"; "по данным правозащитного центра «Весна»,
    ..." -> "правозащитного центра «Весна»"; "паводле звестак «Вясны»" -> "«Вясны»". Of several,
    the first.
    """
    if language not in _SPEC:
        return None
    text = sentence[:MAX_SENTENCE_CHARS]
    if language == "be":
        text = normalise_belarusian(text)
    rules = _language(language)
    tokens = [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    starts = [t.start for t in tokens]
    found: list[tuple[int, str]] = []
    for cue in rules.before.finditer(text):
        index = bisect_left(starts, cue.end())
        source = _forward(text, tokens, index, rules) if index < len(tokens) else None
        if source:
            found.append((cue.start(), source))
            break
    for verb in rules.after.finditer(text):
        index = bisect_left(starts, verb.start())
        source = _backward(text, tokens, index, rules) if index > 0 else None
        if source:
            found.append((verb.start(), source))
            break
    return min(found)[1] if found else None


def _forward(text: str, tokens: list[_Token], index: int, rules: _Language) -> str | None:
    """The source named from ``tokens[index]`` on."""
    lead = rules.lead_in.match(text, tokens[index].start)
    if lead:
        while index < len(tokens) and tokens[index].start < lead.end():
            index += 1
    taken: list[_Token] = []
    for token in tokens[index:]:
        if not token.word and not token.quoted:
            break
        lower = token.text.lower()
        if lower in rules.stop and not (taken and _joins_names(tokens, token, rules)):
            break
        if token.text[0].isdigit() or lower in _MONTHS_AND_DAYS:
            break
        taken.append(token)
        if token.quoted or len(taken) >= MAX_SOURCE_WORDS:
            break
    return _accept(text, _trim(taken, rules), rules, initial=False)


def _backward(text: str, tokens: list[_Token], index: int, rules: _Language) -> str | None:
    """The source named just before the reporting verb ``tokens[index]``."""
    taken: list[_Token] = []
    first = index
    for position in range(index - 1, -1, -1):
        token = tokens[position]
        lower = token.text.lower()
        if token.quoted:
            taken.insert(0, token)
            first = position
            continue
        if not token.word or token.text[0].isdigit() or lower in _MONTHS_AND_DAYS:
            break
        name = token.capitalised and lower not in rules.function
        if not (name or lower in rules.glue or _POSSESSIVE.search(token.text)):
            break
        taken.insert(0, token)
        first = position
        if len(taken) >= MAX_SOURCE_WORDS:
            break
    if first > 0 and taken and tokens[first - 1].text.lower() in rules.prepositions:
        return None  # "Lawyers in Minsk said": the name is an object, the subject is before it
    initial = bool(taken) and not text[: taken[0].start].strip()
    return _accept(text, taken, rules, initial=initial)


def _joins_names(tokens: list[_Token], token: _Token, rules: _Language) -> bool:
    """Whether a stop word such as "and", "и", "і" joins two names ("Viasna and BAJ")."""
    if token.text.lower() not in ("and", "и", "і", "й"):
        return False
    following = [t for t in tokens if t.start > token.start]
    return bool(following) and (following[0].quoted or following[0].capitalised)


def _trim(taken: list[_Token], rules: _Language) -> list[_Token]:
    """Drop trailing words that are not part of a name: "Вясны палітвязнямі" -> "Вясны"."""
    if not taken:
        return taken
    named = [i for i, t in enumerate(taken) if t.quoted or t.capitalised]
    if not named:
        return taken
    last = named[-1]
    # Lower-case words after a capitalised adjective are the rest of the name ("Белорусской
    # ассоциации журналистов"); after a noun they are the sentence going on.
    if taken[last].capitalised and rules.adjective.match(taken[last].text) and last == named[0]:
        tail = [t for t in taken[last + 1 :] if t.word]
        return taken[: last + 1 + min(len(tail), 3)]
    while last + 1 < len(taken) and taken[last + 1].text.lower() in rules.glue:
        last += 1
    return taken[: last + 1]


def _accept(text: str, taken: list[_Token], rules: _Language, *, initial: bool) -> str | None:
    """The phrase, if it names someone."""
    if not taken:
        return None
    words = [t for t in taken if t.word or t.quoted]
    if len(words) > MAX_SOURCE_WORDS + (MAX_QUOTED_WORDS if any(t.quoted for t in words) else 0):
        return None
    phrase = text[taken[0].start : taken[-1].end]
    phrase = _POSSESSIVE.sub("", phrase)
    if rules.agents.match(phrase):
        return phrase
    capitalised = [
        t
        for i, t in enumerate(words)
        if t.capitalised
        and not _COMPOUND_ADJECTIVE.match(t.text)
        and t.text.lower() not in rules.function
        and t.text.lower() not in _MONTHS_AND_DAYS
        and not (i == 0 and initial and t.text.lower() in rules.glue)
    ]
    # A vague word ("Media", "State") names someone only beside another name ("Media Defence").
    names = [t for t in capitalised if t.text.lower() not in rules.vague or len(capitalised) > 1]
    if initial and len(words) == 1 and rules.plural.match(words[0].text):
        return None  # "Editors say", "Эксперты считают": a common noun opening the sentence
    if any(t.quoted for t in words) or names:
        return phrase
    return None
