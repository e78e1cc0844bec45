"""Dictionary query translation for Russian and Belarusian questions over English passages.

The glossary (``corpus/glossary.yaml``, curated with the corpus) maps word beginnings to English
terms. It only adds English search terms; passages are never translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from corpus.language import normalise_belarusian

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
#: Shorter single-word entries must match a whole word ("суд" is not "судьба").
_MIN_PREFIX = 4


@dataclass(frozen=True, slots=True)
class Glossary:
    """English terms keyed by Russian/Belarusian word beginnings and phrases."""

    words: tuple[tuple[str, str], ...]
    phrases: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Glossary:
        """Read the YAML mapping ``english: [beginnings...]``."""
        data = yaml.safe_load(text) or {}
        words, phrases = [], []
        for english, forms in data.items():
            for form in forms or ():
                form = str(form).lower().replace("ё", "е")
                (phrases if " " in form else words).append((form, str(english)))
        return cls(words=tuple(words), phrases=tuple(phrases))

    def translate(self, question: str) -> list[str]:
        """The English terms for what the question says, in order, without repeats."""
        return self.match(question)[0]

    def match(self, question: str) -> tuple[list[str], set[str]]:
        """The English terms, and which (lower-cased) words of the question they came from."""
        text = normalise_belarusian(question).lower().replace("ё", "е")
        found: list[str] = []
        matched: set[str] = set()
        for phrase, english in self.phrases:
            if phrase in text:
                found.append(english)
                matched.update(phrase.split())
        for word in _WORD.findall(text):
            for form, english in self.words:
                if word == form or (len(form) >= _MIN_PREFIX and word.startswith(form)):
                    found.append(english)
                    matched.add(word)
        return list(dict.fromkeys(found)), matched


@cache
def default_glossary() -> Glossary:
    """The glossary shipped with the corpus."""
    return Glossary.parse(
        resources.files("corpus").joinpath("glossary.yaml").read_text(encoding="utf-8")
    )
