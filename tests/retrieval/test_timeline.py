"""The time stage on hand-made passages: the figure true at the time asked leads, never one that
does not answer; older figures go under Earlier, disagreeing sources under Sources differ."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import numpy as np

from corpus.dates import TimeIntent, TimeKind
from corpus.models import Passage, Span
from corpus.periods import Period
from retrieval.policy import Calibration, Policy
from retrieval.stages import Chosen, Ranked
from retrieval.timeline import Dated, arrange

NOW = TimeIntent(TimeKind.CURRENT)


def policy(**time: float) -> Policy:
    base = Policy()
    return base.model_copy(
        update={
            "decide": base.decide.model_copy(update={"bar": 0.5, "calibration": Calibration()}),
            "time": base.time.model_copy(
                update={"margin": 3.0, "earlier": 4, "min_confidence": None, **time}
            ),
        }
    )


def dated(
    pid: int,
    *,
    score: float,
    when: Period,
    source: str | None = None,
    figure: str | None = "1000",
    confidence: float = 0.9,
    kin: float = 1.0,
    side: int = 1,
    language: str = "en",
    other: tuple[str, float] | None = None,
) -> Dated:
    """A one-sentence passage (two with ``other``: a second sentence's figure and kin).

    ``kin`` is the cosine of its answering sentence with a sentence at ``kin=1.0``: the
    sentence vectors are unit vectors in a plane at ``acos(kin)`` from the first axis, on
    ``side`` (1 or -1) of it.
    """
    sentences = 1 if other is None else 2
    text = " ".join(f"Sentence {i} of passage {pid}." for i in range(sentences))
    passage = Passage(
        id=pid,
        source_id=source or f"s{pid}",
        ordinal=0,
        text=text,
        char_start=0,
        char_end=len(text),
        language=language,
        sentences=tuple(Span(start=start, end=start + len(part)) for start, part in _parts(text)),
    )
    ranked = Ranked(passage=passage, score=score, best=0, features={})
    chosen = Chosen(ranked=ranked, confidence=confidence)
    others: tuple[Dated, ...] = ()
    if other is not None:
        second = Chosen(
            ranked=Ranked(passage=passage, score=score, best=1, features={}), confidence=confidence
        )
        others = (
            Dated(
                chosen=second,
                source=source or f"s{pid}",
                as_of=when,
                stated=0,
                written=other[0],
                vector=unit(other[1]),
            ),
        )
    return Dated(
        chosen=chosen,
        source=source or f"s{pid}",
        as_of=when,
        stated=0,
        written=figure,
        vector=unit(kin, side),
        others=others,
    )


def unit(kin: float, side: int = 1) -> np.ndarray:
    angle = side * math.acos(kin)
    return np.array([math.cos(angle), math.sin(angle)], dtype=np.float32)


def _parts(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for part in text.split(" Sentence "):
        part = part if start == 0 else "Sentence " + part
        out.append((start, part))
        start += len(part) + 1
    return out


def ids(rows: tuple[Dated, ...]) -> list[int]:
    return [d.chosen.ranked.passage.id for d in rows]


JAN, FEB, MAR = Period.month(2026, 1), Period.month(2026, 2), Period.month(2026, 3)


def test_the_current_state_leads_with_the_newest_figure_and_lists_the_older_ones() -> None:
    rows = [
        dated(1, score=5.0, when=JAN, figure="1139"),
        dated(2, score=4.5, when=MAR, figure="1080"),
        dated(3, score=4.0, when=FEB, figure="1110"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=3)
    assert ids(timeline.shown) == [2, 1, 3]
    assert ids(timeline.earlier) == [3, 1]  # newest first
    assert timeline.differs == ()


def test_time_never_promotes_a_passage_that_does_not_answer() -> None:
    rows = [
        dated(1, score=5.0, when=JAN),
        # Newer, but far below the best (beyond the margin) ...
        dated(2, score=1.0, when=MAR),
        # ... or not confident enough ...
        dated(3, score=4.9, when=MAR, confidence=0.2),
        # ... or stating no figure for a how-many question.
        dated(4, score=4.9, when=MAR, figure=None),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=4)
    assert ids(timeline.shown)[0] == 1
    assert timeline.earlier == ()


def test_a_newer_figure_of_something_else_is_not_promoted() -> None:
    # A newer passage states a figure, ranks close, but says something else (released people,
    # another country): its answering sentence is far from the best one's.
    rows = [
        dated(1, score=5.0, when=JAN, figure="1139"),
        dated(2, score=4.9, when=MAR, figure="52", kin=0.7),
        dated(3, score=4.0, when=FEB, figure="1110", kin=0.95),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(kinship=0.9), k=3)
    assert ids(timeline.shown)[0] == 3
    assert ids(timeline.earlier) == [1]


def test_the_same_statement_in_another_language_counts_with_its_own_bar() -> None:
    # Across languages the same statement scores lower: its own (lower) bar applies.
    rows = [
        dated(1, score=5.0, when=JAN, figure="1139"),
        dated(2, score=4.0, when=MAR, figure="1080", kin=0.82, language="ru"),
        dated(3, score=4.5, when=FEB, figure="1110", kin=0.82, side=-1),
    ]
    timeline = arrange(
        NOW, counts=True, dated=rows, policy=policy(kinship=0.85, kinship_across=0.8), k=3
    )
    assert ids(timeline.shown)[0] == 2
    # The same-language passage at 0.82 says something else.
    assert 3 not in ids(timeline.earlier)


def test_a_point_in_time_leads_with_the_nearest_period() -> None:
    rows = [
        dated(1, score=5.0, when=MAR, figure="1080"),
        dated(2, score=4.0, when=JAN, figure="1139"),
        dated(3, score=4.5, when=Period.day(date(2026, 2, 1)), figure="1110"),
    ]
    asked = TimeIntent(TimeKind.POINT, Period.month(2026, 2))
    timeline = arrange(asked, counts=True, dated=rows, policy=policy(), k=3)
    assert ids(timeline.shown)[0] == 3
    # Only figures older than the lead are "earlier".
    assert ids(timeline.earlier) == [2]


def test_a_part_of_a_year_leads_with_the_figure_nearest_the_day_it_points_at() -> None:
    # "At the start of 2026" is January and February: both figures are inside it, and the
    # one of 1 January leads although the model ranks 1 February's higher.
    rows = [
        dated(1, score=5.0, when=Period.day(date(2026, 2, 1)), figure="1139"),
        dated(2, score=4.0, when=Period.day(date(2026, 1, 1)), figure="1147"),
    ]
    start = TimeIntent(TimeKind.POINT, Period.months(2026, 1, 2))
    assert ids(arrange(start, counts=True, dated=rows, policy=policy(), k=2).shown)[0] == 2
    # "The end of 2025" (November and December) points at its last day.
    rows = [
        dated(1, score=5.0, when=Period.day(date(2025, 11, 1)), figure="1160"),
        dated(2, score=4.0, when=Period.day(date(2025, 12, 1)), figure="1149"),
    ]
    end = TimeIntent(TimeKind.POINT, Period.months(2025, 11, 12))
    assert ids(arrange(end, counts=True, dated=rows, policy=policy(), k=2).shown)[0] == 2
    # A whole month points at no day of its own: the model's order decides.
    whole = TimeIntent(TimeKind.POINT, Period.month(2026, 1))
    rows = [
        dated(1, score=5.0, when=Period.day(date(2026, 1, 20)), figure="1139"),
        dated(2, score=4.0, when=Period.day(date(2026, 1, 1)), figure="1147"),
    ]
    assert ids(arrange(whole, counts=True, dated=rows, policy=policy(), k=2).shown)[0] == 1


def test_two_sources_for_one_month_are_both_shown() -> None:
    rows = [
        dated(1, score=5.0, when=FEB, source="monitor", figure="1110"),
        dated(2, score=4.0, when=Period.day(date(2026, 2, 15)), source="golos", figure="1190"),
        dated(3, score=4.2, when=JAN, source="monitor", figure="1139"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=3)
    assert ids(timeline.shown)[0] in (1, 2)
    assert {ids(timeline.shown)[0], *ids(timeline.differs)} == {1, 2}
    assert ids(timeline.earlier) == [3]


def test_the_same_figure_from_two_sources_is_no_disagreement() -> None:
    rows = [
        dated(1, score=5.0, when=FEB, source="a", figure="1110"),
        dated(2, score=4.0, when=FEB, source="b", figure="1110"),
    ]
    assert arrange(NOW, counts=True, dated=rows, policy=policy(), k=2).differs == ()


def test_a_series_is_in_date_order() -> None:
    rows = [
        dated(1, score=5.0, when=MAR),
        dated(2, score=4.5, when=JAN),
        dated(3, score=4.0, when=FEB),
        dated(4, score=3.9, when=Period.month(2024, 6)),
    ]
    span = TimeIntent(TimeKind.SERIES, Period(date(2025, 12, 1), date(2026, 3, 31), "month"))
    timeline = arrange(span, counts=True, dated=rows, policy=policy(), k=4)
    # The span asked about, oldest first; what lies outside it comes after.
    assert ids(timeline.shown) == [2, 3, 1, 4]


def test_questions_without_time_or_figures_keep_the_models_order() -> None:
    rows = [dated(1, score=5.0, when=JAN), dated(2, score=4.9, when=MAR)]
    timeline = arrange(NOW, counts=False, dated=rows, policy=policy(), k=2)
    assert ids(timeline.shown) == [1, 2] and timeline.earlier == ()


def test_an_older_passage_with_the_same_figure_is_not_listed_as_earlier() -> None:
    rows = [
        dated(1, score=5.0, when=FEB, figure="1110"),
        dated(2, score=4.0, when=JAN, figure="1110"),
    ]
    assert arrange(NOW, counts=True, dated=rows, policy=policy(), k=2).earlier == ()


def test_a_later_passage_restating_the_figure_does_not_replace_the_best_one() -> None:
    # "52 freed in September" (best), recalled by a January report: the same figure, so no
    # newer one; the passage the model ranks best leads, for the current state and a point.
    rows = [
        dated(1, score=5.0, when=Period.month(2025, 9), figure="52"),
        dated(2, score=4.0, when=JAN, figure="52", source="monitor"),
        dated(3, score=3.5, when=Period.month(2025, 8), figure="1219", kin=0.5),
    ]
    assert ids(arrange(NOW, counts=True, dated=rows, policy=policy(), k=3).shown)[0] == 1
    point = TimeIntent(TimeKind.POINT, Period.month(2026, 1))
    assert ids(arrange(point, counts=True, dated=rows, policy=policy(), k=3).shown)[0] == 1
    # A newer, different figure of the same quantity still leads.
    rows.append(dated(4, score=3.8, when=FEB, figure="50"))
    assert ids(arrange(NOW, counts=True, dated=rows, policy=policy(), k=4).shown)[0] == 4


def test_k_bounds_what_is_shown_but_not_the_lead() -> None:
    rows = [
        dated(i, score=5.0 - i / 10, when=Period.month(2025, i), figure=str(1000 + i))
        for i in range(1, 8)
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(earlier=2), k=1)
    assert ids(timeline.shown) == [7]
    assert ids(timeline.earlier) == [6, 5]


def test_confidence_is_what_the_policy_bar_reads() -> None:
    # A probability exactly at the bar takes part.
    rows = [
        dated(1, score=5.0, when=JAN, figure="1010"),
        dated(2, score=4.0, when=MAR, confidence=0.5),
    ]
    assert ids(arrange(NOW, counts=True, dated=rows, policy=policy(), k=2).shown)[0] == 2
    assert math.isclose(policy().decide.bar, 0.5)


def test_the_figure_the_answering_passages_agree_on_leads_not_the_best_ones() -> None:
    # The best passage states something else (41 people interviewed for a report); three
    # nearly as good restate one count at three dates: that count is what is asked about.
    rows = [
        dated(1, score=5.0, when=MAR, figure="41", kin=0.8),
        dated(2, score=4.8, when=JAN, figure="1139"),
        dated(3, score=4.7, when=FEB, figure="1110"),
        dated(4, score=4.6, when=Period.month(2026, 2), source="s4", figure="1100"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=4)
    assert ids(timeline.shown)[0] in {3, 4}
    assert 1 not in ids(timeline.earlier)


def test_a_lone_best_passage_outweighs_a_far_weaker_crowd() -> None:
    # Each passage weighs exp((logit - best) / consensus): far below the best, many agreeing
    # passages still weigh less than it.
    rows = [
        dated(1, score=5.0, when=JAN, figure="41", kin=0.8),
        *(dated(i, score=1.0, when=MAR, figure="1100") for i in range(2, 6)),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(margin=5.0), k=5)
    assert ids(timeline.shown)[0] == 1


def test_figures_of_what_the_question_counts_outweigh_figures_beside_it() -> None:
    # "How many women are held?": two passages say "139 women" / "150 women" (named 1.0), three
    # a total (named 0) that the model ranks a little higher; with naming the women lead.
    women = [
        replace(dated(1, score=4.0, when=FEB, figure="139", kin=0.5), named=1.0),
        replace(dated(2, score=3.9, when=JAN, figure="150", kin=0.5), named=1.0),
    ]
    totals = [replace(dated(i, score=5.0, when=MAR, figure="1080"), named=0.0) for i in (3, 4)]
    rows = [*totals, *women]
    assert ids(arrange(NOW, counts=True, dated=rows, policy=policy(named=0.0), k=4).shown)[0] == 3
    assert ids(arrange(NOW, counts=True, dated=rows, policy=policy(named=2.0), k=4).shown)[0] == 1
    # Not known (another language): as the pool's average, neither lifted nor held back.
    unknown = [replace(d, named=None) for d in women]
    mixed = [*totals, *unknown]
    assert ids(arrange(NOW, counts=True, dated=mixed, policy=policy(named=2.0), k=4).shown)[0] == 3


def test_a_figure_for_exactly_the_period_asked_outweighs_figures_inside_it() -> None:
    # "How many were freed in 2025?": two sources give the year's releases (their period is
    # 2025 itself), three monthly totals of 2025 (inside it) that the model ranks a little
    # higher. With the span weight the year's figures lead, and both sources show.
    year = Period.year(2025)
    released = [
        dated(1, score=4.6, when=year, figure="318", kin=0.5, source="monitor"),
        dated(2, score=4.5, when=year, figure="290", kin=0.5, source="golos"),
    ]
    totals = [
        dated(3, score=5.0, when=Period.day(date(2025, 4, 1)), figure="1201"),
        dated(4, score=5.0, when=Period.day(date(2025, 8, 15)), figure="1219"),
        dated(5, score=4.9, when=Period.day(date(2025, 12, 1)), figure="1152"),
    ]
    asked = TimeIntent(TimeKind.POINT, year)
    rows = [*totals, *released]
    before = arrange(asked, counts=True, dated=rows, policy=policy(span=0.0), k=5)
    assert ids(before.shown)[0] in (3, 4, 5)
    after = arrange(asked, counts=True, dated=rows, policy=policy(span=1.0), k=5)
    assert ids(after.shown)[0] == 1 and ids(after.differs) == [2]
    # A current-state question has no period asked about: the span weight changes nothing.
    now = arrange(NOW, counts=True, dated=rows, policy=policy(span=1.0), k=5)
    assert ids(now.shown)[0] == 5


def test_a_figure_of_another_size_is_another_quantity() -> None:
    # The newest document's sentence reads like the others (postcards written to prisoners)
    # but its figure is twice the count: not the same quantity, not the newest count.
    rows = [
        dated(1, score=5.0, when=JAN, figure="1139"),
        dated(2, score=4.9, when=MAR, figure="2400"),
        dated(3, score=4.5, when=FEB, figure="1110"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=3)
    assert ids(timeline.shown)[0] == 3
    assert 2 not in ids(timeline.earlier)


def test_a_passage_answers_with_its_sentence_that_states_the_figure_asked_about() -> None:
    # Passage 2 is newest; its best-reading sentence compares with another country (1,500,
    # another quantity) but another of its sentences states the count: it leads with that one.
    rows = [
        dated(1, score=5.0, when=JAN, figure="1139"),
        dated(2, score=4.8, when=MAR, figure="1500", kin=0.6, other=("1080", 0.97)),
        dated(3, score=4.5, when=FEB, figure="1110"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=3)
    lead = timeline.shown[0]
    assert ids(timeline.shown) == [2, 1, 3]
    assert lead.chosen.ranked.best == 1 and lead.figure == "1080"
    assert ids(timeline.earlier) == [3, 1]


def test_a_best_answer_whose_figure_cannot_be_read_is_not_outvoted_by_digits() -> None:
    # "задержаны четырнадцать участников": the count is in words, so no figure is read; the one
    # passage far below with digits (another quantity) must not take the lead for being a figure.
    rows = [
        dated(1, score=40.0, when=FEB, figure=None),
        dated(2, score=32.0, when=MAR, figure="1200", kin=0.5, language="en"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(margin=5.0), k=2)
    assert ids(timeline.shown) == [1, 2]
    assert timeline.earlier == () and timeline.differs == ()


def test_a_series_that_grew_beyond_one_size_still_leads_with_its_newest_figure() -> None:
    # Cases in absentia: 612 in December 2024, 744 in June 2025, 1,146 in November 2026. The
    # best passage (612) and 1,146 are not of one size (x1.9), but each step of the series is.
    rows = [
        dated(1, score=5.0, when=Period.month(2024, 12), figure="612"),
        dated(2, score=4.0, when=Period.month(2025, 6), figure="744"),
        dated(3, score=3.5, when=Period.month(2026, 1), figure="893"),
        dated(4, score=3.0, when=Period.month(2026, 11), figure="1146"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(), k=4)
    assert ids(timeline.shown)[0] == 4
    assert ids(timeline.earlier) == [3, 2, 1]


def test_a_series_with_a_gap_continues_by_its_yearly_drift() -> None:
    # The reports between June 2025 (744) and November 2026 (1,146) are not among the
    # passages: one step of x1.54 in 17 months, beyond one size (1.3) unless the series may
    # drift by the year.
    rows = [
        dated(1, score=5.0, when=Period.month(2025, 6), figure="744"),
        dated(2, score=3.0, when=Period.month(2026, 11), figure="1146"),
    ]
    fixed = arrange(NOW, counts=True, dated=rows, policy=policy(drift=1.0), k=2)
    assert ids(fixed.shown)[0] == 1
    drifting = arrange(NOW, counts=True, dated=rows, policy=policy(drift=1.25), k=2)
    assert ids(drifting.shown)[0] == 2
    assert ids(drifting.earlier) == [1]


def test_a_series_does_not_continue_into_a_figure_of_another_size() -> None:
    # 27 journalists in November 2026, 29 in August; 13 women in May, stated alike: a step from
    # 29 to 13 is no step of one series, and the older 31 and 34 continue it past the women.
    rows = [
        dated(1, score=5.0, when=Period.month(2026, 8), figure="29"),
        dated(2, score=4.0, when=Period.month(2026, 11), figure="27"),
        dated(3, score=4.5, when=Period.month(2026, 5), figure="13"),
        dated(4, score=3.0, when=Period.month(2026, 1), figure="31"),
        dated(5, score=3.0, when=Period.month(2025, 9), figure="34"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(drift=1.25), k=5)
    assert ids(timeline.shown)[0] == 2
    assert 3 not in ids(timeline.earlier)
    assert ids(timeline.earlier) == [1, 4, 5]


def test_a_long_series_does_not_outweigh_another_quantity_by_its_length() -> None:
    # The best passage states 193 entries of a list; the jailed count's series (27 -> 44 over
    # two years) weighs 1.13 with all four members, more than the 193 alone (1.0), but no
    # three of them are of one size (at most 0.92): the quantity is chosen by the members of
    # one size, and the series only continues the one chosen.
    rows = [
        dated(1, score=5.0, when=Period.month(2026, 11), figure="193"),
        dated(2, score=4.0, when=Period.month(2026, 11), figure="27"),
        dated(3, score=3.9, when=Period.month(2026, 5), figure="31"),
        dated(4, score=3.5, when=Period.month(2025, 9), figure="36"),
        dated(5, score=3.4, when=Period.month(2024, 12), figure="44"),
    ]
    timeline = arrange(NOW, counts=True, dated=rows, policy=policy(drift=1.25), k=5)
    assert ids(timeline.shown)[0] == 1
    assert timeline.earlier == ()
