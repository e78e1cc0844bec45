"""Score the sentences of a passage against a question: the best one is the highlight.

A sentence answers when it means what the question means (cosine of sentence vectors), uses the
question's words or near-synonyms of them (IDF-weighted coverage; near-synonyms judged by the
model's own word-piece embeddings, so "remain" partly matches "still" but not "released"), and
holds the kind of thing the question asks for (a count for "how many", a date for "when").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from corpus.models import Passage, Span
from retrieval.lexical import terms
from retrieval.question import AnswerType, Question

WordVectors = Callable[[Sequence[str]], np.ndarray | None]

_DIGITS = re.compile(r"\d[\d,.\u00a0\u202f ]*")
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)$")
_NUMBER_WORDS = re.compile(
    r"(?<!\w)(hundreds?|thousands?|dozens?|millions?|billions?|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|сотни|сотен|тысяч\w*|десятк\w*|"
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


@dataclass(frozen=True, slots=True)
class SentenceWeights:
    """How the sentence features add up (chosen on XQuAD, see README)."""

    cosine: float = 1.0
    coverage: float = 0.75
    answer_type: float = 0.2
    #: Word-piece similarity at or below which a word is no near-synonym at all ...
    soft_floor: float = 0.2
    #: ... and at or above which it counts as the word itself.
    soft_ceiling: float = 0.5


@dataclass(frozen=True, slots=True)
class SentenceScores:
    """Per-sentence features and their weighted sum."""

    cosine: np.ndarray
    coverage: np.ndarray
    answer_type: np.ndarray
    total: np.ndarray

    @property
    def best(self) -> int:
        """Index of the answering sentence."""
        return int(np.argmax(self.total))

    def confidence(self, weights: SentenceWeights) -> float:
        """How well the best sentence matches, on an absolute scale (what the threshold uses)."""
        i = self.best
        return float(
            (weights.cosine * self.cosine[i] + weights.coverage * self.coverage[i])
            / (weights.cosine + weights.coverage)
        )


def answer_evidence(sentence: str, kind: AnswerType) -> float:
    """1 when the sentence holds what the question asks for, 0.5 for a vague form, else 0."""
    if kind is AnswerType.COUNT:
        numbers = [n.strip(" ,.\u00a0\u202f") for n in _DIGITS.findall(sentence)]
        if any(n and not _YEAR.match(n) for n in numbers):
            return 1.0
        return 0.5 if _NUMBER_WORDS.search(sentence) else 0.0
    if kind is AnswerType.DATE:
        numbers = [n.strip(" ,.\u00a0\u202f") for n in _DIGITS.findall(sentence)]
        if any(_YEAR.match(n) for n in numbers) or _MONTHS.search(sentence):
            return 1.0
        return 0.0
    return 0.0


class SentenceScorer:
    """Scores the sentences of candidate passages for one question."""

    def __init__(
        self,
        *,
        question: Question,
        query_vector: np.ndarray,
        idf: Callable[[str], float],
        word_vectors: WordVectors | None,
        weights: SentenceWeights,
    ) -> None:
        self.question = question
        self.query_vector = query_vector
        self.weights = weights
        self._word_vectors = word_vectors
        unique = {t.stem: t for t in question.terms}
        self._terms = list(unique.values())
        self._idf = np.array([max(idf(t.stem), 0.1) for t in self._terms], dtype=np.float32)
        self._query_words: np.ndarray | None = None
        words = [t.word for t in self._terms if not t.word[0].isdigit()]
        if word_vectors is not None and words:
            self._query_words = word_vectors(words)
        self._soft_rows = [i for i, t in enumerate(self._terms) if not t.word[0].isdigit()]

    def score(self, passage: Passage, sentence_vectors: np.ndarray) -> SentenceScores:
        """Features of each sentence of ``passage``."""
        texts = passage.sentence_texts()
        n = len(texts)
        if len(sentence_vectors) == n:
            cosine = sentence_vectors @ self.query_vector
        else:
            cosine = np.zeros(n, dtype=np.float32)
        coverage = np.array([self._coverage(t, passage.language) for t in texts], dtype=np.float32)
        kind = np.array(
            [answer_evidence(t, self.question.answer_type) for t in texts], dtype=np.float32
        )
        w = self.weights
        total = w.cosine * cosine + w.coverage * coverage + w.answer_type * kind
        return SentenceScores(cosine=cosine, coverage=coverage, answer_type=kind, total=total)

    def _coverage(self, sentence: str, language: str) -> float:
        if not self._terms:
            return 0.0
        found = terms(sentence, language)
        stems = {t.stem for t in found}
        credit = np.array([1.0 if t.stem in stems else 0.0 for t in self._terms], dtype=np.float32)
        missing = [i for i in self._soft_rows if credit[i] == 0.0]
        if missing and self._query_words is not None:
            words = [t.word for t in found if not t.word[0].isdigit()]
            vectors = self._word_vectors(words) if words and self._word_vectors else None
            if vectors is not None and len(vectors):
                floor, ceiling = self.weights.soft_floor, self.weights.soft_ceiling
                rows = [self._soft_rows.index(i) for i in missing]
                best = (self._query_words[rows] @ vectors.T).max(axis=1)
                credit[missing] = np.clip((best - floor) / (ceiling - floor), 0.0, 1.0)
        return float((credit * self._idf).sum() / self._idf.sum())


def highlight_span(passage: Passage, index: int) -> Span:
    """The span of sentence ``index`` inside the passage text."""
    if not passage.sentences:
        return Span(start=0, end=len(passage.text))
    return passage.sentences[min(index, len(passage.sentences) - 1)]
