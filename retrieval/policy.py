"""The ranking policy: every weight, bar and depth of the answer pipeline, defined once.

The pipeline is plan -> first stage -> rerank -> decide (``retrieval/stages.py``); each stage
reads its part of one ``Policy``. Benchmarks swap policies (``policy.model_copy(update=...)``)
instead of mutating a retriever. How each value was chosen is in the README ("How answers are
chosen"); the calibration is fitted by ``bench/calibrate.py`` and ships as
``retrieval/calibration.json``.
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
    shortlist: int = Field(default=20, ge=1, le=200)
    #: BM25 matches words, so it means nothing across languages; one multilingual dense space
    #: compares every language on one scale.
    weights: dict[str, ChannelWeight] = Field(
        default_factory=lambda: {
            DENSE: ChannelWeight(same_language=0.5, cross_language=1.0),
            LEXICAL: ChannelWeight(same_language=0.5, cross_language=0.0),
        }
    )


class Rerank(_Frozen):
    """Stage 2: the best sentence of each candidate, plus passage-level evidence."""

    #: Passage-level evidence added to the best sentence's score (min-max within the shortlist).
    dense: float = 0.25
    lexical: float = 0.25
    #: How the sentence features add up.
    cosine: float = 1.0
    coverage: float = 0.75
    answer_type: float = 0.2
    #: Word-piece similarity at or below which a word is no near-synonym at all ...
    soft_floor: float = 0.2
    #: ... and at or above which it counts as the word itself.
    soft_ceiling: float = 0.5


#: The features the calibrated confidence reads, in order (see ``stages.features``).
FEATURES = (
    "sentence_cosine",
    "passage_cosine",
    "coverage",
    "answer_type",
    "same_language",
)


class Calibration(_Frozen):
    """A logistic model: the probability that a passage answers the question."""

    intercept: float = 0.0
    weights: dict[str, float] = Field(default_factory=dict)
    #: Where the numbers come from (the command and the data it was fitted on).
    fitted_on: str = ""

    def probability(self, features: Mapping[str, float]) -> float:
        """``sigmoid(intercept + sum(weight * feature))``; unknown features count 0."""
        z = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


@cache
def shipped_calibration() -> Calibration:
    """The calibration fitted by ``bench/calibrate.py`` and shipped with the package."""
    text = resources.files("retrieval").joinpath("calibration.json").read_text(encoding="utf-8")
    return Calibration.model_validate(json.loads(text))


class Decide(_Frozen):
    """Stage 3: is the question answered, and which passages are shown."""

    #: Answered when one of this many best passages clears the bar, whatever k is asked for:
    #: the chat (9), inline (30) and command line (3) must agree.
    depth: int = Field(default=3, ge=1)
    #: The calibrated probability a passage needs for the question to count as answered.
    bar: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Once answered, the other passages are shown down to this probability.
    shown: float = Field(default=0.3, ge=0.0, le=1.0)
    calibration: Calibration = Field(default_factory=shipped_calibration)


class Policy(_Frozen):
    """Everything that decides what an answer is."""

    #: Longer questions are cut at a word boundary.
    max_question_chars: int = Field(default=1000, ge=10)
    #: Russian and Belarusian questions also search English passages with the glossary's
    #: English terms (``corpus/glossary.yaml``).
    glossary: bool = False
    first: FirstStage = Field(default_factory=FirstStage)
    rerank: Rerank = Field(default_factory=Rerank)
    decide: Decide = Field(default_factory=Decide)

    def with_bar(self, bar: float) -> Policy:
        """The same policy with another answer bar (the ``CITEBOT_MIN_CONFIDENCE`` setting)."""
        return self.model_copy(update={"decide": self.decide.model_copy(update={"bar": bar})})
