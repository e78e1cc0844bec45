"""Language detection for documents and questions.

Cyrillic text is decided by letters first (ў is only Belarusian; ї, є, ґ only Ukrainian; і is
Belarusian or Ukrainian, and и or щ tell Ukrainian), then by lingua restricted to Russian and
Belarusian; a Latin name inside a Russian question must not make it English. Text without
Cyrillic goes to lingua over the Latin-script languages we expect. Accuracy on short questions is
measured by bench/languages.py (README, Languages).
"""

from __future__ import annotations

import re
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_LATIN_LANGUAGES = (
    Language.ENGLISH,
    Language.POLISH,
    Language.LITHUANIAN,
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
)
_CYRILLIC_LANGUAGES = (Language.RUSSIAN, Language.BELARUSIAN)

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
# A Latin i typed inside a Cyrillic word (Russian keyboards have no і key) is a Belarusian і.
_LATIN_I = re.compile(r"(?<=[\u0400-\u04FF])[iI]|[iI](?=[\u0400-\u04FF])")

#: Below this confidence a short Latin-script text (a name, a figure) is taken as the default.
MIN_CONFIDENCE = 0.5

_lock = threading.Lock()
_built: dict[str, LanguageDetector] = {}


def _detector(kind: str) -> LanguageDetector:
    # Built lazily and once: most commands never detect anything.
    with _lock:
        if kind not in _built:
            languages = _CYRILLIC_LANGUAGES if kind == "cyrillic" else _LATIN_LANGUAGES
            _built[kind] = LanguageDetectorBuilder.from_languages(*languages).build()
        return _built[kind]


def normalise_belarusian(text: str) -> str:
    """Replace a Latin i typed inside Cyrillic words with the Belarusian і."""
    return _LATIN_I.sub(lambda m: "і" if m.group() == "i" else "І", text)


# Belarusian writes the non-syllabic ў after a vowel inside a word ("палітвязняў", "аўтар");
# a Russian keyboard has no ў, so "палітвязняу" is typed for it.
_U_AFTER_VOWEL = re.compile(r"(?<=[аеёіоуыэюяАЕЁІОУЫЭЮЯ])у")


def restore_short_u(text: str) -> str:
    """In Belarusian text, read a у after a vowel inside a word as ў (typed without the
    letter: "колькі палітвязняу" -> "колькі палітвязняў"). Only for text known to be
    Belarusian: Russian writes у after vowels ("науку")."""
    return _U_AFTER_VOWEL.sub("ў", text)


def _by_letters(text: str) -> str | None:
    lower = normalise_belarusian(text).lower()
    if "ў" in lower:
        return "be"
    if any(c in lower for c in "їєґ"):
        return "uk"
    if "і" in lower:
        # Belarusian has no и, щ; Ukrainian has no ы, э, ё.
        if any(c in lower for c in "ыэё") or not any(c in lower for c in "ищ"):
            return "be"
        return "uk"
    return None


def detect_language(text: str, *, default: str = "en", question: bool = False) -> str:
    """The ISO 639-1 code of ``text``'s language, or ``default`` when it cannot be told.

    For a ``question`` any text without Cyrillic is English, the only Latin-script language
    readers ask in: names in English questions fooled lingua into German or French 0.5% of the
    time on XQuAD ("Where was Friedrich Ratzel born?"), and a question is too short to tell.
    """
    sample = text[:4000]
    cyrillic = len(_CYRILLIC.findall(sample))
    if cyrillic:
        latin = len(_LATIN.findall(sample))
        # A mostly Latin text that quotes a Cyrillic name stays with the Latin detector.
        if cyrillic * 4 >= latin:
            decided = _by_letters(sample)
            if decided:
                return decided
            found = _detector("cyrillic").detect_language_of(sample)
            return found.iso_code_639_1.name.lower() if found else "ru"
    if question or not _LATIN.search(sample):
        return default
    confidences = _detector("latin").compute_language_confidence_values(sample)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return default
    return confidences[0].language.iso_code_639_1.name.lower()
