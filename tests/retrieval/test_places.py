"""Countries a question names, in English, Russian and Belarusian, and whether a document
names them (no model: the names are CLDR's, matched as the lexical index stems words)."""

from __future__ import annotations

import pytest

from retrieval.lexical import LexicalIndex, tokenize
from retrieval.places import countries, document_match, gazetteer, named_in, names_of
from retrieval.question import analyse


def named(question: str) -> frozenset[str]:
    return countries(analyse(question).terms)


@pytest.mark.parametrize(
    ("question", "codes"),
    [
        ("How many political prisoners are there in Venezuela?", {"VE"}),
        ("how many political prisoners does iran hold", {"IR"}),
        ("How many prisoners are there in Lithuania's prisons?", {"LT"}),
        ("Сколько политзаключённых в Никарагуа?", {"NI"}),
        ("Сколько людей выслали в Литву?", {"LT"}),
        ("Колькі палітвязняў у Венесуэле?", {"VE"}),
        ("Колькі зняволеных у турмах Польшчы?", {"PL"}),
        # Typed on a Russian keyboard: a Latin i for і, у for ў.
        ("колькi беларусау атрымалi ВНЖ у Лiтве", {"LT"}),
        # Snowball stems "Беларусь" to "белар" and "Беларусі" to "беларус": one country.
        ("Колькі палітвязняў у Беларусі?", {"BY"}),
        ("Сколько политзаключённых в Беларуси сейчас?", {"BY"}),
        ("Who is the president of the United States?", {"US"}),
        ("How many remain in Belarus while Lithuania argues about potash?", {"BY", "LT"}),
        # Snowball stems "Иран" to "ира" and "Расія" to "рас": the words themselves name them.
        ("Сколько политзаключённых в Иране?", {"IR"}),
        ("Колькі палітвязняў у Расіі?", {"RU"}),
        ("Колькі зняволеных у турмах Ірана?", {"IR"}),
    ],
)
def test_a_question_names_its_countries_in_every_language(question: str, codes: set[str]) -> None:
    assert named(question) == codes


@pytest.mark.parametrize(
    "question",
    [
        "How many political prisoners remain?",
        # "malicious" stems to "malici": Mali's four letters must be the whole word.
        "Was the software malicious?",
        # Russian "мало" stems as "Мали" does: too short a stem to name a country.
        "сколько мало людей пришло",
        # Christmas Island is "о-в Рождества" in Russian: "Рождества" alone is Christmas.
        "Сколько человек помиловал Лукашенко накануне православного Рождества?",
        "How many were states and united?",
        # Belarusian "малі" (small) is Mali's word, and "Перу" is also "перу" (a pen's).
        "Колькі малі дзеці ведаюць пра гэта?",
        "Сколько стоит перу ручки?",
    ],
)
def test_words_that_only_look_like_a_country_name_none(question: str) -> None:
    assert named(question) == frozenset()


def test_every_name_is_known_in_the_three_languages() -> None:
    names = names_of("BY")
    assert {"belarus"} <= {n[0] for n in names}
    assert any(n[0].startswith("белар") for n in names)
    assert len(gazetteer()) > 600


def test_a_document_names_a_country_in_any_case_and_as_an_adjective() -> None:
    # Longer stems less their last two letters, shorter than four letters only exactly.
    assert document_match("иран") == ("иран", False)
    assert document_match("germani") == ("germa", False)
    assert document_match("рас") == ("рас", True)
    assert named_in(tokenize("Расія і Беларусь", "be"), frozenset({"RU"}))
    assert not named_in(tokenize("Расследование продолжается", "ru"), frozenset({"RU"}))
    title = tokenize("Rangers in the Belarusian part of the forest", "en")
    assert named_in(title, frozenset({"BY"}))
    assert named_in(tokenize("Чума в Египте", "ru"), frozenset({"EG"}))
    assert named_in(tokenize("East German ministers", "en"), frozenset({"DE"}))
    assert not named_in(title, frozenset({"VE", "PL"}))


def test_the_lexical_index_finds_the_passages_that_name_a_country() -> None:
    index = LexicalIndex.build(
        [
            (1, "Fifty-two people were expelled to Lithuania.", "en"),
            (2, "Сярод іх былі грамадзяне Літвы.", "be"),
            (3, "The Lithuanian border guards met them.", "en"),
            (4, "The list held 1,080 names.", "en"),
        ]
    )
    lithuania = index.mentioning(names_of("LT"), match=document_match)
    assert lithuania.tolist() == [1, 2, 3]
    # Asked again: the same, from the cache.
    assert index.mentioning(names_of("LT"), match=document_match) is lithuania
    assert index.mentioning(names_of("VE"), match=document_match).tolist() == []
    # Every word of a name: "United States" is not named by "united" alone.
    assert index.mentioning([("unit", "state")], match=document_match).tolist() == []
