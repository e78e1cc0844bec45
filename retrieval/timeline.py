"""Stage 4, time: among passages that answer, the one true at the time asked about leads.

A current-state question ("how many remain?") gets the newest figure first; a point-in-time
question ("in August 2025") the figure whose as-of date is nearest that time; a series ("how has
it changed?") the figures in date order. The older figures go under "Earlier", and two sources
giving different figures for the same month both show under "Sources differ".

Time never promotes a passage that does not answer: only passages the model already finds
answering (calibrated probability at the bar) and ranks near the best (within
``policy.time.margin`` of its logit) take part, and for a how-many question only those that
state a figure. Pure: the Retriever hands in each passage's date and figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from corpus.dates import TimeIntent, TimeKind
from corpus.periods import Period
from retrieval.policy import Policy
from retrieval.stages import Chosen


@dataclass(frozen=True, slots=True)
class Dated:
    """A passage to show, with when its answering sentence is true and the figure it states."""

    chosen: Chosen
    source: str
    as_of: Period
    #: The index of the sentence of the passage that states the date; None: the document's.
    stated: int | None
    #: The figure of the answering sentence as digits ("1080"), for comparing sources.
    figure: str | None
    #: Cosine of the answering sentence with the best passage's answering sentence: whether
    #: the two state the same thing (in any two languages: one multilingual space) ...
    kin: float = 1.0
    #: ... and whether the two are in different languages.
    kin_across: bool = False


@dataclass(frozen=True, slots=True)
class Timeline:
    """The passages to show (the lead first), the older figures, and the disagreeing ones."""

    shown: tuple[Dated, ...]
    earlier: tuple[Dated, ...] = ()
    differs: tuple[Dated, ...] = ()


def _month(period: Period) -> tuple[int, int]:
    return (period.end.year, period.end.month)


def arrange(
    intent: TimeIntent, *, counts: bool, dated: Sequence[Dated], policy: Policy, k: int
) -> Timeline:
    """Order ``dated`` (best first by the model) for ``intent``; ``counts``: a how-many question.

    The question's time is used for a point or a series, and for the current state of a count;
    any other question keeps the model's order.
    """
    if not dated:
        return Timeline(shown=())
    uses_time = intent.kind is not TimeKind.CURRENT or counts
    if not uses_time:
        return Timeline(shown=tuple(dated[:k]))
    eligible = _eligible(dated, counts=counts, policy=policy)
    if not eligible:
        return Timeline(shown=tuple(dated[:k]))
    if intent.kind is TimeKind.SERIES:
        return _series(intent, eligible, dated, k)
    if intent.kind is TimeKind.POINT and intent.period is not None:
        asked = intent.period
        lead = min(eligible, key=lambda d: (asked.distance_days(d.as_of), -d.chosen.ranked.score))
    else:
        lead = max(eligible, key=lambda d: (d.as_of.end, d.as_of.start, d.chosen.ranked.score))
    differs = tuple(
        d
        for d in eligible
        if d is not lead
        and _month(d.as_of) == _month(lead.as_of)
        and d.source != lead.source
        and d.figure is not None
        and lead.figure is not None
        and d.figure != lead.figure
    )
    seen = {(lead.source, _month(lead.as_of))} | {(d.source, _month(d.as_of)) for d in differs}
    earlier: list[Dated] = []
    for d in sorted(
        (d for d in eligible if d.as_of.end < lead.as_of.start and d.figure != lead.figure),
        key=lambda d: (d.as_of.end, d.chosen.ranked.score),
        reverse=True,
    ):
        key = (d.source, _month(d.as_of))
        if key in seen or len(earlier) >= policy.time.earlier:
            continue
        seen.add(key)
        earlier.append(d)
    apart = {id(lead), *(id(d) for d in differs)}
    rest = tuple(d for d in dated if id(d) not in apart)
    return Timeline(shown=(lead, *rest)[:k], earlier=tuple(earlier), differs=differs)


def _eligible(dated: Sequence[Dated], *, counts: bool, policy: Policy) -> list[Dated]:
    """The passages that answer the question about the same thing as the best one: their
    answering sentence says what the best one's says (``kinship``, in any language), they rank
    within ``margin`` of the best passage of their own language (BM25 and word coverage lift
    passages in the question's language, so logits compare within a language), and answer with
    ``min_confidence``; for a how-many question they state a figure."""
    t = policy.time
    floor = policy.decide.bar if t.min_confidence is None else t.min_confidence
    best: dict[str, float] = {}
    for d in dated:
        group = d.chosen.ranked.passage.language if t.per_language else ""
        best[group] = max(best.get(group, d.chosen.ranked.score), d.chosen.ranked.score)
    return [
        d
        for d in dated
        if d.chosen.confidence >= floor
        and d.chosen.ranked.score
        >= best[d.chosen.ranked.passage.language if t.per_language else ""] - t.margin
        and d.kin >= (t.kinship_across if d.kin_across else t.kinship)
        and (d.figure is not None or not counts)
    ]


def _series(intent: TimeIntent, eligible: list[Dated], dated: Sequence[Dated], k: int) -> Timeline:
    """The figures of the span asked about, oldest first (all of them if none is inside it)."""
    span = intent.period
    inside = [d for d in eligible if span is None or span.distance_days(d.as_of) == 0]
    series = sorted(inside or eligible, key=lambda d: (d.as_of.end, -d.chosen.ranked.score))
    # One figure per month and source: a report and its summary say the same thing.
    kept: list[Dated] = []
    seen: set[tuple[str, tuple[int, int]]] = set()
    for d in series:
        key = (d.source, _month(d.as_of))
        if key not in seen:
            seen.add(key)
            kept.append(d)
    taken = {id(d) for d in kept}
    rest = tuple(d for d in dated if id(d) not in taken)
    return Timeline(shown=(*kept, *rest)[:k])
