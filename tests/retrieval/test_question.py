"""What a question asks for: the kind of answer (a count, a date) in the three languages."""

from __future__ import annotations

import pytest

from retrieval.question import AnswerType, analyse


@pytest.mark.parametrize(
    "text",
    [
        "How many political prisoners remain?",
        "What is the latest count of political prisoners in Belarus?",
        "what is the number of political prisoners",
        "What was the liquidation count at the end of summer 2025?",
        "What's the latest prisoner tally?",
        "Сколько политзаключённых в Беларуси?",
        "Какая последняя цифра по политзаключённым?",
        "Колькі палітвязняў у Беларусі?",
        "Якая апошняя лічба палітвязняў?",
        "колькi зараз палiтвязняу",  # Latin i, typed on a Russian keyboard
        # A count word typed in a hurry: one edit away.
        "whats the latest numbr of emigres facing trials in absentia",
        "nubmer of political prisoners now",
        "сколко политзаключенных сейчас",
        "Кольки палітвязняў у Беларусі?",
        # A quantity compared with a number: the count is the answer.
        "Are there still more than a thousand political prisoners?",
        "Were over 300 freed in 2025?",
        "Правда ли, что политзаключённых больше тысячи?",
        "Ці дагэтуль у Беларусі больш за тысячу палітвязняў?",
        # A length of time or a prison term is a count of days or years.
        "How long did the editor's hunger strike last?",
        "What sentence did the photographer get in 2024?",
        "Какой срок получила операторка?",
        "К какому сроку приговорили историка?",
        "Как долго он голодал?",
        "Як доўга шахцёр адмаўляўся ад ежы?",
        "На які тэрмін асудзілі журналіста?",
        # A punishment or a fine is a term or an amount; a size or an age is a count.
        "What punishment did the former union boss receive?",
        "Какое наказание светит за членство в запрещённой организации?",
        "Які штраф атрымаў пастар?",
        "What was Kastus Liaskovich sentenced to in absentia?",
        "how big was the crowd at the festival",
        "How old was Manning when he played in Super Bowl 50?",
        # By how much a thing is bigger or has changed.
        "Наколькі спіс ініцыятывы большы за спіс маніторынгу?",
        "Насколько кислород-18 тяжелее кислорода-16?",
        "Насколько глобальная средняя температура нижнего слоя атмосферы изменилась?",
    ],
)
def test_a_count_is_asked_for_by_how_many_and_by_the_nouns_of_counting(text: str) -> None:
    assert analyse(text).answer_type is AnswerType.COUNT


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("When was Bialiatski arrested?", AnswerType.DATE),
        ("Калі арыштавалі Бяляцкага?", AnswerType.DATE),
        ("Who is the key figure behind the protests?", AnswerType.OTHER),
        ("What did the Americans offer Minsk in return?", AnswerType.OTHER),
        ("Что известно о деле журналиста?", AnswerType.OTHER),
        ("Почему у второй инициативы цифра выше, чем у «Фонаря»?", AnswerType.OTHER),
        ("Why is the number of prisoners falling?", AnswerType.OTHER),
        ("Чаму лічба палітвязняў змяншаецца?", AnswerType.OTHER),
        ("What did the more than 50 freed say?", AnswerType.OTHER),
        ("What happened to the opposition over 2025?", AnswerType.OTHER),
        ("Is he still held?", AnswerType.OTHER),
        ("Why did the strike last so long?", AnswerType.OTHER),
        ("What sentenced him to silence was fear.", AnswerType.OTHER),
        ("Какой срочный ремонт нужен?", AnswerType.OTHER),
        # Two edits from a count word is another word: "to what extent", "several".
        ("Насколько были распространены телесные наказания?", AnswerType.OTHER),
        ("Какая роль превращает его в несколько спорную идею?", AnswerType.OTHER),
        ("Наколькі важная для дыяспары гэтая справа?", AnswerType.OTHER),
        # A noun of counting asks for the count only when the count is what is asked for.
        ("What does the count include?", AnswerType.OTHER),
        ("Who did the count?", AnswerType.OTHER),
    ],
)
def test_other_questions_are_not_counts(text: str, kind: AnswerType) -> None:
    assert analyse(text).answer_type is kind


def test_interrogatives_are_not_part_of_the_lexical_query() -> None:
    words = [t.word for t in analyse("How many political prisoners remain?").terms]
    assert "how" not in words and "many" not in words
    assert "prisoners" in words
    # "what's" typed without its apostrophe is an interrogative too.
    words = [t.word for t in analyse("whats the latest count of political prisoners").terms]
    assert "whats" not in words and "prisoners" in words


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("How many women are still held as political prisoners in Belarus?", ("women",)),
        # "people" names nothing: it is what every count of the corpus counts.
        ("how many disabled people are among the prisoners", ("disabl",)),
        ("how many people with disabilities are held?", ("disabl",)),
        ("how many people are still held?", ()),
        ("How many political prisoners were freed in 2025?", ("polit", "prison")),
        ("Сколько журналистов сейчас за решёткой?", ("журналист",)),
        ("колькi зараз палiтвязняў", ("палитвязня",)),  # "now" is not what is counted
        ("What did the Americans offer Minsk?", ()),
        # A noun of counting counts the words before it.
        ("What was the liquidation count at the end of summer 2025?", ("liquid",)),
        ("What is the latest political prisoner tally?", ("polit", "prison")),
        # What a length of time counts is time, not the words after the cue.
        ("How long did the potash union leader's hunger strike last?", ()),
        ("Какой срок получила операторка Алена Богданова?", ()),
        # Belarusian prepositions, forms of "to be" and years count nothing.
        ("Колькі было палітвязняў на пачатку 2024 года?", ("палитвязня",)),
        ("Колькі жанчын цяпер сярод палітвязняў?", ("жанчын",)),
        ("Колькі людзей застаецца за кратамі па палітычных матывах?", ()),
        ("Як змянялася колькасць палітвязняў у 2026 годзе?", ("палитвязня",)),
    ],
)
def test_a_count_question_says_what_it_counts(text: str, counted: tuple[str, ...]) -> None:
    assert analyse(text).counted == counted


@pytest.mark.parametrize(
    ("text", "focus"),
    [
        # A clause that sets the scene, before or after the one that asks.
        (
            "With the diaspora packing concert halls in Warsaw, how many Belarusians abroad "
            "are still being tried in absentia?",
            "how many Belarusians abroad are still being tried in absentia",
        ),
        (
            "How many NGOs have been liquidated in Belarus now, with exiled groups meeting in "
            "Vilnius?",
            "How many NGOs have been liquidated in Belarus now",
        ),
        (
            "How many journalists does Belarus hold now, while exiled channels open studios?",
            "How many journalists does Belarus hold now",
        ),
        (
            "Сколько политзаключённых остаётся в Беларуси, пока в Литве спорят о транзите, "
            "который закрыли в 2022 году?",
            "Сколько политзаключённых остаётся в Беларуси",
        ),
        (
            "Колькі палітвязняў застаецца ў краіне, пакуль вырашаецца лёс санкцый на калій?",
            "Колькі палітвязняў застаецца ў краіне",
        ),
        # English sets off by a comma only a relative clause that adds something.
        (
            "How many people are still in Belarusian prisons for political reasons, the ones "
            "the diaspora writes postcards to?",
            "How many people are still in Belarusian prisons for political reasons",
        ),
        (
            "What happened to the lawyer Savich, who helped families send parcels?",
            "What happened to the lawyer Savich",
        ),
        # Only the scene goes: a relative clause says which one is meant.
        (
            "Скажите, сколько людей, которых держат за политику, пока в Литве спорят о калии?",
            "Скажите, сколько людей, которых держат за политику",
        ),
    ],
)
def test_a_clause_that_sets_the_scene_is_set_aside(text: str, focus: str) -> None:
    assert analyse(text).focus == focus


@pytest.mark.parametrize(
    "text",
    [
        "How many political prisoners remain in Belarus?",
        # Clauses that narrow what is asked: when, where, which one, compared with what.
        "How old was Manning when he played in Super Bowl 50?",
        "Сколько лет было Мэннингу, когда он играл в Суперкубке 50?",
        "Колькі журналістаў у турмах цяпер, калі параўнаць з леташнім?",
        "In a steam turbine, what are rotors mounted on?",
        "Currently, how many Belarusians are behind bars for political reasons?",
        "Колькі супрацоўнікаў у тэлеканала, які адкрыў студыю ў Варшаве?",
        "Почему у второй инициативы цифра выше, чем у «Фонаря»?",
        # A Russian or Belarusian relative clause takes a comma and says which one is meant.
        "Сколько сейчас сидит людей, которым белорусы в эмиграции пишут открытки?",
        "Колькі зараз зняволеных па палітычных справах, каму пішуць паштоўкі?",
        # An English relative clause without a comma says which one is meant; after one, a
        # clause that asks itself, or a fronted phrase before the question, stays.
        "How many of the people who were expelled to Lithuania had no passports?",
        "How many journalists are held, of whom how many are women?",
        "In the US, who decides on the requirements for teachers?",
        "Is the number of charities in Belarus still growing, and where does it stand?",
        # What is left would not ask anything.
        "How many, while the talks go on?",
        "With sanctions back on the table, the prisoners",
    ],
)
def test_a_question_without_a_scene_of_its_own_has_no_separate_focus(text: str) -> None:
    assert analyse(text).focus is None
