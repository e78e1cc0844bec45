"""When each passage's statements are true: the dates stored with a document's passages.

A document counts to its own as-of date (``dates.document_as_of``: "As of 1 February 2026, ..."
in its lead, else its publication date); each sentence may state its own
(``dates.sentence_dates``). Both are computed once, when the document is stored, and kept as ISO
text (``Period.iso``) so that ranking reads them without parsing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from corpus.dates import (
    Figure,
    document_as_of,
    figure_dates,
    looks_back,
    passage_as_of,
    sentence_dates,
)
from corpus.models import Span
from corpus.periods import Period


def date_passages(
    text: str,
    passages: Sequence[tuple[int, Sequence[Span]]],
    *,
    language: str,
    published: str,
) -> tuple[str, list[tuple[str | None, ...]]]:
    """The document's own as-of date, and each passage's sentences' explicit dates.

    ``passages`` are each passage's start in ``text`` and its sentence spans (relative to it).
    """
    when = Period.from_iso(published)
    sentences = [
        [text[start + s.start : start + s.end].strip() for s in spans] for start, spans in passages
    ]
    current = document_as_of(
        [s for group in sentences for s in group], language=language, published=when
    )
    dated = [
        tuple(
            p.iso() if p is not None else None
            for p in sentence_dates(group, language=language, published=when, current=current)
        )
        for group in sentences
    ]
    return current.iso(), dated


def as_of(
    dates: Sequence[str | None],
    index: int,
    document: str,
    *,
    sentences: Sequence[str] = (),
    language: str = "",
    published: str | None = None,
) -> tuple[Period, int | None]:
    """The date sentence ``index`` of a passage is true at, and which sentence of the passage
    states it: its own date, else the nearest before it, else after it (``passage_as_of``);
    ``None`` when no sentence does and the date is the document's own.

    With the passage's ``sentences`` (its ``language``, its document's ``published`` date), a
    date stated looking back ("A year ago there were 858.", ``dates.looks_back``) stays its own
    sentence's."""
    periods = [Period.from_iso(d) if d else None for d in dates]
    fallback = Period.from_iso(document)
    if not periods:
        return fallback, None
    index = min(max(index, 0), len(periods) - 1)
    back = [
        p is not None
        and i != index
        and i < len(sentences)
        and _looks_back(sentences[i], language, published or document, document)
        for i, p in enumerate(periods)
    ]
    found = passage_as_of(periods, index, fallback, back)
    stated = [i for i, p in enumerate(periods) if p is not None and not back[i]]
    if periods[index] is not None:
        return found, index
    before = [i for i in stated if i < index]
    after = [i for i in stated if i > index]
    return found, before[-1] if before else after[0] if after else None


#: Sentences whose looking back is remembered (``_looks_back``): a passage is dated each time
#: it is ranked and shown.
LOOKS_BACK_CACHE = 4096


@lru_cache(maxsize=LOOKS_BACK_CACHE)
def _looks_back(sentence: str, language: str, published: str, current: str) -> bool:
    return looks_back(
        sentence,
        language=language,
        published=Period.from_iso(published),
        current=Period.from_iso(current),
    )


#: Figures of this many (sentence, language, date) remembered: a passage's answering sentence is
#: read once to rank it and once to show it, and popular passages come up again and again, while
#: parsing a sentence's figures and dates costs ~0.2 ms (bench/latency.py, cProfile).
FIGURE_CACHE = 4096


@lru_cache(maxsize=FIGURE_CACHE)
def figures_of(sentence: str, *, language: str, as_of: Period) -> tuple[Figure, ...]:
    """The figures a sentence states, those whose own date is ``as_of`` first ("1,080, down
    from 1,149 a year earlier": 1,080 first), each group in the sentence's order."""
    figures = figure_dates(sentence, language=language, published=as_of, current=as_of)
    same = [f for f in figures if f.period is not None and f.period.distance_days(as_of) == 0]
    return (*same, *(f for f in figures if f not in same))


def digits(figure: str) -> str:
    """A figure's digits, for comparing what two sources say ("1 080" and "1,080" agree)."""
    return "".join(c for c in figure if c.isdigit())
