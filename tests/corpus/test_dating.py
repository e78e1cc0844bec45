"""When a stored passage's sentences are true (``corpus.dating``): dated once, read at ranking."""

from __future__ import annotations

from corpus.dating import as_of, date_passages
from corpus.models import Span
from corpus.periods import Period

# A Belarusian report: the count as of 1 November, last year's beside it, then the present again.
TEXT = (
    "На 1 лістапада 2026 года завочныя справы былі заведзеныя супраць 1146 беларусаў. "
    "Летась у гэты ж час у спісе было 858 чалавек. "
    "Ужо завочна асуджаныя 718 чалавек з тых, хто трапіў у спіс."
)


def _spans(text: str) -> list[Span]:
    spans, start = [], 0
    for end in (i + 1 for i, c in enumerate(text) if c == "."):
        spans.append(Span(start=start, end=end))
        start = end + 1
    return spans


def test_a_sentence_after_one_looking_back_is_true_at_the_passages_date() -> None:
    document, [dates] = date_passages(
        TEXT, [(0, _spans(TEXT))], language="be", published="2026-11-05"
    )
    sentences = [TEXT[s.start : s.end] for s in _spans(TEXT)]
    assert dates[0] is not None and dates[1] is not None and dates[2] is None

    def read(index: int) -> tuple[Period, int | None]:
        return as_of(
            dates, index, document, sentences=sentences, language="be", published="2026-11-05"
        )

    # "Already 718 convicted" is the present's figure, stated as of the first sentence's date.
    assert read(2) == (Period.from_iso(dates[0]), 0)
    assert read(1) == (Period.from_iso(dates[1]), 1)
    # Without the sentences, a stored passage reads as before: the nearest date before it.
    assert as_of(dates, 2, document) == (Period.from_iso(dates[1]), 1)


def test_a_passage_whose_only_date_looks_back_falls_back_to_the_document() -> None:
    text = "Летась у гэты ж час у спісе было 858 чалавек. Ужо асуджаныя 718 чалавек."
    spans = _spans(text)
    document, [dates] = date_passages(text, [(0, spans)], language="be", published="2026-11-05")
    sentences = [text[s.start : s.end] for s in spans]
    found = as_of(dates, 1, document, sentences=sentences, language="be", published="2026-11-05")
    assert found == (Period.from_iso(document), None)
