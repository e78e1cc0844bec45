"""The pipeline's stages on hand-made candidates: no model, no index, no store."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from corpus.dates import TimeKind
from corpus.models import Passage
from corpus.periods import Period
from retrieval.errors import QuestionRejected
from retrieval.policy import DENSE, FEATURES, LEXICAL, Calibration, LinearModel, Policy
from retrieval.stages import (
    Candidate,
    Ranked,
    decide,
    first_stage,
    placed,
    plan,
    rerank,
    translated,
)
from tests.documents import sentences_passage as passage


def candidate(
    p: Passage, *, dense: float, lexical: float, cosines: list[float], coverage: list[float]
) -> Candidate:
    return Candidate(
        passage=p,
        channels={DENSE: dense, LEXICAL: lexical},
        sentence_cosines=np.array(cosines, dtype=np.float32),
        coverage=np.array(coverage, dtype=np.float32),
    )


# -- plan ---------------------------------------------------------------------------------------


def test_plan_cleans_and_analyses_the_question() -> None:
    planned = plan("  How many   political prisoners\nremain? ", Policy())
    assert planned.text == "How many political prisoners remain?"
    assert planned.language == "en"
    assert planned.question.answer_type == "count"
    # Interrogatives carry the answer type, not the topic.
    assert "many" not in planned.question.tokens


def test_plan_reads_a_latin_i_in_a_cyrillic_word_as_the_belarusian_letter() -> None:
    # Typed on a Russian keyboard: what the encoder reads must be the word as printed.
    planned = plan("колькi зараз палiтвязняў", Policy())
    assert planned.text == "колькі зараз палітвязняў"
    assert planned.language == "be"
    # Latin words keep their i.
    assert plan("Is Bialiatski still in prison?", Policy()).text.startswith("Is Bialiatski")


def test_plan_reads_a_u_after_a_vowel_in_belarusian_as_the_short_u() -> None:
    # Typed without ў (no such key on a Russian keyboard).
    planned = plan("колькі зараз палітвязняу", Policy())
    assert planned.language == "be" and planned.text == "колькі зараз палітвязняў"
    assert "палітвязняў" in {t.word for t in planned.question.terms}
    # Russian keeps its у after vowels.
    assert plan("сколько людей в науке", Policy()).text == "сколько людей в науке"
    assert plan("сколько пауз было", Policy()).text == "сколько пауз было"


def test_plan_rejects_empty_questions_and_cuts_long_ones() -> None:
    with pytest.raises(QuestionRejected):
        plan(" \n\t ", Policy())
    cut = plan("word " * 500, Policy(max_question_chars=50))
    assert len(cut.text) <= 50 and cut.text.endswith("word")


def test_plan_reads_what_the_question_asks_about_time() -> None:
    today = date(2026, 12, 1)
    assert plan("how many remain?", Policy(), today=today).time.kind is TimeKind.CURRENT
    point = plan("how many were held in August 2025?", Policy(), today=today).time
    assert point.kind is TimeKind.POINT and point.period == Period.month(2025, 8)
    ago = plan("колькі іх было год таму?", Policy(), today=today).time
    assert ago.kind is TimeKind.POINT and ago.period is not None
    assert ago.period.start.year == 2025
    series = plan("как менялось число политзаключённых за год?", Policy(), today=today).time
    assert series.kind is TimeKind.SERIES


# -- first stage --------------------------------------------------------------------------------


def test_first_stage_fuses_normalised_channels_and_keeps_the_shortlist() -> None:
    planned = plan("how many prisoners", Policy())
    found = {
        DENSE: {1: 0.9, 2: 0.5, 3: 0.1},
        LEXICAL: {2: 12.0, 3: 0.0, 4: 6.0},
    }
    policy = Policy().model_copy(
        update={"first": Policy().first.model_copy(update={"shortlist": 3})}
    )
    # 1: 0.5*1 + 0; 2: 0.5*0.5 + 0.5*1; 3: 0; 4: 0.5*0.5 -> 2, 1, 4
    assert first_stage(planned, found, lambda pid: "en", policy) == [2, 1, 4]


def test_first_stage_gives_no_lexical_weight_across_languages() -> None:
    planned = plan("how many prisoners", Policy())
    found = {DENSE: {1: 0.80, 2: 0.79}, LEXICAL: {1: 10.0, 2: 0.0}}
    languages = {1: "ru", 2: "en"}
    # Passage 1 matches words, but it is Russian: only the dense channel counts, at full weight.
    ranked = first_stage(planned, found, languages.__getitem__, Policy())
    assert ranked == [1, 2]
    found[DENSE] = {1: 0.79, 2: 0.80}
    assert first_stage(planned, found, languages.__getitem__, Policy()) == [2, 1]


def test_first_stage_of_nothing_is_empty() -> None:
    assert first_stage(plan("anything", Policy()), {}, lambda pid: "en", Policy()) == []


# -- rerank -------------------------------------------------------------------------------------

#: A hand-made model: meaning of the sentence, wording, and the kind of answer.
MODEL = LinearModel(
    intercept=-6.0, weights={"sentence": 8.0, "coverage": 4.0, "answer_type": 1.0, "lexical": 1.0}
)


def with_model(model: LinearModel = MODEL) -> Policy:
    base = Policy()
    return base.model_copy(update={"rerank": base.rerank.model_copy(update={"model": model})})


def test_rerank_picks_the_answering_sentence_and_ranks_by_the_model() -> None:
    planned = plan("how many political prisoners remain?", Policy())
    vague = passage(1, ["The opposition met in Vilnius.", "Many issues were discussed."])
    answer = passage(2, ["Talks continued.", "About 1,200 political prisoners are still held."])
    ranked = rerank(
        planned,
        [
            candidate(vague, dense=0.8, lexical=2.0, cosines=[0.5, 0.4], coverage=[0.1, 0.0]),
            candidate(answer, dense=0.7, lexical=3.0, cosines=[0.2, 0.6], coverage=[0.0, 0.8]),
        ],
        with_model(),
    )
    assert [r.passage.id for r in ranked] == [2, 1]
    assert ranked[0].best == 1
    features = ranked[0].features
    assert set(features) == set(FEATURES)
    assert features["unknown"] == 0.0 and features["unknown_any"] == 0.0
    assert features["answer_type"] == 1.0  # a count, for a how-many question
    assert features["coverage"] == pytest.approx(0.8)
    assert features["sentence"] == pytest.approx(0.6)
    assert features["sentence_gap"] == pytest.approx(0.0)
    assert features["dense"] == pytest.approx(0.7)
    assert features["dense_gap"] == pytest.approx(-0.1)
    assert features["lexical"] == pytest.approx(1.0)
    assert features["cross_language"] == 0.0 and features["cross_dense"] == 0.0
    assert ranked[0].score == pytest.approx(MODEL.logit(features))
    assert ranked[1].features["sentence_gap"] == pytest.approx(-0.1)


def test_a_how_many_question_is_answered_by_a_sentence_with_a_count() -> None:
    planned = plan("how many political prisoners are held?", Policy())
    p = passage(1, ["The list of political prisoners shrank.", "It now holds 1,080 names."])
    # The first sentence is closer in meaning, but states no count.
    [ranked] = rerank(
        planned,
        [candidate(p, dense=0.5, lexical=0.0, cosines=[0.9, 0.5], coverage=[0.8, 0.0])],
        with_model(),
    )
    assert ranked.best == 1 and ranked.features["answer_type"] == 1.0
    # Without a count anywhere, the closest sentence answers.
    q = passage(2, ["The list of political prisoners shrank.", "Families wait."])
    [ranked] = rerank(
        planned,
        [candidate(q, dense=0.5, lexical=0.0, cosines=[0.9, 0.5], coverage=[0.8, 0.0])],
        with_model(),
    )
    assert ranked.best == 0


def test_a_count_in_words_can_answer_beside_a_figure_in_digits() -> None:
    planned = plan("сколько дали журналистке?", Policy())
    p = passage(
        1,
        ["Суд приговорил журналистку к пяти годам колонии.", "Ей 46 лет, у неё двое детей."],
        language="ru",
    )
    # The sentence that states the sentence in words means what is asked; the one with
    # digits does not: digits must not shut it out.
    [ranked] = rerank(
        planned,
        [candidate(p, dense=0.5, lexical=0.0, cosines=[0.9, 0.6], coverage=[0.8, 0.0])],
        with_model(),
    )
    assert ranked.best == 0 and ranked.features["answer_type"] == 0.75
    # Of two sentences alike in meaning and wording, the one with digits answers.
    q = passage(2, ["Прошло пять лет.", "Прошло 5 лет."], language="ru")
    [ranked] = rerank(
        plan("сколько лет прошло?", Policy()),
        [candidate(q, dense=0.5, lexical=0.0, cosines=[0.8, 0.8], coverage=[0.5, 0.5])],
        with_model(),
    )
    assert ranked.best == 1


def test_rerank_gives_lexical_evidence_only_within_a_language() -> None:
    planned = plan("who leads the opposition", Policy())
    english = passage(1, ["Tsikhanouskaya leads the opposition."])
    russian = passage(2, ["Оппозицию возглавляет Тихановская."], language="ru")
    candidates = [
        candidate(english, dense=0.5, lexical=0.0, cosines=[0.6], coverage=[0.0]),
        candidate(russian, dense=0.5, lexical=9.0, cosines=[0.6], coverage=[0.0]),
    ]
    ranked = rerank(planned, candidates, with_model())
    # Equal in everything but BM25, which must not count for the Russian passage: a tie,
    # broken by id.
    assert [r.passage.id for r in ranked] == [1, 2]
    assert ranked[0].score == pytest.approx(ranked[1].score)
    assert ranked[1].features["lexical"] == 0.0
    assert ranked[1].features["cross_language"] == 1.0
    assert ranked[1].features["cross_dense"] == pytest.approx(0.5)


def reranked(question: str, *candidates: Candidate) -> list[Ranked]:
    return rerank(plan(question, Policy()), candidates, with_model())


def test_translated_coverage_is_set_for_the_given_passages_and_changes_no_order() -> None:
    english = passage(1, ["Of them, 139 are women."])
    belarusian = passage(2, ["Сярод іх 139 жанчын."], language="be")
    ranked = reranked(
        "how many women are held",
        candidate(english, dense=0.5, lexical=1.0, cosines=[0.6], coverage=[0.7]),
        candidate(belarusian, dense=0.5, lexical=0.0, cosines=[0.6], coverage=[0.0]),
    )
    # rerank leaves it at 0 for every passage ...
    assert all(r.features["cross_coverage"] == 0.0 for r in ranked)
    # ... and the retriever fills it in for the passages in another language.
    out = translated(ranked, {2: 0.8})
    assert [r.passage.id for r in out] == [r.passage.id for r in ranked]
    assert [r.score for r in out] == [r.score for r in ranked]
    features = {r.passage.id: r.features for r in out}
    assert features[1]["cross_coverage"] == 0.0
    assert features[2]["cross_coverage"] == pytest.approx(0.8)
    assert features[2]["coverage"] == 0.0


def test_placed_marks_passages_of_documents_that_never_name_the_country_and_keeps_order() -> None:
    first = passage(1, ["As of 1 November, 1,080 political prisoners were held."])
    second = passage(2, ["In Venezuela rights groups count 800."])
    ranked = reranked(
        "how many political prisoners are there in venezuela",
        candidate(first, dense=0.9, lexical=1.0, cosines=[0.9], coverage=[0.6]),
        candidate(second, dense=0.5, lexical=0.5, cosines=[0.5], coverage=[0.9]),
    )
    assert all(r.features["elsewhere"] == 0.0 for r in ranked)
    out = placed(ranked, {1: 1.0, 2: 0.0})
    assert [r.passage.id for r in out] == [r.passage.id for r in ranked]
    assert [r.score for r in out] == [r.score for r in ranked]
    assert {r.passage.id: r.features["elsewhere"] for r in out} == {1: 1.0, 2: 0.0}
    # A question that names no country leaves every passage at 0.
    assert placed(ranked, {}) == ranked


def test_a_country_the_document_never_names_lowers_the_calibrated_probability() -> None:
    calibration = Policy().decide.calibration
    features = {name: 0.5 for name in FEATURES} | {"elsewhere": 0.0}
    here = calibration.probability(30.0, features)
    assert calibration.probability(30.0, features | {"elsewhere": 1.0}) < here


def test_translated_coverage_given_a_weight_raises_the_logit_and_resorts() -> None:
    planned = plan("how many women are held", Policy())
    english = passage(1, ["Of them, 139 are women."])
    belarusian = passage(2, ["Сярод іх 139 жанчын."], language="be")
    policy = with_model()
    ranked = rerank(
        planned,
        [
            candidate(english, dense=0.5, lexical=1.0, cosines=[0.6], coverage=[0.7]),
            candidate(belarusian, dense=0.5, lexical=0.0, cosines=[0.6], coverage=[0.0]),
        ],
        policy,
    )
    assert [r.passage.id for r in ranked] == [1, 2]
    gap = ranked[0].score - ranked[1].score
    model = policy.rerank.model
    weighted = model.model_copy(
        update={"weights": {**model.weights, "cross_coverage": 2 * gap / 0.8}}
    )
    out = translated(ranked, {2: 0.8}, weighted)
    # The Belarusian passage gains 2 x the gap: it now leads, by the gap.
    assert [r.passage.id for r in out] == [2, 1]
    assert out[0].score - out[1].score == pytest.approx(gap)
    # Without a weight, the same call changes no score.
    assert [r.score for r in translated(ranked, {2: 0.8}, model)] == [r.score for r in ranked]


def test_rerank_survives_missing_sentence_vectors() -> None:
    planned = plan("anything at all", Policy())
    p = passage(1, ["One.", "Two."])
    [ranked] = rerank(
        planned, [candidate(p, dense=0.3, lexical=0.0, cosines=[], coverage=[])], with_model()
    )
    assert ranked.features["sentence"] == 0.0


def test_rerank_of_nothing_is_nothing() -> None:
    assert rerank(plan("anything", Policy()), [], Policy()) == []


# -- decide -------------------------------------------------------------------------------------


def ranked(pid: int, probability: float) -> Ranked:
    """A ranked passage whose model gives ``probability``."""
    return Ranked(
        passage=passage(pid, ["Text."]),
        score=math.log(probability / (1 - probability)),
        best=0,
        features={},
    )


def policy_with(**decide: object) -> Policy:
    """The shipped policy with an identity calibration (probability = sigmoid(logit))."""
    base = Policy()
    update = {"calibration": Calibration(), **decide}
    return base.model_copy(update={"decide": base.decide.model_copy(update=update)})


def test_answered_does_not_depend_on_k() -> None:
    # Only the third passage is confident: within the depth of 3.
    rows = [ranked(1, 0.4), ranked(2, 0.3), ranked(3, 0.9)]
    policy = policy_with(depth=3, bar=0.5, shown=0.0)
    for k in (1, 3, 9):
        assert decide(rows, policy, k=k).answered
    assert [c.ranked.passage.id for c in decide(rows, policy, k=1).chosen] == [1]
    assert [c.ranked.passage.id for c in decide(rows, policy, k=9).chosen] == [1, 2, 3]


def test_a_confident_passage_below_the_depth_does_not_answer() -> None:
    rows = [ranked(1, 0.4), ranked(2, 0.4), ranked(3, 0.4), ranked(4, 0.99)]
    decision = decide(rows, policy_with(depth=3, bar=0.5), k=9)
    assert not decision.answered and decision.chosen == ()


def test_shown_passages_stop_at_a_share_of_the_bar() -> None:
    rows = [ranked(1, 0.9), ranked(2, 0.1), ranked(3, 0.3)]
    decision = decide(rows, policy_with(bar=0.5, shown=0.5), k=9)
    assert decision.answered
    assert [c.ranked.passage.id for c in decision.chosen] == [1, 3]
    assert decision.chosen[0].confidence == pytest.approx(0.9)


def test_nothing_to_decide_is_not_answered() -> None:
    assert not decide([], Policy(), k=3).answered


# -- policy -------------------------------------------------------------------------------------


def test_the_calibrated_model_is_a_monotone_probability() -> None:
    model = LinearModel(intercept=-5.0, weights={"sentence": 10.0})
    calibration = Calibration(weights={"logit": 2.0, "unknown": -1.0})
    values = [
        calibration.probability(model.logit({"sentence": c}), {}) for c in (-50, 0, 0.5, 1, 50)
    ]
    assert values == sorted(values)
    assert values[2] == pytest.approx(0.5)
    assert 0.0 <= values[0] < 1e-6 and 1 - 1e-6 < values[-1] <= 1.0
    # Features the model does not know count nothing; the calibration reads its own.
    assert model.logit({"sentence": 0.5, "other": 99.0}) == pytest.approx(0.0)
    assert calibration.probability(0.0, {"unknown": 1.0}) == pytest.approx(1 / (1 + math.e))


def test_the_shipped_policy_has_a_fitted_model_and_bar() -> None:
    policy = Policy()
    assert policy.rerank.model.weights and policy.rerank.model.fitted_on
    assert set(policy.rerank.model.weights) <= set(FEATURES)
    assert 0.0 < policy.decide.bar < 1.0
    assert policy.with_bar(0.7).decide.bar == 0.7
