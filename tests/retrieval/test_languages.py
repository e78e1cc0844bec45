"""Questions in Russian and Belarusian find the passages that answer them, in any language."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.services import Services
from corpus.language import detect_language
from corpus.loaders import load_bytes, load_path
from retrieval.lexical import tokenize
from tests.documents import SEED, markdown

RUSSIAN_REPORT = markdown(
    "Правозащитники сообщили, что в Гродно задержаны четырнадцать участников акции памяти. "
    "Их обвиняют в участии в несанкционированном мероприятии. "
    "Родственникам не разрешили передать задержанным тёплые вещи.\n\n"
    "Суд в Гродно приговорил блогера Андрея Костюка к шести годам колонии. "
    "Адвокат назвал приговор политически мотивированным. "
    "Апелляция будет подана в областной суд.",
    title="В Гродно задержаны участники акции памяти",
    published="2025-11-02",
    language="ru",
    publisher="Наша Ніва",
)


@pytest.mark.parametrize(
    "question",
    [
        "Сколько политзаключённых остаётся в Беларуси?",
        "сколько политзаключённых остаётся?",
        "Колькі палітвязняў застаецца?",
        "Колькі палітвязняў яшчэ ў турмах?",
    ],
)
def test_russian_and_belarusian_questions_find_the_prisoner_count(
    seeded: Services, question: str
) -> None:
    answer = seeded.library.search(question)
    assert answer.answered
    assert "1,200" in answer.hits[0].passage.text
    # The highlight is the answering sentence, in the passage's own language.
    assert "1,200 political prisoners" in answer.hits[0].highlight_text


@pytest.mark.parametrize(
    "question",
    [
        "Как испечь хлеб без дрожжей?",
        # Over a corpus with no Belarusian text unknown words say nothing; what refuses this
        # one is that the English seed has no translation of its words (cross_coverage).
        "Якое надвор'е будзе заўтра ў Вільні?",
    ],
)
def test_off_topic_russian_and_belarusian_questions_are_not_answered(
    seeded: Services, question: str
) -> None:
    assert not seeded.library.search(question).answered


def test_a_russian_document_among_english_ones(make_services: Callable[..., Services]) -> None:
    services = make_services()
    services.indexer.ingest([load_path(SEED), load_bytes(RUSSIAN_REPORT.encode(), "grodno.md")])
    library = services.library
    english = library.search("How many people were detained in Hrodna at the memorial event?")
    assert english.answered
    assert english.hits[0].source.title == "В Гродно задержаны участники акции памяти"
    assert "задержаны четырнадцать" in english.hits[0].highlight_text
    russian = library.search("Сколько участников акции задержали в Гродно?")
    assert russian.answered and "четырнадцать" in russian.hits[0].passage.text
    sentenced = library.search("На сколько лет осудили блогера Костюка?")
    assert "шести годам" in sentenced.hits[0].highlight_text
    # English questions about the English article are unaffected by the Russian one.
    assert "1,200" in library.search("how many political prisoners remain?").hits[0].passage.text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("how many political prisoners remain?", "en"),
        ("Who is Bialiatski?", "en"),
        ("сколько политзаключённых осталось?", "ru"),
        ("Что такое клады?", "ru"),
        ("Сколько лет Bialiatski?", "ru"),
        ("колькі палітвязняў застаецца?", "be"),
        ("Колькі палітвязняў?", "be"),
        ("дзе ён?", "be"),
        ("Колькi палiтвязняў?", "be"),  # Latin i typed on a Russian keyboard
        ("скільки політв'язнів залишається?", "uk"),
    ],
)
def test_language_of_short_questions(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_belarusian_words_are_stemmed_through_russian() -> None:
    assert tokenize("палітвязні засталіся", "be")[0] == tokenize("палітвязнямі", "be")[0]
