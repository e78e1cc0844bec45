"""Every refusal can be said in each interface language, with the same details as in English."""

from __future__ import annotations

import json
import string
from importlib import resources

import pytest

from bot.i18n import LANGUAGES, reason
from corpus.errors import REASONS, DocumentError, FetchError


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_reason_is_translated_with_the_same_details(language: str) -> None:
    catalogue = json.loads(
        resources.files("bot").joinpath("locales", f"{language}.json").read_text("utf-8")
    )
    for code, english in REASONS.items():
        translated = catalogue.get(f"reason_{code}")
        assert translated, f"{language} has no reason_{code}"
        assert _fields(translated) == _fields(english), code
    # No translation of a reason that no longer exists.
    stale = {k for k in catalogue if k.startswith("reason_")} - {f"reason_{c}" for c in REASONS}
    assert stale == set()


def test_a_reason_is_said_in_the_users_language_and_english_otherwise() -> None:
    error = FetchError.because("deadline", seconds="30")
    assert reason("en", error) == "the download took longer than 30 s"
    assert reason("ru", error) == "загрузка заняла больше 30 с"
    assert reason("be", error) == "загрузка заняла больш за 30 с"
    assert reason("uk", error) == "the download took longer than 30 s"
    document = DocumentError("a.md", "missing", missing=("published",), fields="published")
    assert reason("ru", document) == "не хватает обязательных метаданных: published"
    assert str(document) == "a.md: missing required metadata: published"
