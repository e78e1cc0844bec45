"""Belarusian typed on a Russian keyboard: what the keyboard lacks is read back."""

from __future__ import annotations

from corpus.language import normalise_belarusian, restore_short_u


def test_a_latin_i_inside_a_cyrillic_word_is_the_belarusian_letter() -> None:
    assert normalise_belarusian("колькi палiтвязняў") == "колькі палітвязняў"
    assert normalise_belarusian("Is Bialiatski free?") == "Is Bialiatski free?"


def test_a_u_after_a_vowel_inside_a_word_is_the_short_u() -> None:
    assert restore_short_u("колькі палітвязняу") == "колькі палітвязняў"
    assert restore_short_u("колькі беларусау атрымалі") == "колькі беларусаў атрымалі"
    # At the start of a word (the preposition, a word beginning with у) it stays.
    assert restore_short_u("жывуць у Літве і ўсё") == "жывуць у Літве і ўсё"
    assert restore_short_u("усе вязні") == "усе вязні"
