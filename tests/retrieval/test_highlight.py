"""Sentence terms: what the coverage of a question is computed from."""

from __future__ import annotations

from retrieval.highlight import sentence_terms
from tests.documents import sentences_passage


def test_sentence_terms_share_one_string_per_word() -> None:
    # Built from different texts, so only interning can make them one object.
    first = sentence_terms(sentences_passage(1, ["Political prisoners remain in " + "Belarus."]))
    second = sentence_terms(sentences_passage(2, ["Many political prisoners were " + "freed."]))
    (a,), (b,) = first, second
    assert "prisoners" in a.words and "1" not in a.words
    word_a = next(w for w in a.words if w == "prisoners")
    word_b = next(w for w in b.words if w == "prisoners")
    assert word_a is word_b
    stem = next(iter(a.stems & b.stems - {"polit"}))
    assert next(s for s in a.stems if s == stem) is next(s for s in b.stems if s == stem)


def test_numbers_are_stems_but_not_words() -> None:
    (terms,) = sentence_terms(
        sentences_passage(1, ["The centre counted 1,080 political prisoners."])
    )
    assert not any(w[0].isdigit() for w in terms.words)
    assert any(s[0].isdigit() for s in terms.stems)
