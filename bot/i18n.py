"""Interface strings in English, Russian and Belarusian, chosen by the user's language code.

Passages are always quoted in their own language; only the interface is translated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources

from corpus.errors import CorpusError, DocumentError

LANGUAGES = ("en", "ru", "be")
DEFAULT = "en"


@cache
def _catalogue(language: str) -> dict[str, str]:
    text = resources.files("bot").joinpath("locales", f"{language}.json").read_text("utf-8")
    return json.loads(text)


def language_of(code: str | None) -> str:
    """Our interface language for a Telegram ``language_code`` ("be", "ru-RU", "en-US", None)."""
    if code:
        prefix = code.split("-")[0].lower()
        if prefix in LANGUAGES:
            return prefix
    return DEFAULT


def t(language: str, key: str, **values: object) -> str:
    """The string ``key`` in ``language`` (falling back to English), formatted with ``values``."""
    catalogue = _catalogue(language if language in LANGUAGES else DEFAULT)
    template = catalogue.get(key) or _catalogue(DEFAULT)[key]
    return template.format(**values) if values else template


def reason(language: str, error: CorpusError) -> str:
    """Why ``error`` refused something, in ``language``: the catalogue's ``reason_<code>``
    filled in from the error's params, else the error's own English (without a file name)."""
    english = error.problem if isinstance(error, DocumentError) else str(error)
    return explain(language, error.code, error.params, english)


def explain(language: str, code: str | None, params: Mapping[str, object], english: str) -> str:
    """A reason ``code`` in ``language``, or ``english`` where there is no translation."""
    if code is None or language not in LANGUAGES:
        return english
    template = _catalogue(language).get(f"reason_{code}")
    return template.format(**params) if template else english
