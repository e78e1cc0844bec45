"""Countries a question names, by their names in the corpus's languages (CLDR, through Babel).

A question about a country the answering document never names ("How many political prisoners
are there in Venezuela?" over reports on Belarus) reads like an answerable one to every
measure of meaning we have: the same words, the same kind of figure. Whether the document
names the country at all is a fact, not a similarity, and the calibration reads it
(``policy.CALIBRATION_FEATURES``, "elsewhere").

Names are matched as the lexical index stores words (stemmed per language,
``retrieval.lexical.tokenize``), so "в Никарагуа", "у Венесуэле" and "Lithuania's" find their
country. A document names a country when its title or one of its passages has every word of
one of the country's names in any of these languages (``document_match``): a document that
names it only in passing, or only as an adjective, still names it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from babel import Locale

from retrieval.lexical import Term, terms

#: The languages whose country names are known: the corpus's, and Ukrainian (which the
#: language detection tells apart and the stemmer table reads).
LANGUAGES = ("en", "ru", "be", "uk")
#: A one-word name needs this many letters in its stemmed form: shorter stems are other words
#: too (Russian "Мали" stems to "мал", as "мало" does; Belarusian "Расія" to "рас").
MIN_STEM = 4
_WORD = re.compile(r"[^\W\d_]+")


@cache
def gazetteer() -> dict[tuple[str, ...], str]:
    """Each country name, as the stems of its words in its language, to its ISO code."""
    return _tables()[0]


@cache
def short_names() -> dict[str, tuple[str, str]]:
    """One-word names whose stem is too short to tell (Snowball stems Russian "Иран" to "ира",
    Belarusian "Расія" to "рас"), by the word itself: its ISO code and its stem."""
    return _tables()[1]


@cache
def _tables() -> tuple[dict[tuple[str, ...], str], dict[str, tuple[str, str]]]:
    names: dict[tuple[str, ...], str] = {}
    short: dict[str, tuple[str, str]] = {}
    for language in LANGUAGES:
        territories = Locale.parse(language).territories
        for code, name in territories.items():
            # Two letters are countries and territories; numbers are regions ("150" Europe).
            if len(code) != 2 or not code.isalpha():
                continue
            found = terms(name, language)
            stems = tuple(t.stem for t in found)
            # "о-в Рождества" (Christmas Island) less its abbreviation is "Christmas".
            if not stems or (len(stems) == 1 and len(_WORD.findall(name)) > 1):
                continue
            if len(stems) == 1 and len(stems[0]) < MIN_STEM:
                if len(found[0].word) >= MIN_STEM:
                    short.setdefault(found[0].word, (code, stems[0]))
                continue
            names.setdefault(stems, code)
    return names, short


#: A question's word names a country also when it is the name's stem and up to this many more
#: letters, for stems of at least ``MIN_EXTENDED`` letters: Snowball stems "Беларусь" to
#: "белар" and "Беларусі" to "беларус"; "malicious" must not name Mali.
EXTRA_LETTERS = 2
MIN_EXTENDED = 5


def _same_word(token: str, stem: str) -> bool:
    return token == stem or (
        len(stem) >= MIN_EXTENDED
        and token.startswith(stem)
        and len(token) - len(stem) <= EXTRA_LETTERS
    )


@cache
def _by_first_word() -> dict[str, tuple[tuple[tuple[str, ...], str], ...]]:
    """Gazetteer names by their first stem."""
    out: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for stems, code in gazetteer().items():
        out.setdefault(stems[0], []).append((stems, code))
    return {first: tuple(names) for first, names in out.items()}


def _same_name_word(word: str, name: str) -> bool:
    """Whether a question's word is an inflected form of a short name's word: "Ирана" and
    "Иране" of "Иран" (one or two letters more), "Расіі" of "Расія" (its last letter changed);
    not "Мали" for "малі" (small) or "Перу" for "перу", the word itself being another word too."""
    if len(name) > MIN_STEM:
        return word.startswith(name[:-1]) and -1 <= len(word) - len(name) <= EXTRA_LETTERS
    return word.startswith(name) and 1 <= len(word) - len(name) <= EXTRA_LETTERS


def countries(question: Sequence[Term]) -> frozenset[str]:
    """The countries a question's words name (every word of a name, in order; or the word of
    a short name, ``short_names``)."""
    tokens = [t.stem for t in question]
    found: set[str] = set()
    index = _by_first_word()
    for start, token in enumerate(tokens):
        # The stems this token may be: itself, or itself less up to EXTRA_LETTERS letters.
        for cut in range(EXTRA_LETTERS + 1):
            first = token[: len(token) - cut] if cut else token
            for stems, code in index.get(first, ()):
                words = tokens[start : start + len(stems)]
                if len(words) == len(stems) and all(
                    _same_word(w, s) for w, s in zip(words, stems, strict=True)
                ):
                    found.add(code)
    short = short_names()
    for term in question:
        found.update(code for name, (code, _) in short.items() if _same_name_word(term.word, name))
    return frozenset(found)


def document_match(stem: str) -> tuple[str, bool]:
    """Which of a document's words name a country's ``stem``: those that start with the stem
    less its last two letters, since a document names a country in every case and as an
    adjective ("German" for "Germany", stemmed "german" and "germani"; "Египта" for "Египет";
    "Mongols" for "Mongolia"), or for a stem shorter than ``MIN_STEM`` letters (a short name's:
    "рас" for "Расія") that word exactly, as "рас" begins hundreds of words ("расследование").
    Lenient on purpose: a country taken as named costs only a refusal that is not made, one
    taken as unnamed may refuse an answerable question. Returns ``(prefix, exact)``."""
    if len(stem) < MIN_STEM:
        return stem, True
    return stem[: max(MIN_STEM, len(stem) - EXTRA_LETTERS)], False


def _names(token: str, start: str, exact: bool) -> bool:
    return token == start if exact else token.startswith(start)


def named_in(tokens: Sequence[str], codes: frozenset[str]) -> bool:
    """Whether these stemmed tokens (a title) name one of these countries, as a document
    does (``document_match``)."""
    return any(
        all(any(_names(t, *document_match(stem)) for t in tokens) for stem in name)
        for code in codes
        for name in names_of(code)
    )


@cache
def names_of(code: str) -> tuple[tuple[str, ...], ...]:
    """Every known name of one country, as stems (a short name's too, which a document's word
    names only exactly: ``document_match``)."""
    return tuple(stems for stems, c in gazetteer().items() if c == code) + tuple(
        dict.fromkeys((stem,) for c, stem in short_names().values() if c == code)
    )
