"""One corpus in three languages: each question finds the passage that answers it, whatever its
language, and a same-topic passage in another language does not win by sharing the topic."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.services import Services
from corpus.loaders import load_path
from tests.documents import ROOT

#: Each ingested document's file name, by its identity (its URL).
FILES: dict[str, str] = {}
CORPUS = ROOT / "tests" / "data" / "mixed" / "documents"


@pytest.fixture(scope="module")
def mixed(make_module_services: Callable[..., Services]) -> Services:
    services = make_module_services()
    documents = [load_path(p) for p in sorted(CORPUS.glob("*.md"))]
    services.indexer.ingest(documents)
    FILES.update({d.identity: d.name for d in documents})
    return services


def top(services: Services, question: str) -> tuple[str, str]:
    answer = services.library.search(question)
    assert answer.answered, question
    hit = answer.hits[0]
    return FILES[hit.source.identity], hit.passage.text


def test_an_english_question_is_answered_in_english_though_russian_covers_the_topic(
    mixed: Services,
) -> None:
    name, text = top(mixed, "How much did the restoration of the east wing of Nesvizh castle cost?")
    assert name == "nesvizh-restoration-en.md" and "3.2 million euros" in text


def test_a_russian_question_finds_its_only_answer_in_english(mixed: Services) -> None:
    name, text = top(mixed, "Сколько зубров насчитали в Беловежской пуще?")
    assert name == "bison-census-en.md" and "1,030 European bison" in text


def test_a_belarusian_question_finds_its_only_answer_in_russian(mixed: Services) -> None:
    name, text = top(mixed, "Хто пабудаваў Мірскі замак?")
    assert name == "mir-castle-ru.md" and "Юрием Ильиничем" in text


def test_a_belarusian_question_in_belarusian(mixed: Services) -> None:
    name, text = top(mixed, "Колькі вадаёмаў у парку на Браслаўшчыне?")
    assert name == "braslau-lakes-be.md" and "больш за трыццаць азёр" in text


@pytest.mark.parametrize(
    "question",
    [
        "What is the best way to learn to play the guitar?",
        "Как приготовить сырники без муки?",
        "Хто выйграў апошні чэмпіянат свету па хакеі?",
    ],
)
def test_off_topic_questions_are_refused_in_every_language(mixed: Services, question: str) -> None:
    answer = mixed.library.search(question)
    assert not answer.answered and answer.hits == ()


def test_a_passage_in_another_language_is_credited_for_translations_of_the_question(
    mixed: Services,
) -> None:
    # The English bison census has no word of the Russian question, but translations of some:
    # the word-piece vectors credit them (a passage in the question's language gets none).
    _, ranked = mixed.library.retriever.rank("Сколько зубров насчитали в Беловежской пуще?")
    sources = mixed.store.corpus.sources_by_id([r.passage.source_id for r in ranked])
    # The census's best-ranked passage, the one that answers.
    bison = next(
        r for r in ranked if FILES[sources[r.passage.source_id].identity] == "bison-census-en.md"
    )
    assert bison.features["cross_language"] == 1.0
    assert bison.features["cross_coverage"] > 0.0
    assert all(r.features["cross_coverage"] == 0.0 for r in ranked if r.passage.language == "ru")


def test_a_country_no_document_names_marks_every_passage(mixed: Services) -> None:
    _, ranked = mixed.library.retriever.rank("Сколько зубров насчитали в Канаде?")
    assert ranked and all(r.features["elsewhere"] == 1.0 for r in ranked)


def test_a_country_named_in_another_language_and_as_an_adjective_is_named(
    mixed: Services,
) -> None:
    # The English census names Belarus only as "the Belarusian part"; the castles never do.
    _, ranked = mixed.library.retriever.rank("Сколько зубров насчитали в Беларуси?")
    sources = mixed.store.corpus.sources_by_id([r.passage.source_id for r in ranked])
    by_file = {
        FILES[sources[r.passage.source_id].identity]: r.features["elsewhere"] for r in ranked
    }
    assert by_file["bison-census-en.md"] == 0.0
    assert by_file["mir-castle-ru.md"] == 1.0
    _, plain = mixed.library.retriever.rank("Сколько зубров насчитали в пуще?")
    assert all(r.features["elsewhere"] == 0.0 for r in plain)


@pytest.mark.parametrize(
    "question",
    [
        "How many bison were counted in Poland?",
        "Сколько зубров насчитали в Канаде?",
        "Колькі зуброў налічылі ў Казахстане?",
    ],
)
def test_a_question_about_a_country_no_document_names_is_refused(
    mixed: Services, question: str
) -> None:
    assert not mixed.library.search(question).answered
