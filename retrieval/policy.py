"""The ranking policy: every weight, bar and depth of the answer pipeline, defined once.

The pipeline is plan -> first stage -> rerank -> decide (``retrieval/stages.py``); each stage
reads its part of one ``Policy``. Benchmarks swap policies (``policy.model_copy(update=...)``)
instead of mutating a retriever. How each value was chosen is in the README ("How answers are
chosen"); the ranking model and its bar are fitted by ``bench/fit.py`` and ship as
``retrieval/ranker.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

#: Channel names: the dense (embedding) search and BM25.
DENSE = "dense"
LEXICAL = "lexical"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChannelWeight(_Frozen):
    """How much a channel counts, for a passage in the question's language or in another."""

    same_language: float
    cross_language: float

    def of(self, same: bool) -> float:
        """The weight for a same-language (``same``) or cross-language pair."""
        return self.same_language if same else self.cross_language


class FirstStage(_Frozen):
    """Stage 1: each channel's nearest passages, fused into a shortlist."""

    #: Passages each channel returns before fusion.
    per_channel: int = Field(default=50, ge=5, le=1000)
    #: How many fused candidates stage 2 rescores sentence by sentence.
    shortlist: int = Field(default=30, ge=1, le=200)
    #: For a question about a point in time or a span: the passages dated in it (a sentence's
    #: as-of date within ``period_slack_days`` of it) join the shortlist, this many at most,
    #: the nearest to the question first (``retrieval/dated.py``) ...
    in_period: int = Field(default=10, ge=0, le=200)
    period_slack_days: int = Field(default=31, ge=0, le=366)
    #: ... and for a how-many question about now, the passages dated in the last this many
    #: days before the newest date the corpus states (the newest reports).
    recent_days: int = Field(default=31, ge=0, le=3660)
    #: The asking clause of a question that also sets a scene (``question.asking_clause``)
    #: weighs this much beside the whole question in the question's vector: the passages of
    #: the newest report, about the concert the question mentions in passing, no longer read
    #: as its answer. 0: the whole question only. Chosen by ``bench/realistic.py --vary
    #: first.focus=...`` (README, Plan).
    focus: float = Field(default=2.0, ge=0.0, le=10.0)
    #: BM25 matches words, so it means nothing across languages; one multilingual dense space
    #: compares every language on one scale.
    weights: dict[str, ChannelWeight] = Field(
        default_factory=lambda: {
            DENSE: ChannelWeight(same_language=0.5, cross_language=1.0),
            LEXICAL: ChannelWeight(same_language=0.5, cross_language=0.0),
        }
    )


class Sentences(_Frozen):
    """How a passage's answering sentence is chosen: meaning, wording and the kind of answer."""

    cosine: float = 1.0
    coverage: float = 0.75
    answer_type: float = 0.2
    #: Word-piece similarity at or below which a word is no near-synonym at all ...
    soft_floor: float = 0.2
    #: ... and at or above which it counts as the word itself.
    soft_ceiling: float = 0.5


#: The features stage 2 computes for every shortlisted passage (``stages.rerank``).
FEATURES = (
    # The passage's dense cosine with the question, and how far below the shortlist's best.
    "dense",
    "dense_gap",
    # The answering sentence's cosine, and how far below the shortlist's best sentence.
    "sentence",
    "sentence_gap",
    # BM25, min-max within the shortlist; 0 across languages (it matches words).
    "lexical",
    # The IDF-weighted share of the question's words the answering sentence has.
    "coverage",
    # In another language than the question's: the same share, translations credited by
    # word-piece vectors (near-synonyms within a language are credited in ``coverage``); read
    # by the decision only (``DECISION_ONLY``).
    "cross_coverage",
    # The answering sentence holds what the question asks for (a count, a date).
    "answer_type",
    # The passage is in another language than the question; and its cosine if so: one
    # multilingual space still scores pairs of one language a little higher.
    "cross_language",
    "cross_dense",
    # The share of the question's words that no passage of the corpus has, in any language or
    # script, and whether one of them is a longer word: a question about what (or whom) the
    # corpus never mentions is likely not answered by it.
    "unknown",
    "unknown_any",
    # The question names a country the passage's document never names, in any language
    # ("political prisoners in Venezuela" over reports on Belarus); read by the decision only.
    "elsewhere",
)


class LinearModel(_Frozen):
    """A logistic model over the features; its logit ranks the shortlist."""

    intercept: float = 0.0
    weights: dict[str, float] = Field(default_factory=dict)
    #: Where the numbers come from (the command and the data they were fitted on).
    fitted_on: str = ""

    def logit(self, features: Mapping[str, float]) -> float:
        """``intercept + sum(weight * feature)``; features the model lacks count 0."""
        return self.intercept + sum(w * features.get(n, 0.0) for n, w in self.weights.items())


#: Features that do not rank: computed for each passage's answering sentence once the ranking
#: has chosen it (``stages.translated``), read by the calibration. ``bench/fit.py`` gives them no
#: ranking weight.
DECISION_ONLY = frozenset({"cross_coverage", "elsewhere"})

#: What the calibration reads besides the ranking logit: the ranking compares passages of one
#: question, so what is the same for all of them (words the corpus never uses) and how good
#: the best one is in absolute terms only matter for "answered or not".
CALIBRATION_FEATURES = (
    "unknown",
    "unknown_any",
    "sentence",
    "coverage",
    "cross_coverage",
    "cross_language",
    "elsewhere",
)


class Calibration(_Frozen):
    """The probability that a passage among the best ``Decide.depth`` answers the question: a
    logistic model over its ranking logit and ``CALIBRATION_FEATURES``, fitted on such
    passages (``bench/fit.py``)."""

    intercept: float = 0.0
    #: ``"logit"`` and names from ``CALIBRATION_FEATURES``.
    weights: dict[str, float] = Field(default_factory=lambda: {"logit": 1.0})

    def probability(self, logit: float, features: Mapping[str, float]) -> float:
        """The calibrated probability for a passage with this logit and these features."""
        z = self.intercept + self.weights.get("logit", 0.0) * logit
        z += sum(w * features.get(n, 0.0) for n, w in self.weights.items() if n != "logit")
        return sigmoid(z)


def sigmoid(z: float) -> float:
    """``1 / (1 + e^-z)`` without overflow."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Fitted(_Frozen):
    """What ``bench/fit.py`` writes to ``retrieval/ranker.json``."""

    model: LinearModel
    calibration: Calibration
    bar: float = Field(ge=0.0, le=1.0)


@cache
def shipped() -> Fitted:
    """The ranker fitted by ``bench/fit.py`` and shipped with the package."""
    text = resources.files("retrieval").joinpath("ranker.json").read_text(encoding="utf-8")
    return Fitted.model_validate(json.loads(text))


class Rerank(_Frozen):
    """Stage 2: the answering sentence of each candidate, then the model over its features."""

    sentences: Sentences = Field(default_factory=Sentences)
    model: LinearModel = Field(default_factory=lambda: shipped().model)


class Decide(_Frozen):
    """Stage 3: is the question answered, and which passages are shown."""

    #: Answered when one of this many best passages clears the bar, whatever k is asked for:
    #: the chat (9), inline (30) and command line (3) must agree.
    depth: int = Field(default=3, ge=1)
    calibration: Calibration = Field(default_factory=lambda: shipped().calibration)
    #: The probability a passage needs for the question to count as answered.
    bar: float = Field(default_factory=lambda: shipped().bar, ge=0.0, le=1.0)
    #: Once answered, the other passages are shown down to this share of the bar.
    shown: float = Field(default=0.5, ge=0.0, le=1.0)


class Time(_Frozen):
    """Stage 4: the figure true at the time asked about leads (``retrieval/timeline.py``)."""

    #: How far below the best passage's logit a passage may rank and still take part: time
    #: reorders only passages the model finds about as good as the best ...
    margin: float = Field(default=5.0, ge=0.0)
    #: ... that answer with at least this probability (None: the answer bar) ...
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Two answering sentences state the same thing when their cosine is at least this, in
    #: one language ...
    kinship: float = Field(default=0.88, ge=-1.0, le=1.0)
    #: ... and this across two (the same statement in Russian and English scores lower than in
    #: one language, tests/data/dated). Chosen by ``bench/realistic.py --time-grid``.
    kinship_across: float = Field(default=0.8, ge=-1.0, le=1.0)
    #: ... with the margin counted from the best passage of the passage's own language.
    per_language: bool = True
    #: Two figures of one quantity differ by at most this factor (a how-many question) ...
    magnitude: float = Field(default=1.3, ge=1.0)
    #: ... and, continuing a series in time (``timeline._chained``), by this factor more per
    #: year between a figure and the last one taken: a count that grows steadily (cases in
    #: absentia, 744 in June 2025 and 987 in May 2026) is one series even where the reports
    #: between them are not among the passages compared. Chosen by ``bench/realistic.py
    #: --vary time.drift=1,1.25,1.5,2`` on the dev and train sets (README, Time).
    drift: float = Field(default=1.5, ge=1.0)
    #: How much the model's ranking counts in choosing the figure asked about: each passage
    #: weighs exp((logit - best logit) / consensus) in its group's mass.
    consensus: float = Field(default=1.0, gt=0.0)
    #: ... and what its figure counts: a member weighs exp(named * Dated.named) more when the
    #: words after its figure are the question's ("139 women" for "how many women?").
    named: float = Field(default=1.0, ge=0.0)
    #: ... and, for a point in time, exp(span) more when its own period is the one asked about
    #: ("over the whole of 2025, 318 were released" for "how many were freed in 2025?", where
    #: the monthly totals of 2025 only fall inside it).
    span: float = Field(default=1.0, ge=0.0)
    #: Older figures listed under "Earlier", at most.
    earlier: int = Field(default=4, ge=0)


class Policy(_Frozen):
    """Everything that decides what an answer is."""

    #: Longer questions are cut at a word boundary.
    max_question_chars: int = Field(default=1000, ge=10)
    first: FirstStage = Field(default_factory=FirstStage)
    rerank: Rerank = Field(default_factory=Rerank)
    decide: Decide = Field(default_factory=Decide)
    time: Time = Field(default_factory=Time)

    def with_bar(self, bar: float) -> Policy:
        """The same policy with another answer bar (the ``CITEBOT_MIN_CONFIDENCE`` setting)."""
        return self.model_copy(update={"decide": self.decide.model_copy(update={"bar": bar})})
