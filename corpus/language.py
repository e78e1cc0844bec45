"""Language detection for documents and questions (lingua, limited to the languages we expect)."""

from __future__ import annotations

import re
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

#: Languages the detector chooses among. A small set keeps it fast and accurate on short questions;
#: anything else is reported as the closest of these (it only affects stemming and fusion).
SUPPORTED = (
    Language.ENGLISH,
    Language.RUSSIAN,
    Language.BELARUSIAN,
    Language.UKRAINIAN,
    Language.POLISH,
    Language.LITHUANIAN,
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
)

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
# Letters that exist in Belarusian but not in Russian; ў exists in no other Cyrillic language we
# serve, and і together with Russian-only letters (ы, э) rules out Ukrainian.
_BE_ONLY = re.compile(r"[ўЎ]")
_I = re.compile(r"[іІ]")
_RU_BE_SHARED = re.compile(r"[ыЫэЭёЁ]")
_UK_ONLY = re.compile(r"[їЇєЄґҐ]")

#: Below this confidence a short Latin-script text (a name, a figure) is taken as the default.
MIN_CONFIDENCE = 0.5

_lock = threading.Lock()
_built: list[LanguageDetector] = []


def _detector() -> LanguageDetector:
    # Built lazily and once: building takes about a second and most commands never need it.
    with _lock:
        if not _built:
            _built.append(LanguageDetectorBuilder.from_languages(*SUPPORTED).build())
        return _built[0]


def detect_language(text: str, *, default: str = "en") -> str:
    """Return the ISO 639-1 code of ``text``'s language, or ``default`` when it cannot be told.

    Belarusian is decided by its own letters first: lingua alone sometimes calls short Belarusian
    questions Russian or Ukrainian, and a wrong stemmer costs more than a wrong guess elsewhere.
    """
    sample = text[:4000]
    cyrillic = len(_CYRILLIC.findall(sample))
    latin = len(_LATIN.findall(sample))
    if cyrillic == 0 and latin == 0:
        return default
    if cyrillic > latin:
        if _BE_ONLY.search(sample) or (_I.search(sample) and _RU_BE_SHARED.search(sample)):
            return "be"
        if _UK_ONLY.search(sample):
            return "uk"
    confidences = _detector().compute_language_confidence_values(sample)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return default
    return confidences[0].language.iso_code_639_1.name.lower()
