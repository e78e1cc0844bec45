"""Attribution: the source a sentence attributes its statement to, as written, or none."""

from __future__ import annotations

import pytest

from corpus.attribution import MAX_SOURCE_WORDS, attribution

FOUND = [
    (
        "en",
        "According to The Associated Press, 52 prisoners were freed on Thursday.",
        "The Associated Press",
    ),
    (
        "en",
        "The government still holds about 1,200 political prisoners, according to human rights "
        "organizations.",
        "human rights organizations",
    ),
    (
        "en",
        "The government holds 1,200 political prisoners, human rights organizations say.",
        "human rights organizations",
    ),
    ("en", "Viasna reported that 1,080 people remain behind bars.", "Viasna"),
    ("en", "The figures, citing Viasna, show a slow decline.", "Viasna"),
    (
        "en",
        "According to data from the Viasna human rights centre, 1,080 remain.",
        "the Viasna human rights centre",
    ),
    ("en", "The Associated Press reported the releases.", "The Associated Press"),
    (
        "en",
        "Some 1,080 people remain in prison, said Pavel Sapelka of Viasna.",
        "Pavel Sapelka of Viasna",
    ),
    (
        "en",
        "The number reported by the Lantern Human Rights Centre fell to 1,080.",
        "the Lantern Human Rights Centre",
    ),
    (
        "en",
        "Belarusian authorities said the prisoners had been pardoned.",
        "Belarusian authorities",
    ),
    (
        "en",
        "In October the monitor Viasna reported 1,110 political prisoners.",
        "the monitor Viasna",
    ),
    ("en", "According to Viasna's count, 1,080 remain.", "Viasna"),
    ("en", "Media Defence says it keeps to its own definition.", "Media Defence"),
    (
        "en",
        "The figure differs from the one published by the Prisoners' Voice group.",
        "the Prisoners' Voice group",
    ),
    (
        "en",
        "Lithuanian officials said the group would receive residence permits.",
        "Lithuanian officials",
    ),
    (
        "ru",
        "По данным правозащитного центра «Весна», в Беларуси 1 080 политзаключённых.",
        "правозащитного центра «Весна»",
    ),
    ("ru", "По данным «Весны», на 1 февраля политзаключёнными признаны 1 080 человек.", "«Весны»"),
    ("ru", "По информации «Вясны», в колониях остаются 1 080 человек.", "«Вясны»"),
    ("ru", "Как сообщает «Наша Ніва», задержаны ещё пять человек.", "«Наша Ніва»"),
    ("ru", "По словам Светланы Тихановской, освобождения продолжатся.", "Светланы Тихановской"),
    ("ru", "По данным правозащитников, политзаключённых стало меньше.", "правозащитников"),
    (
        "ru",
        "По данным Белорусской ассоциации журналистов, за решёткой 30 журналистов.",
        "Белорусской ассоциации журналистов",
    ),
    (
        "ru",
        "Правозащитный центр «Весна» сообщил, что в списке 1 080 человек.",
        "Правозащитный центр «Весна»",
    ),
    ("ru", "В списке 1 080 человек, сообщает «Весна».", "«Весна»"),
    ("ru", "Об этом сообщает «Весна».", "«Весна»"),
    ("ru", "Со ссылкой на «Весну» издание пишет о 1 080 политзаключённых.", "«Весну»"),
    ("be", "Паводле звестак «Вясны», у Беларусі 1 080 палітвязняў.", "«Вясны»"),
    (
        "be",
        "Па дадзеных праваабарончага цэнтра «Вясна», палітвязняў 1 080.",
        "праваабарончага цэнтра «Вясна»",
    ),
    ("be", "Як паведамляе «Наша Ніва», затрыманыя яшчэ пяць чалавек.", "«Наша Ніва»"),
    ("be", "Паводле праваабаронцаў, палітвязняў стала менш.", "праваабаронцаў"),
    (
        "be",
        "Праваабарончы цэнтр «Вясна» паведаміў, што ў спісе 1 080 чалавек.",
        "Праваабарончы цэнтр «Вясна»",
    ),
    ("be", "Пра гэта паведамляе «Вясна».", "«Вясна»"),
    ("be", "Па словах Святланы Ціханоўскай, вызваленні працягнуцца.", "Святланы Ціханоўскай"),
    ("be", "Паводле звестак «Вясны», палiтвязняў 1 080.", "«Вясны»"),
]

NONE = [
    ("en", "According to the law, prisoners must be released after serving their term."),
    ("en", "Media reports say more people were detained."),
    ("en", "He said 1,080 people remain in prison."),
    ("en", "The group said it had documented 1,080 cases."),
    ("en", "According to its own count, the ministry holds 30 people."),
    ("en", "Officials said the releases would continue."),
    ("en", "The report said the figures were preliminary."),
    ("en", "As of 1 February 2026, 1,080 people remained political prisoners."),
    ("en", "Lukashenko's government still holds approximately 1,200 political prisoners."),
    ("en", "Editors say their biggest problem is safety."),
    ("en", "Staff said the new studio felt like home."),
    ("en", "Lawyers in Minsk said courts had become stricter."),
    ("en", "Publishers who print in Lithuania and Poland said sales were up."),
    ("en", '"We will not stop," said a volunteer from a Vilnius-based group.'),
    ("en", '"They have paid a price for their reporting," said the editor of a Minsk-born outlet.'),
    ("ru", "По официальным данным, освобождено 52 человека."),
    ("ru", "По данным на 1 февраля, в списке 1 080 человек."),
    ("ru", "Он сообщил, что освобождения продолжатся."),
    ("ru", "По состоянию на 15 августа 2025 года в Беларуси 1 180 политзаключённых."),
    ("be", "Паводле закону, вязняў трэба вызваліць."),
    ("be", "Паводле афіцыйных звестак, вызвалена 52 чалавекі."),
    ("be", "Ён паведаміў, што вызваленні працягнуцца."),
    ("be", "На 1 снежня 2025 года ў Беларусі 1 110 палітвязняў."),
    ("be", "Журы адзначыла дакладную мову рамана."),
]


@pytest.mark.parametrize(("language", "sentence", "source"), FOUND)
def test_attribution_names_the_source_as_written(language: str, sentence: str, source: str) -> None:
    assert attribution(sentence, language=language) == source


@pytest.mark.parametrize(("language", "sentence"), NONE)
def test_no_attribution_rather_than_a_wrong_one(language: str, sentence: str) -> None:
    assert attribution(sentence, language=language) is None


def test_sources_are_bounded() -> None:
    long_name = " ".join(["Very"] * 30) + " Centre"
    found = attribution(f"According to {long_name}, 1,080 remain.", language="en")
    assert found is not None and len(found.split()) <= MAX_SOURCE_WORDS


def test_other_languages_get_none() -> None:
    assert attribution("Згідно з даними «Вясни», 1 080 в'язнів.", language="uk") is None
