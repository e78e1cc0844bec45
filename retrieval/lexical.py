"""BM25 over the passages (bm25s), with per-language stemming and number-aware tokens.

Figures must be findable exactly: "1,200", "1 200" and "1200" are one token, so a question that
names a figure finds the passage that states it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import bm25s
import numpy as np
import Stemmer
from anyascii import anyascii
from bm25s import stopwords as bm25_stopwords

from corpus.language import normalise_belarusian

# bm25s sets its own logger to DEBUG when imported, so every index build printed "Building
# index from tokens" through whatever handler the host has; its warnings still show.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Thousands groups ("1,200", "1 200", "1.200"), decimals, or plain digits.
_TOKEN = re.compile(
    r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?![\d])|\d+(?:[.,]\d+)?|[^\W\d_]+", re.UNICODE
)
_GROUP_SEPARATORS = re.compile(r"[,.\u00a0\u202f ](?=\d{3}(?!\d))")

_STEMMERS = {
    "en": "english",
    "ru": "russian",
    # Belarusian has no Snowball stemmer. After mapping its own letters to Russian look-alikes
    # the Russian stemmer conflates 56% of same-word form pairs with no false merges, against
    # 39% unmapped and 0.2% unstemmed (hand-written word forms; README, Languages).
    "be": "russian",
    "uk": "russian",
    "pl": "polish",
    "lt": "lithuanian",
    "de": "german",
    "fr": "french",
    "es": "spanish",
}

_STOPWORDS = {
    "en": set(bm25_stopwords.STOPWORDS_EN_PLUS),
    "ru": set(bm25_stopwords.STOPWORDS_RUSSIAN),
    "de": set(bm25_stopwords.STOPWORDS_GERMAN),
    "fr": set(bm25_stopwords.STOPWORDS_FRENCH),
    "es": set(bm25_stopwords.STOPWORDS_SPANISH),
}

_stemmer_lock = threading.Lock()
#: Countries whose passages ``LexicalIndex.mentioning`` keeps (each an array of passage ids).
_MENTIONS_CACHE = 64
_BE_TO_RU = str.maketrans({"і": "и", "ў": "в", "'": "ъ", "’": "ъ"})


@lru_cache(maxsize=16)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMERS.get(language, "english"))


class Term(NamedTuple):
    """A token as written (lower-cased) and as indexed (stemmed, or a normalised number)."""

    word: str
    stem: str


def terms(text: str, language: str) -> list[Term]:
    """The words and numbers of ``text`` with their index forms; stop words dropped."""
    stop = _STOPWORDS.get(language, set())
    words: list[str] = []
    # "палiтвязняў" typed on a Russian keyboard: a Latin i among Cyrillic letters is the
    # Belarusian and Ukrainian і.
    for match in _TOKEN.finditer(normalise_belarusian(text).lower()):
        token = match.group()
        if token[0].isdigit():
            words.append(_GROUP_SEPARATORS.sub("", token).replace(",", "."))
        elif len(token) > 1 and token not in stop:
            words.append(token)
    stemmer = _stemmer(language)
    mapped = [w.translate(_BE_TO_RU) for w in words] if language == "be" else words
    # PyStemmer objects are not thread-safe.
    with _stemmer_lock:
        return [
            Term(w, w if w[0].isdigit() else stemmer.stemWord(m))
            for w, m in zip(words, mapped, strict=True)
        ]


def tokenize(text: str, language: str) -> list[str]:
    """Lower-cased, stemmed word tokens and normalised numbers; stop words dropped."""
    return [t.stem for t in terms(text, language)]


#: Letters of two transliterated words that must agree for them to count as one name: enough
#: to tell names apart, few enough to ignore case endings (savichu / savich, lukashenk / o).
_SHARED_PREFIX = 5


def _latin_prefix(token: str) -> str:
    """The start of a token in Latin letters (anyascii: Ціханоўская -> tsikhanouskaya)."""
    return anyascii(token)[:_SHARED_PREFIX]


class LexicalIndex:
    """BM25 over passages; ``ids[i]`` is the passage id of document ``i``."""

    def __init__(self, *, bm25: bm25s.BM25, ids: np.ndarray, languages: np.ndarray) -> None:
        self._bm25 = bm25
        self.ids = ids
        self._language = dict(zip(ids.tolist(), languages.tolist(), strict=True))
        self._rows: dict[int, int] | None = None
        self._vocab: dict[str, int] = bm25.vocab_dict
        # The vocabulary in Latin letters, for names spelled in another script (built lazily).
        self._latin: frozenset[str] | None = None
        self._counts: dict[str, int] | None = None
        # bm25s keeps scores column-major by token: the column lengths are document frequencies.
        scores = getattr(bm25, "scores", None) or {}
        self._df_indptr = np.asarray(scores.get("indptr", np.zeros(1)), dtype=np.int64)
        self._postings = np.asarray(scores.get("indices", np.zeros(0)), dtype=np.int64)
        # Passages that name a country, by its names (``mentioning``).
        self._mentions: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self._mentions_lock = threading.Lock()

    @classmethod
    def build(cls, passages: Sequence[tuple[int, str, str]]) -> LexicalIndex:
        """Index ``(passage id, text, language)`` triples."""
        bm25 = bm25s.BM25()
        tokens = [tokenize(text, language) for _, text, language in passages]
        if passages:
            bm25.index(tokens, show_progress=False)
        else:
            bm25.vocab_dict = {}
        ids = np.array([pid for pid, _, _ in passages], dtype=np.int64)
        languages = np.array([language for _, _, language in passages], dtype="<U8")
        return cls(bm25=bm25, ids=ids, languages=languages)

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (the caller makes the folder durable and atomic)."""
        folder.mkdir(parents=True, exist_ok=True)
        if len(self.ids):
            self._bm25.save(str(folder / "bm25"))
        np.save(folder / "bm25_ids.npy", self.ids)
        np.save(folder / "languages.npy", np.array(list(self._language.values()), dtype="<U8"))
        (folder / "bm25.json").write_text(json.dumps({"count": len(self.ids)}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read an index written by ``save``."""
        ids = np.load(folder / "bm25_ids.npy")
        languages = np.load(folder / "languages.npy")
        if len(ids):
            bm25 = bm25s.BM25.load(str(folder / "bm25"))
        else:
            bm25 = bm25s.BM25()
            bm25.vocab_dict = {}
        return cls(bm25=bm25, ids=ids, languages=languages)

    def languages(self) -> set[str]:
        """The languages of this build's passages."""
        return set(self._language.values())

    def passages_in(self, language: str) -> int:
        """How many of this build's passages are in ``language``."""
        if self._counts is None:
            counts: dict[str, int] = {}
            for value in self._language.values():
                counts[value] = counts.get(value, 0) + 1
            self._counts = counts
        return self._counts.get(language, 0)

    def language_of(self, passage_id: int) -> str:
        """The language of a passage of this build ("en" if unknown)."""
        return self._language.get(passage_id, "en")

    def idf(self, stem: str) -> float:
        """Inverse document frequency of an indexed token (as rare as can be when unknown)."""
        token_id = self._vocab.get(stem)
        df = 0
        if token_id is not None and token_id + 1 < len(self._df_indptr):
            df = int(self._df_indptr[token_id + 1] - self._df_indptr[token_id])
        n = len(self.ids)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def unknown(self, tokens: Sequence[str]) -> list[str]:
        """The word tokens (numbers aside) that no indexed passage has, in any script: a name
        written in Cyrillic in the question and in Latin letters in a passage (Савічу, Savich)
        is known (their transliterations share their first ``_SHARED_PREFIX`` letters)."""
        if self._latin is None:
            self._latin = frozenset(_latin_prefix(t) for t in self._vocab)
        return [
            t
            for t in tokens
            if not t[0].isdigit() and t not in self._vocab and _latin_prefix(t) not in self._latin
        ]

    def mentioning(
        self, names: Sequence[tuple[str, ...]], *, match: Callable[[str], tuple[str, bool]]
    ) -> np.ndarray:
        """The ids (sorted) of the passages that have every word of one of these names
        (stemmed tokens); ``match(stem)`` says which tokens are the word: those that start
        with a prefix (the stem's first letters: "german" and "germani", "египт" and "египет"
        are one name), or that are exactly it. Cached: a few countries are asked about again
        and again."""
        key = (tuple(names), match)
        with self._mentions_lock:
            found = self._mentions.get(key)
            if found is not None:
                self._mentions.move_to_end(key)
                return found
        rows: list[np.ndarray] = []
        for name in names:
            having: np.ndarray | None = None
            for stem in name:
                positions = self._having(*match(stem))
                having = positions if having is None else np.intersect1d(having, positions)
                if not len(having):
                    break
            if having is not None:
                rows.append(having)
        found = np.unique(self.ids[np.concatenate(rows)]) if rows else np.zeros(0, np.int64)
        with self._mentions_lock:
            self._mentions[key] = found
            while len(self._mentions) > _MENTIONS_CACHE:
                self._mentions.popitem(last=False)
        return found

    def _having(self, start: str, exact: bool) -> np.ndarray:
        """The positions (sorted) of the passages with the token ``start`` or (not ``exact``)
        a token that starts with it."""
        if exact:
            tokens = [self._vocab[start]] if start in self._vocab else []
        else:
            tokens = [i for t, i in self._vocab.items() if t.startswith(start)]
        positions = [
            self._postings[self._df_indptr[t] : self._df_indptr[t + 1]]
            for t in tokens
            if t + 1 < len(self._df_indptr)
        ]
        return np.unique(np.concatenate(positions)) if positions else np.zeros(0, np.int64)

    def scores(self, tokens: Sequence[str], passage_ids: Sequence[int]) -> dict[int, float]:
        """BM25 scores of these passages (for candidates found by other channels)."""
        known = [t for t in tokens if t in self._vocab]
        if not known or not len(self.ids) or not passage_ids:
            return {}
        scores = self._bm25.get_scores(known)
        row = {int(pid): i for i, pid in enumerate(self.ids)} if self._rows is None else self._rows
        self._rows = row
        return {pid: float(scores[row[pid]]) for pid in passage_ids if pid in row}

    def search(self, tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best ``(passage id, BM25 score)`` for the query tokens, best first."""
        known = [t for t in tokens if t in self._vocab]
        if not known or not len(self.ids):
            return []
        scores = self._bm25.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self.ids[i]), float(scores[i])) for i in top if scores[i] > 0]
