"""The answer pipeline's stages: plan -> first stage -> rerank -> decide.

Each stage is a small pure function of typed inputs and the ``Policy``; none touches a model, an
index or the store (``Retriever.search`` does that I/O around them), so each is tested on
hand-made candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from corpus.dates import TimeIntent, TimeKind, question_time
from corpus.language import normalise_belarusian
from corpus.models import Passage
from retrieval.errors import QuestionRejected
from retrieval.fusion import minmax, top
from retrieval.highlight import answer_evidence
from retrieval.policy import DENSE, LEXICAL, LinearModel, Policy
from retrieval.question import Question, analyse

# -- plan ---------------------------------------------------------------------------------------


_NOW = TimeIntent(TimeKind.CURRENT)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the pipeline will look for: the cleaned question, analysed once."""

    question: Question
    #: What the question asks about time (``corpus.dates.question_time``).
    time: TimeIntent = _NOW
    #: The day the question is asked on: what "now" is (None: the real date).
    today: date | None = None

    @property
    def text(self) -> str:
        """The question as asked, whitespace collapsed and cut to the policy's length."""
        return self.question.text

    @property
    def language(self) -> str:
        """The question's language."""
        return self.question.language


def clean_question(text: str, *, limit: int) -> str:
    """Collapse whitespace, read a Latin i inside a Cyrillic word as the Belarusian і (typed on
    a Russian keyboard, "палiтвязні": the encoder reads it as another word), and cut an
    over-long question at a word boundary."""
    text = normalise_belarusian(" ".join(text.split()))
    if not text:
        raise QuestionRejected("the question is empty")
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit]
    return text


def plan(text: str, policy: Policy, *, today: date | None = None) -> Plan:
    """Clean and analyse a question: its language, content words, the kind of answer wanted,
    and what it asks about time (relative to ``today``, the real date unless given)."""
    question = analyse(clean_question(text, limit=policy.max_question_chars))
    time = question_time(question.text, language=question.language, today=today or date.today())
    return Plan(question=question, time=time, today=today)


# -- first stage --------------------------------------------------------------------------------


def first_stage(
    plan: Plan,
    found: Mapping[str, Mapping[int, float]],
    language_of: Callable[[int], str],
    policy: Policy,
) -> list[int]:
    """Fuse each channel's nearest passages into the shortlist stage 2 rescores.

    ``found[channel]`` maps passage ids to that channel's raw scores. Scores are min-max
    normalised per channel, then weighted by whether the passage is in the question's language.
    """
    weights = policy.first.weights
    normalised = {name: minmax(scores) for name, scores in found.items()}
    fused: dict[int, float] = {}
    for pid in set().union(*found.values()) if found else ():
        same = language_of(pid) == plan.language
        fused[pid] = sum(
            weights[name].of(same) * scores.get(pid, 0.0)
            for name, scores in normalised.items()
            if name in weights
        )
    return top(fused, policy.first.shortlist)


#: Answer evidence (``highlight.answer_evidence``) at which a sentence states what is asked.
_STATES_IT = 0.75


# -- rerank -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A shortlisted passage with everything stage 2 reads."""

    passage: Passage
    #: Raw score of each channel (dense cosine, BM25), for every shortlisted passage.
    channels: Mapping[str, float]
    #: Cosine of the question with each sentence.
    sentence_cosines: np.ndarray
    #: IDF-weighted share of the question's words each sentence has (``CoverageScorer``).
    coverage: np.ndarray


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate after stage 2: its score, answering sentence and confidence features."""

    passage: Passage
    score: float
    #: Index of the answering sentence within the passage.
    best: int
    #: What the model read (``policy.FEATURES``); ``score`` is its logit.
    features: Mapping[str, float]


def rerank(
    plan: Plan,
    candidates: Sequence[Candidate],
    policy: Policy,
    *,
    unknown: float = 0.0,
    unknown_any: bool = False,
) -> list[Ranked]:
    """Choose each candidate's answering sentence, compute its features, rank by the model.

    ``unknown`` is the share of the question's words the corpus never uses (in any language or
    script); ``unknown_any`` whether one of them is a longer word (a name, a place, a term).
    """
    if not candidates:
        return []
    weights = policy.rerank.sentences
    model = policy.rerank.model
    lexical = minmax({c.passage.id: c.channels.get(LEXICAL, 0.0) for c in candidates})
    chosen: list[tuple[Candidate, int, np.ndarray, np.ndarray, np.ndarray]] = []
    for candidate in candidates:
        texts = candidate.passage.sentence_texts()
        n = len(texts)
        cosine = _fit(candidate.sentence_cosines, n)
        coverage = _fit(candidate.coverage, n)
        kind = np.array(
            [answer_evidence(t, plan.question.answer_type) for t in texts], dtype=np.float32
        )
        total = weights.cosine * cosine + weights.coverage * coverage + weights.answer_type * kind
        if kind.max() >= _STATES_IT:
            # A how-many (when) question is answered by a sentence that states a count (a
            # date): when the passage has one, the answering sentence is among those that state
            # one, in digits or in words ("к пяти годам колонии" answers "сколько дали"; the
            # answer_type weight still prefers digits, which say how many more surely).
            total = np.where(kind >= _STATES_IT, total, -np.inf)
        chosen.append((candidate, int(np.argmax(total)), cosine, coverage, kind))
    top_dense = max(c.channels.get(DENSE, 0.0) for c in candidates)
    top_sentence = max(float(cos[best]) for _, best, cos, _, _ in chosen)
    ranked: list[Ranked] = []
    for candidate, best, cosine, coverage, kind in chosen:
        passage = candidate.passage
        cross = passage.language != plan.language
        dense = candidate.channels.get(DENSE, 0.0)
        features = {
            "dense": dense,
            "dense_gap": dense - top_dense,
            "sentence": float(cosine[best]),
            "sentence_gap": float(cosine[best]) - top_sentence,
            "lexical": 0.0 if cross else lexical[passage.id],
            "coverage": float(coverage[best]),
            # Filled in for the answering sentence by ``translated`` (it costs word vectors).
            "cross_coverage": 0.0,
            "answer_type": float(kind[best]),
            "cross_language": 1.0 if cross else 0.0,
            "cross_dense": dense if cross else 0.0,
            "unknown": unknown,
            "unknown_any": 1.0 if unknown_any else 0.0,
            # Filled in by ``placed`` (it reads the store).
            "elsewhere": 0.0,
        }
        ranked.append(
            Ranked(passage=passage, score=model.logit(features), best=best, features=features)
        )
    ranked.sort(key=lambda row: (-row.score, row.passage.id))
    return ranked


def translated(
    ranked: Sequence[Ranked], coverage: Mapping[int, float], model: LinearModel | None = None
) -> list[Ranked]:
    """``ranked`` with ``cross_coverage`` set for the passages in another language than the
    question's: ``coverage`` holds, by passage id, the share of the question's words their
    answering sentence has with translations credited. Computed once the ranking has chosen
    each passage's answering sentence; when ``model`` gives it a weight, the logits gain it
    and the shortlist is re-sorted (stable), else the order does not change."""
    return _with_feature(ranked, "cross_coverage", coverage, model)


def placed(ranked: Sequence[Ranked], elsewhere: Mapping[int, float]) -> list[Ranked]:
    """``ranked`` with ``elsewhere`` set, by passage id: 1 when the question names a country
    the passage's document never names (``retrieval/places.py``). For the decision only: the
    order does not change."""
    return _with_feature(ranked, "elsewhere", elsewhere, None)


def _with_feature(
    ranked: Sequence[Ranked], name: str, values: Mapping[int, float], model: LinearModel | None
) -> list[Ranked]:
    """``ranked`` with feature ``name`` set from ``values`` (by passage id); re-sorted when
    ``model`` weighs it."""
    weight = model.weights.get(name, 0.0) if model is not None else 0.0
    out = [
        replace(
            row,
            features={**row.features, name: values[row.passage.id]},
            score=row.score + weight * values[row.passage.id],
        )
        if row.passage.id in values
        else row
        for row in ranked
    ]
    if weight:
        out.sort(key=lambda row: row.score, reverse=True)
    return out


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` as ``n`` float32s (zeros when a passage's vectors are missing)."""
    if len(values) != n:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(values, dtype=np.float32)


# -- decide -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chosen:
    """A passage that will be shown, with its calibrated confidence."""

    ranked: Ranked
    confidence: float


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the question is answered, and the passages to show (best first)."""

    answered: bool
    chosen: tuple[Chosen, ...] = ()


def decide(ranked: Sequence[Ranked], policy: Policy, *, k: int) -> Decision:
    """Answered when one of the ``policy.decide.depth`` best passages clears the bar.

    Whether the question is answered never depends on ``k``; once it is, the best ``k`` are
    shown in ranking order, leaving out those below ``shown`` times the bar.
    """
    d = policy.decide
    confidences = [d.calibration.probability(row.score, row.features) for row in ranked]
    answered = any(c >= d.bar for c in confidences[: d.depth])
    if not answered:
        return Decision(answered=False)
    chosen = tuple(
        Chosen(ranked=row, confidence=c)
        for row, c in zip(ranked[:k], confidences[:k], strict=False)
        if c >= d.shown * d.bar
    )
    return Decision(answered=bool(chosen), chosen=chosen)
