"""Score the sentences of a passage against a question: the best one is the highlight.

A sentence answers when it means what the question means (cosine of sentence vectors), uses the
question's words or near-synonyms of them (IDF-weighted coverage; near-synonyms judged by the
model's own word-piece embeddings, so "remain" partly matches "still" but not "released"), and
holds the kind of thing the question asks for (a count for "how many", a date for "when").
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from corpus.models import Passage, Span
from retrieval.lexical import Term, terms
from retrieval.question import AnswerType, Question

WordVectors = Callable[[Sequence[str]], np.ndarray | None]

_DIGITS = re.compile(r"\d[\d,.\u00a0\u202f ]*")
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)$")
# Counts written in words: numerals ("thirty", "тридцать", "трыццаць") say how many as a figure
# does; multiples ("hundreds", "тысячи") only roughly.
_NUMERALS = re.compile(
    r"(?<!\w)(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|"
    r"дв[ае]|двух|три|трёх|трех|четыр\w*|пят[иь]|шест[иь]|сем[иь]|восем[иь]|девят[иь]|"
    r"десят[иь]|одиннадцат\w*|двенадцат\w*|двадцат\w*|тридцат\w*|сорок\w*|пятьдесят\w*|"
    r"дзве|тры|трох|чатыр\w*|пяц[ьі]|шэсц[ьі]|сям[іі]|сем|восем|дзевяц\w*|дзесяц\w*|"
    r"дваццац\w*|трыццац\w*|сарак\w*|сорак|пяцьдзясят\w*)(?!\w)",
    re.IGNORECASE,
)
_MULTIPLES = re.compile(
    r"(?<!\w)(hundreds?|thousands?|dozens?|millions?|billions?|сотни|сотен|тысяч\w*|десятк\w*|"
    r"миллион\w*|сотні|соцень|тысяч|дзясятк\w*|мільён\w*)(?!\w)",
    re.IGNORECASE,
)
_MONTHS = re.compile(
    r"(?<!\w)(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йя]|июн\w*|июл\w*|август\w*|сентябр\w*|"
    r"октябр\w*|ноябр\w*|декабр\w*|студзен\w*|лют\w*|сакавік\w*|красавік\w*|травен\w*|"
    r"чэрвен\w*|ліпен\w*|жнів\w*|верас\w*|кастрычнік\w*|лістапад\w*|снеж\w*)(?!\w)",
    re.IGNORECASE,
)


def answer_evidence(sentence: str, kind: AnswerType) -> float:
    """1 when the sentence holds what the question asks for (a figure in digits, a date),
    0.75 for a count in words, 0.5 for a vague one ("hundreds"), else 0."""
    if kind is AnswerType.COUNT:
        numbers = [n.strip(" ,.\u00a0\u202f") for n in _DIGITS.findall(sentence)]
        if any(n and not _YEAR.match(n) for n in numbers):
            return 1.0
        # Written-out numerals are often durations ("two months of increases"): a figure in
        # digits says how many more surely.
        if _NUMERALS.search(sentence):
            return 0.75
        return 0.5 if _MULTIPLES.search(sentence) else 0.0
    if kind is AnswerType.DATE:
        numbers = [n.strip(" ,.\u00a0\u202f") for n in _DIGITS.findall(sentence)]
        if any(_YEAR.match(n) for n in numbers) or _MONTHS.search(sentence):
            return 1.0
        return 0.0
    return 0.0


class SentenceTerms(NamedTuple):
    """A sentence's indexed forms (for exact matches) and words (for near-synonyms)."""

    stems: frozenset[str]
    words: tuple[str, ...]


def sentence_terms(passage: Passage) -> list[SentenceTerms]:
    """The terms of each sentence of a passage (cache these: they depend on nothing else)."""
    return [terms_of(terms(text, passage.language)) for text in passage.sentence_texts()]


def terms_of(found: Sequence[Term]) -> SentenceTerms:
    """Some words' indexed forms and words (numbers are forms only).

    Stems and words are interned: the terms cache holds thousands of passages over one
    vocabulary, and one string per distinct word halves what it takes (6.9 -> 3.6 KB a passage
    measured on the synthetic 100,000-passage corpus of ``bench/latency.py``)."""
    return SentenceTerms(
        stems=frozenset(sys.intern(t.stem) for t in found),
        words=tuple(dict.fromkeys(sys.intern(t.word) for t in found if not t.word[0].isdigit())),
    )


class CoverageScorer:
    """How much of one question's wording each sentence of the candidates has."""

    def __init__(
        self,
        *,
        question: Question,
        idf: Callable[[str], float],
        word_vectors: WordVectors | None,
        soft_floor: float,
        soft_ceiling: float,
    ) -> None:
        self.question = question
        self._floor, self._ceiling = soft_floor, soft_ceiling
        self._word_vectors = word_vectors
        self._terms = list({t.stem: t for t in question.terms}.values())
        self._idf = np.array([max(idf(t.stem), 0.1) for t in self._terms], dtype=np.float32)
        # Numbers must match exactly; only words get near-synonym credit.
        self._soft = np.array([not t.word[0].isdigit() for t in self._terms], dtype=bool)

    def score(
        self, analysed: Sequence[Sequence[SentenceTerms]], near_synonyms: Sequence[bool]
    ) -> list[np.ndarray]:
        """Coverage of each sentence of each passage, computed together (one word lookup).

        ``near_synonyms`` says per passage whether word-piece near-synonyms may earn credit
        (only within the language the word vectors know).
        """
        flat = [s for group in analysed for s in group]
        soft = [
            allowed for group, allowed in zip(analysed, near_synonyms, strict=True) for _ in group
        ]
        coverage = self._coverage(flat, soft)
        out: list[np.ndarray] = []
        cursor = 0
        for group in analysed:
            out.append(coverage[cursor : cursor + len(group)])
            cursor += len(group)
        return out

    def _coverage(self, sentences: Sequence[SentenceTerms], soft: Sequence[bool]) -> np.ndarray:
        """IDF-weighted share of the question's terms each sentence has, or nearly has."""
        if not self._terms or not sentences:
            return np.zeros(len(sentences), dtype=np.float32)
        return (self.credits(sentences, soft) @ self._idf) / self._idf.sum()

    def columns(self, stems: Sequence[str]) -> list[int]:
        """The columns of ``credits`` for these question stems (those the question has)."""
        index = {t.stem: i for i, t in enumerate(self._terms)}
        return [index[s] for s in dict.fromkeys(stems) if s in index]

    def credits(self, sentences: Sequence[SentenceTerms], soft: Sequence[bool]) -> np.ndarray:
        """For each sentence, how far it has each of the question's terms (1: the word itself,
        between 0 and 1: a near-synonym), one row per sentence, one column per term."""
        if not self._terms or not sentences:
            return np.zeros((len(sentences), len(self._terms)), dtype=np.float32)
        credit = np.array(
            [[1.0 if t.stem in s.stems else 0.0 for t in self._terms] for s in sentences],
            dtype=np.float32,
        )
        soft_terms = [t.word for t, soft in zip(self._terms, self._soft, strict=True) if soft]
        if self._word_vectors is not None and soft_terms and any(soft):
            vocabulary = list(
                dict.fromkeys(
                    w for s, ok in zip(sentences, soft, strict=True) if ok for w in s.words
                )
            )
            if vocabulary:
                query = self._word_vectors(soft_terms)
                words = self._word_vectors(vocabulary)
                if query is not None and words is not None:
                    floor, ceiling = self._floor, self._ceiling
                    near = np.clip((query @ words.T - floor) / (ceiling - floor), 0.0, 1.0)
                    column = {w: i for i, w in enumerate(vocabulary)}
                    soft_rows = np.flatnonzero(self._soft)
                    for i, s in enumerate(sentences):
                        if s.words and soft[i]:
                            best = near[:, [column[w] for w in s.words]].max(axis=1)
                            credit[i, soft_rows] = np.maximum(credit[i, soft_rows], best)
        return credit


def highlight_span(passage: Passage, index: int) -> Span:
    """The span of sentence ``index`` inside the passage text."""
    if not passage.sentences:
        return Span(start=0, end=len(passage.text))
    return passage.sentences[min(index, len(passage.sentences) - 1)]
