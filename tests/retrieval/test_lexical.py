"""BM25 tokens: figures and names findable exactly, stemming per language."""

from __future__ import annotations

from retrieval.lexical import LexicalIndex, tokenize


def test_figures_are_one_token_however_they_are_written() -> None:
    for text in ("1,200 prisoners", "1 200 prisoners", "1\u00a0200 prisoners", "1200 prisoners"):
        assert tokenize(text, "en")[0] == "1200", text
    assert "3.5" in tokenize("inflation of 3,5 percent", "ru")


def test_words_are_stemmed_per_language() -> None:
    assert tokenize("prisoners remain", "en") == ["prison", "remain"]
    assert tokenize("политзаключённых осталось", "ru")[0].startswith("политзаключ")


def test_exact_names_and_figures_are_found() -> None:
    index = LexicalIndex.build(
        [
            (1, "Nobel laureate Ales Bialiatski remains in prison.", "en"),
            (2, "The government holds approximately 1,200 political prisoners.", "en"),
            (3, "Hundreds of prisoners were released.", "en"),
        ]
    )
    assert index.search(tokenize("Bialiatski", "en"), 3)[0][0] == 1
    assert index.search(tokenize("1200 political prisoners", "en"), 3)[0][0] == 2
    assert index.search(tokenize("unknownword", "en"), 3) == []
    assert index.idf("bialiatski") > index.idf("prison")


def test_unknown_words_are_those_no_passage_has_in_any_script() -> None:
    index = LexicalIndex.build(
        [
            (1, "Lawyer Maksim Savich was sentenced to six years.", "en"),
            (2, "Правозащитники насчитали 1 080 политзаключённых.", "ru"),
        ]
    )
    asked = tokenize("Сколько лет дали адвокату Савичу в Венесуэле?", "ru")
    unknown = index.unknown(asked)
    # The name is known in Latin letters; the country is nowhere.
    assert not any(t.startswith("савич") for t in unknown)
    assert any(t.startswith("венесуэл") for t in unknown)
    assert index.unknown(tokenize("политзаключённых 1080", "ru")) == []


def test_a_latin_i_typed_among_cyrillic_letters_is_the_belarusian_i() -> None:
    # "палiтвязняў" with a Latin i, as typed on a Russian keyboard, matches the word as printed.
    assert tokenize("палiтвязняў", "be") == tokenize("палітвязняў", "be")
    assert tokenize("колькi зараз палiтвязняў", "be")[-1] == tokenize("палітвязняў", "be")[0]
    # Latin words keep their i.
    assert tokenize("Minsk iPhone", "be") == ["minsk", "iphone"]
