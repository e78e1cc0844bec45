"""Stage 4, time: among passages that answer, the one true at the time asked about leads.

A current-state question ("how many remain?") gets the newest figure first; a point-in-time
question ("in August 2025") the figure whose as-of date is nearest that time; a series ("how has
it changed?") the figures in date order. The older figures go under "Earlier", and two sources
giving different figures for the same month both show under "Sources differ".

Time never promotes a passage that does not answer: only passages the model already finds
answering (calibrated probability at the bar) and ranks near the best (within
``policy.time.margin`` of its logit) take part, and of those only the group that states the
quantity the answers agree on (``_agreeing``: by meaning in the one multilingual space and, for
a how-many question, by the size of the figure). Pure: the Retriever hands in each passage's
dates, figures and sentence vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpus.dates import TimeIntent, TimeKind
from corpus.dating import digits
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
    #: The figure of the answering sentence as written ("1 080"), to show (None: it states none).
    written: str | None
    #: The answering sentence's unit vector in the one multilingual space: two sentences whose
    #: cosine is high state the same thing, in any two languages (None: no vector).
    vector: np.ndarray | None = None
    #: The passage's other sentences that state a figure, each as the passage would be with
    #: that sentence answering: a passage may state the figure asked about in another sentence
    #: than the one that reads most like the question (a comparison with another country, say).
    others: tuple[Dated, ...] = ()
    #: How far the words after the figure ("139 women") are what the question counts ("how
    #: many women"), 0 to 1: a figure of what was asked about, not of something beside it
    #: (None: not known, e.g. in another language than the question's).
    named: float | None = None

    @property
    def language(self) -> str:
        return self.chosen.ranked.passage.language

    @property
    def figure(self) -> str | None:
        """The figure as digits ("1080"), for comparing sources ("1 080" and "1,080" agree)."""
        return digits(self.written) if self.written else None


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
    pool = _pool(dated, policy=policy)
    cosine = _Cosines(pool)
    asked = intent.period if intent.kind is TimeKind.POINT else None
    eligible = _agreeing(pool, counts=counts, policy=policy, cosine=cosine, asked=asked)
    if counts and any(d.figure is None for d in eligible):
        eligible = []
    if not eligible:
        return Timeline(shown=tuple(dated[:k]))
    # A passage takes part with the sentence that states the figure asked about.
    swap = {_pid(d): d for d in eligible}
    dated = [swap.get(_pid(d), d) for d in dated]
    if intent.kind is TimeKind.SERIES:
        return _series(intent, eligible, dated, k)
    if asked is not None:
        # Of the figures inside a part asked about ("at the start of 2026": January and
        # February), the one nearest the day it points at (1 January), then the best ranked.
        point = asked
        day = Period.day(point.anchor) if point.anchor is not None else None
        lead = min(
            eligible,
            key=lambda d: (
                point.distance_days(d.as_of),
                day.distance_days(d.as_of) if day is not None else 0,
                -d.chosen.ranked.score,
            ),
        )
    else:
        lead = max(eligible, key=lambda d: (d.as_of.end, d.as_of.start, d.chosen.ranked.score))
    if lead.figure is not None:
        # A later passage that restates the same figure (a report recalling "the 52 freed in
        # September") is not a newer figure: of the passages stating the lead's figure, the
        # one the model ranks best leads.
        lead = max(
            (d for d in eligible if d.figure == lead.figure), key=lambda d: d.chosen.ranked.score
        )
    # Another source's figure for the lead's month differs: of the same quantity as the lead's
    # (compared with the lead itself, not with the group, so that a source that words it its
    # own way, in its own language, still shows).
    differs = tuple(
        m
        for d in pool
        if _pid(d) != _pid(lead)
        and (m := _member(lead, d, counts=counts, policy=policy, cosine=cosine)) is not None
        and _month(m.as_of) == _month(lead.as_of)
        and m.source != lead.source
        and m.figure is not None
        and lead.figure is not None
        and m.figure != lead.figure
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
    apart = {_pid(lead), *(_pid(d) for d in differs)}
    rest = tuple(d for d in dated if _pid(d) not in apart)
    return Timeline(shown=(lead, *rest)[:k], earlier=tuple(earlier), differs=differs)


def _pid(d: Dated) -> int:
    return d.chosen.ranked.passage.id


def _value(figure: str | None) -> int | None:
    return int(figure) if figure and figure.isdigit() and len(figure) < 16 else None


class _Cosines:
    """The cosines of every pair of statements of a pool, from one matrix product (the time
    stage compares each passage's statements with every other's)."""

    def __init__(self, dated: Sequence[Dated]) -> None:
        rows: list[np.ndarray] = []
        self._row: dict[int, int] = {}
        for s in (s for d in dated for s in (d, *d.others)):
            if s.vector is not None:
                self._row[id(s)] = len(rows)
                rows.append(s.vector)
        vectors = np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        self._gram = vectors @ vectors.T

    def __call__(self, a: Dated, b: Dated) -> float | None:
        """The cosine of two statements of the pool; None if one has no vector."""
        i, j = self._row.get(id(a)), self._row.get(id(b))
        return None if i is None or j is None else float(self._gram[i, j])


def _same_quantity(
    a: Dated, b: Dated, *, counts: bool, policy: Policy, cosine: _Cosines, sized: bool = True
) -> bool:
    """Whether two answering sentences state the same thing: their cosine clears the kinship
    bar (a lower one across two languages) and, for a how-many question, both state a figure,
    of one size unless ``sized`` is False (a count measured again a month later moves by a few
    per cent, not twofold; over years it may, ``_chained``)."""
    t = policy.time
    if a is b:
        return True
    similar = cosine(a, b)
    if similar is not None:
        bar = t.kinship if a.language == b.language else t.kinship_across
        if similar < bar:
            return False
    if counts:
        x, y = _value(a.figure), _value(b.figure)
        if x is None or y is None or (sized and not _one_size(x, y, policy)):
            return False
    return True


def _one_size(x: int, y: int, policy: Policy, *, years: float = 0.0) -> bool:
    """Two figures within ``Time.magnitude`` of each other (and ``Time.drift`` per year of
    ``years`` between them)."""
    t = policy.time
    return max(x, y) <= t.magnitude * t.drift**years * max(min(x, y), 1)


def _chained(reference: Dated, kin: Sequence[Dated], *, policy: Policy) -> list[Dated]:
    """The statements of ``kin`` (the reference's kin in meaning, each with a figure) that
    continue the reference's series: walking away from the reference in time, each figure is
    within ``Time.magnitude`` of the last one taken (the nearest in time), so a count that
    grows or falls steadily (410 -> 1,146 cases in absentia over three years) is one quantity
    at both ends, while a figure of another size at any date (13 women beside 27 journalists,
    2,400 postcards beside 1,080 prisoners) is not."""
    start = _value(reference.figure)
    if start is None:
        return [m for m in kin if m is reference]
    taken = [reference]
    others = [m for m in kin if m is not reference and _value(m.figure) is not None]
    later = sorted(
        (m for m in others if m.as_of.start >= reference.as_of.start),
        key=lambda m: (m.as_of.start, m.as_of.end),
    )
    earlier = sorted(
        (m for m in others if m.as_of.start < reference.as_of.start),
        key=lambda m: (m.as_of.start, m.as_of.end),
        reverse=True,
    )
    for side in (later, earlier):
        last, when = start, reference.as_of.start
        for m in side:
            value = _value(m.figure)
            assert value is not None
            if _one_size(value, last, policy, years=abs((m.as_of.start - when).days) / 365.25):
                taken.append(m)
                last, when = value, m.as_of.start
    order = {id(m): i for i, m in enumerate(kin)}
    return sorted(taken, key=lambda m: order.get(id(m), -1))


def takes_part(chosen: Sequence[Chosen], *, policy: Policy) -> list[bool]:
    """Which passages time may reorder: they answer with ``min_confidence`` and rank within
    ``margin`` of the best passage of their own language (BM25 and word coverage lift passages
    in the question's language, so logits compare within a language). The Retriever reads the
    other sentences of only these (``Dated.others``)."""
    t = policy.time
    floor = policy.decide.bar if t.min_confidence is None else t.min_confidence

    def group(c: Chosen) -> str:
        return c.ranked.passage.language if t.per_language else ""

    best: dict[str, float] = {}
    for c in chosen:
        best[group(c)] = max(best.get(group(c), c.ranked.score), c.ranked.score)
    return [c.confidence >= floor and c.ranked.score >= best[group(c)] - t.margin for c in chosen]


def _pool(dated: Sequence[Dated], *, policy: Policy) -> list[Dated]:
    """The passages of ``dated`` that take part (``takes_part``)."""
    part = takes_part([d.chosen for d in dated], policy=policy)
    return [d for d, p in zip(dated, part, strict=True) if p]


def _member(
    reference: Dated,
    d: Dated,
    *,
    counts: bool,
    policy: Policy,
    cosine: _Cosines,
    sized: bool = True,
) -> Dated | None:
    """``d`` with its sentence that states what ``reference`` states (the nearest in meaning if
    several do), or None. For a how-many question only sentences that state a figure count;
    if ``reference`` states none we can read, those that state none either."""
    if counts and reference.figure is None:
        alike = d.figure is None and _same_quantity(
            reference, d, counts=False, policy=policy, cosine=cosine
        )
        return d if alike else None
    found = [
        s
        for s in (d, *d.others)
        if (s.figure is not None or not counts)
        and _same_quantity(reference, s, counts=counts, policy=policy, cosine=cosine, sized=sized)
    ]
    if len(found) < 2:
        return found[0] if found else None
    return max(found, key=lambda s: -2.0 if (c := cosine(reference, s)) is None else c)


def _agreeing(
    pool: Sequence[Dated],
    *,
    counts: bool,
    policy: Policy,
    cosine: _Cosines,
    asked: Period | None = None,
) -> list[Dated]:
    """The passages of ``pool`` that answer the question about the same thing, each with the
    sentence that states it.

    The thing asked about is the one the answering passages agree on, not whatever the single
    best passage states: each passage's answering sentence defines a group, the passages with a
    sentence that states the same quantity (``_member``), each weighing exp((logit - best
    logit) / ``consensus``), more when what its figure counts is named as asked
    (``Time.named``) and when its period is the one a point-in-time question asks about
    (``asked``, ``Time.span``); the heaviest wins. For a how-many question the answers that state
    no figure we can read ("четырнадцать") compete too, grouped by meaning: when they win, there
    are no figures to order, and the model's order stands.
    """
    if not pool:
        return []
    t = policy.time
    top = max(d.chosen.ranked.score for d in pool)
    # A statement whose naming is not known counts as the pool's average one.
    known = [s.named for d in pool for s in (d, *d.others) if s.named is not None]
    usual = sum(known) / len(known) if known else 0.0
    best_mass, chosen, chosen_reference = -1.0, list[Dated](), None
    for reference in pool:
        group = [
            m
            for d in pool
            if (m := _member(reference, d, counts=counts, policy=policy, cosine=cosine)) is not None
        ]
        mass = sum(
            math.exp(
                (m.chosen.ranked.score - top) / t.consensus
                + t.named * (usual if m.named is None else m.named)
                + (t.span if m.as_of == asked else 0.0)
            )
            for m in group
        )
        if mass > best_mass:
            best_mass, chosen, chosen_reference = mass, group, reference
    if not counts or chosen_reference is None or chosen_reference.figure is None:
        return chosen
    # The heaviest group is the quantity asked about; its series reaches further in time than
    # one size allows (a count that grew threefold in three years): the passages that continue
    # it join, though they do not weigh in choosing it (a long series would outweigh any other
    # quantity by its length alone).
    kin = [
        m
        for d in pool
        if (
            m := _member(
                chosen_reference, d, counts=True, policy=policy, cosine=cosine, sized=False
            )
        )
        is not None
    ]
    ids = {_pid(m) for m in chosen}
    return [
        *chosen,
        *(m for m in _chained(chosen_reference, kin, policy=policy) if _pid(m) not in ids),
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
