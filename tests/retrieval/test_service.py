"""Asking the bundled corpus: the answer, its highlight, its citation, or an honest 'not found'."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.services import Services
from corpus.dating import figures_of
from corpus.periods import Period
from retrieval.errors import QuestionRejected
from retrieval.question import analyse
from retrieval.service import _figure
from tests.documents import CANONICAL


def test_canonical_question_is_answered_with_the_figure_and_its_source(seeded: Services) -> None:
    answer = seeded.library.search(CANONICAL)
    assert answer.answered
    best = answer.hits[0]
    assert "1,200" in best.passage.text
    assert "1,200 political prisoners" in best.highlight_text
    assert best.source.published == "2025-09"
    assert best.source.title.startswith("Belarus opposition leader")
    assert "The Associated Press" in best.source.cites


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many political prisoners are still held in Belarus?", "1,200"),
        ("how many prisoners were released over the past year?", "more than 300"),
        ("Who is Ales Bialiatski?", "Bialiatski"),
        ("1200 political prisoners", "1,200"),
        ("What did Trump do with sanctions on Belarus?", "easing sanctions"),
        ("When did Tsikhanouskaya flee Belarus?", "2020"),
    ],
)
def test_other_questions_find_the_answering_sentence(
    seeded: Services, question: str, expected: str
) -> None:
    answer = seeded.library.search(question)
    assert answer.answered
    assert expected in answer.hits[0].highlight_text


@pytest.mark.parametrize(
    "question",
    [
        "How do I bake sourdough bread?",
        "Who won the football world cup in 2018?",
        "what is the capital of Australia",
        "Как приготовить борщ?",
    ],
)
def test_off_topic_questions_are_not_answered(seeded: Services, question: str) -> None:
    answer = seeded.library.search(question)
    assert not answer.answered
    assert answer.hits == ()
    # "the capital of Australia": the seed never names Australia.
    assert answer.not_covered == (("AU",) if "Australia" in question else ())


@pytest.mark.parametrize(
    ("elsewhere", "code", "here"),
    [
        (
            "How many political prisoners are there in Venezuela?",
            "VE",
            "How many political prisoners are there in Belarus?",
        ),
        (
            "Сколько политзаключённых в Никарагуа?",
            "NI",
            "Сколько политзаключённых остаётся в Беларуси?",
        ),
        ("Колькі палітвязняў у Венесуэле?", "VE", "Колькі палітвязняў застаецца ў Беларусі?"),
    ],
)
def test_the_same_question_about_a_country_the_report_never_names_is_refused(
    seeded: Services, elsewhere: str, code: str, here: str
) -> None:
    # The seed is about Belarus: the question's words, its kind of answer and its closeness
    # to the article are the same for both; only the country the article never names differs.
    refused = seeded.library.search(elsewhere)
    assert not refused.answered and refused.not_covered == (code,)
    assert refused.to_json()["not_covered"] == [code]
    answered = seeded.library.search(here)
    assert answered.answered and answered.not_covered == ()


def test_answer_json_has_the_documented_shape(seeded: Services) -> None:
    data = json.loads(json.dumps(seeded.library.search(CANONICAL, k=2).to_json()))
    assert set(data) == {
        "question",
        "answered",
        "time",
        "hits",
        "earlier",
        "differs",
        "not_covered",
    }
    assert data["question"] == CANONICAL and data["answered"] is True
    assert data["time"] == "current"
    assert 1 <= len(data["hits"]) <= 2
    hit = data["hits"][0]
    assert set(hit) == {
        "passage",
        "highlight",
        "score",
        "confidence",
        "as_of",
        "as_of_sentence",
        "figure",
        "attribution",
        "link",
        "source",
    }
    assert hit["highlight"] in hit["passage"]
    assert isinstance(hit["score"], float) and 0.0 <= hit["confidence"] <= 1.0
    # The seed states no date of its own: its figures are as of its publication month.
    assert hit["as_of"] == "2025-09"
    # "still holds": the sentence says its figure is current, as of the document itself.
    assert hit["as_of_sentence"] in (None, hit["highlight"])
    assert hit["figure"] == "1,200"
    assert hit["attribution"] == "human rights organizations"
    assert set(hit["source"]) == {"id", "title", "url", "publisher", "published"}
    assert hit["source"]["url"] is None and hit["link"] is None
    assert hit["source"]["published"] == "2025-09"
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_empty_question_is_rejected_and_huge_ones_are_cut(seeded: Services) -> None:
    with pytest.raises(QuestionRejected):
        seeded.library.search("   \n ")
    huge = CANONICAL + " <b>&amp;</b> " + "x" * 5000
    answer = seeded.library.search(huge)
    assert len(answer.question) <= seeded.library.policy.max_question_chars


def test_asearch_runs_off_the_event_loop(seeded: Services) -> None:
    async def ask_twice() -> list[bool]:
        answers = await asyncio.gather(
            seeded.library.asearch(CANONICAL), seeded.library.asearch("Who is Ales Bialiatski?")
        )
        return [a.answered for a in answers]

    assert asyncio.run(ask_twice()) == [True, True]


def test_the_fast_query_path_matches_sentence_transformers(encoders: dict) -> None:
    encoder = encoders["dense"]
    question = "how many political prisoners remain?"
    fast = encoder.encode_queries([question])[0]
    batched = encoder.encode_queries([question, "another question"])[0]
    assert float(fast @ batched) > 0.9999


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("How many women are held?", "139"),
        ("how many people with disabilities are held?", "34"),
        ("How many are held?", "139"),  # nothing tells them apart: the first
    ],
)
def test_of_several_figures_the_one_counting_what_is_asked_is_shown(
    question: str, figure: str
) -> None:
    sentence = "Among the people on the list are 139 women and 34 people with disabilities."
    found = figures_of(sentence, language="en", as_of=Period.month(2026, 11))
    about = frozenset(analyse(question).tokens)
    chosen = _figure(sentence, found, language="en", about=about)
    assert chosen is not None and chosen[0].text.strip() == figure
