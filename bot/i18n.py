"""Interface strings in English, Russian and Belarusian, chosen by the user's language code.

Passages are always quoted in their own language; only the interface is translated.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

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
