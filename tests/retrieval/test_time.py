"""Figures over time: the newest figure leads a current-state question in every language, with
the older ones under Earlier; a month asked about leads with that month's; two sources for one
month are both shown. The corpus: tests/data/dated (today is 2026-12-01)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.services import Services
from corpus.loaders import load_path
from corpus.models import Answer, Hit
from tests.documents import ROOT, write_markdown

#: Each ingested document's file name, by its identity (its URL).
FILES: dict[str, str] = {}
CORPUS = ROOT / "tests" / "data" / "dated" / "documents"
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def dated(make_module_services: Callable[..., Services]) -> Services:
    services = make_module_services()
    documents = [load_path(p) for p in sorted(CORPUS.glob("*.md"))]
    services.indexer.ingest(documents)
    FILES.update({d.identity: d.name for d in documents})
    return services


def ask(services: Services, question: str) -> Answer:
    answer = services.library.search(question, k=5, today=TODAY)
    assert answer.answered, question
    return answer


def name(hit: Hit) -> str:
    return FILES[hit.source.identity]


def as_of(hit: Hit) -> str:
    """The hit's as-of date, which every dated figure here has."""
    assert hit.as_of is not None, name(hit)
    return hit.as_of


@pytest.mark.parametrize(
    "question",
    [
        "How many political prisoners remain in Belarus?",
        "Сколько политзаключённых остаётся в Беларуси?",
        "Колькі палітвязняў застаецца ў Беларусі?",
    ],
)
def test_how_many_remain_leads_with_the_newest_and_lists_the_older_ones(
    dated: Services, question: str
) -> None:
    answer = ask(dated, question)
    lead = answer.hits[0]
    assert name(lead) == "2026-09-10-count-en.md"
    assert lead.figure == "1,105" and lead.as_of == "2026-09-01"
    assert lead.as_of_sentence is not None and "As of 1 September 2026" in lead.as_of_sentence
    earlier = [name(h) for h in answer.earlier]
    # The March figure (in Russian) and the September 2025 one (in Belarusian), newest first.
    assert "2026-03-10-count-ru.md" in earlier and "2025-09-05-count-be.md" in earlier
    assert earlier.index("2026-03-10-count-ru.md") < earlier.index("2025-09-05-count-be.md")
    dates = [as_of(h) for h in answer.earlier]
    assert dates == sorted(dates, reverse=True) and all(d < as_of(lead) for d in dates)
    # The newest document is about a festival: never the answer.
    assert all(name(h) != "2026-10-02-festival-en.md" for h in (*answer.hits[:1], *answer.earlier))


def test_a_month_asked_about_leads_with_that_months_figure(dated: Services) -> None:
    answer = ask(dated, "How many political prisoners were there in Belarus in March 2026?")
    assert answer.time == "point"
    assert name(answer.hits[0]) == "2026-03-10-count-ru.md"
    assert answer.hits[0].figure == "1 150"


def test_two_sources_for_one_month_are_both_shown(dated: Services) -> None:
    answer = ask(dated, "How many political prisoners were there in Belarus in June 2026?")
    shown = {name(answer.hits[0]), *(name(h) for h in answer.differs)}
    assert shown == {"2026-06-08-count-en.md", "2026-06-15-count-ru.md"}
    assert {answer.hits[0].figure, *(h.figure for h in answer.differs)} == {"1,128", "1 187"}


def test_the_json_keeps_the_dates_and_both_lists(dated: Services) -> None:
    data = ask(dated, "How many political prisoners remain in Belarus?").to_json()
    assert data["time"] == "current"
    assert data["hits"][0]["as_of"] == "2026-09-01"
    assert data["earlier"] and all(h["as_of"] < "2026-09-01" for h in data["earlier"])
    assert isinstance(data["differs"], list)


def test_a_question_about_a_time_also_reads_the_passages_dated_then(dated: Services) -> None:
    # With a shortlist of one, only the passages dated in (or near) March 2026 can add to it.
    retriever = dated.library.retriever
    policy = retriever.policy
    narrow = policy.model_copy(update={"first": policy.first.model_copy(update={"shortlist": 1})})
    question = "How many political prisoners were there in Belarus in March 2026?"
    without = narrow.model_copy(update={"first": narrow.first.model_copy(update={"in_period": 0})})
    assert len(retriever.rank(question, policy=without, today=TODAY)[1]) == 1
    _, ranked = retriever.rank(question, policy=narrow, today=TODAY)
    assert len(ranked) > 1
    assert "2026-03-10-count-ru.md" in {name_of(dated, r.passage.source_id) for r in ranked}
    # A how-many question about now reads the newest reports; any other question about now,
    # none.
    _, ranked = retriever.rank("How many remain?", policy=narrow, today=TODAY)
    assert len(ranked) > 1
    assert "2026-09-10-count-en.md" in {name_of(dated, r.passage.source_id) for r in ranked}
    assert len(retriever.rank("Who remains in prison?", policy=narrow, today=TODAY)[1]) == 1
    stale = narrow.model_copy(update={"first": narrow.first.model_copy(update={"in_period": 0})})
    assert len(retriever.rank("How many remain?", policy=stale, today=TODAY)[1]) == 1


def name_of(services: Services, source_id: str) -> str:
    source = services.store.corpus.sources_by_id([source_id])[source_id]
    return FILES[source.identity]


def test_of_several_figures_the_one_counting_what_is_asked_is_shown_in_any_language(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    # The question is Belarusian, the report English: no word stem is shared, and the figure
    # shown is the one whose next words are nearest what the question counts.
    path = write_markdown(
        tmp_path,
        "subgroups-en.md",
        "As of 1 November 2026, the Lantern Human Rights Centre counted 1,080 political "
        "prisoners in Belarus. Among the people on the list are 139 women and 34 people with "
        "disabilities, several of whom need regular medical care.",
        title="Political prisoners in Belarus: November 2026",
        published="2026-11-20",
        language="en",
    )
    services = make_services()
    services.indexer.ingest([load_path(path)])
    for question, figure in [
        ("Колькі людзей з інваліднасцю сярод палітвязняў?", "34"),
        ("Колькі жанчын сярод палітвязняў?", "139"),
    ]:
        answer = services.library.search(question, k=3, today=TODAY)
        assert answer.answered, question
        shown = [h for h in answer.hits if "139 women" in h.highlight_text]
        assert shown and shown[0].figure == figure, question


@pytest.mark.parametrize(
    "question",
    [
        "With Belarusian films filling the halls in Warsaw, how many political prisoners remain?",
        "How many political prisoners remain, with films of exile filling Warsaw's halls?",
        "Сколько политзаключённых остаётся в Беларуси, пока в Варшаве идёт фестиваль фильмов?",
        "Колькі палітвязняў застаецца ў Беларусі, пакуль у Варшаве ідзе фестываль фільмаў?",
        # An English relative clause set off by a comma only adds to what is asked.
        "How many political prisoners remain in Belarus, the ones whose stories the Warsaw "
        "festival films tell?",
        "How many political prisoners does Belarus still hold, those whose families the Warsaw "
        "festival films show?",
    ],
)
def test_a_clause_that_sets_the_scene_does_not_choose_the_answer(
    dated: Services, question: str
) -> None:
    # The festival report is the newest and shares the scene's words, and its 1,200 visitors
    # are a figure of the prisoner count's size: read as the answer, it would lead.
    answer = ask(dated, question)
    assert name(answer.hits[0]) == "2026-09-10-count-en.md"
    assert answer.hits[0].figure == "1,105"
