"""Sentence terms: what the coverage of a question is computed from."""

from __future__ import annotations

from corpus.models import Passage, Span
from retrieval.highlight import sentence_terms


def _passage(pid: int, text: str) -> Passage:
    return Passage(
        id=pid,
        source_id=f"s{pid}",
        ordinal=0,
        text=text,
        char_start=0,
        char_end=len(text),
        sentences=(Span(start=0, end=len(text)),),
    )


def test_sentence_terms_share_one_string_per_word() -> None:
    # Built from different texts, so only interning can make them one object.
    first = sentence_terms(_passage(1, "Political prisoners remain in " + "Belarus."))
    second = sentence_terms(_passage(2, "Many political prisoners were " + "freed."))
    (a,), (b,) = first, second
    assert "prisoners" in a.words and "1" not in a.words
    word_a = next(w for w in a.words if w == "prisoners")
    word_b = next(w for w in b.words if w == "prisoners")
    assert word_a is word_b
    stem = next(iter(a.stems & b.stems - {"polit"}))
    assert next(s for s in a.stems if s == stem) is next(s for s in b.stems if s == stem)


def test_numbers_are_stems_but_not_words() -> None:
    (terms,) = sentence_terms(_passage(1, "The centre counted 1,080 political prisoners."))
    assert not any(w[0].isdigit() for w in terms.words)
    assert any(s[0].isdigit() for s in terms.stems)
