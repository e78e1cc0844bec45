"""The read side: from a question to ranked, highlighted, cited passages.

A ``Retriever`` owns the indexes of one published build and never changes; ``Library`` holds the
current one and swaps it whole when a newer build is published, so a question in flight always
finishes on the build it started with.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus.models import Answer, Hit, Passage
from corpus.store import Store
from retrieval.config import CROSSLINGUAL, PRIMARY, RetrievalConfig
from retrieval.dense import DenseIndex, SentenceVectors
from retrieval.encoders import Encoder
from retrieval.errors import IndexMissing, QuestionRejected
from retrieval.fusion import LEXICAL, fuse, minmax, top
from retrieval.highlight import (
    SentenceScorer,
    SentenceScores,
    SentenceTerms,
    SentenceWeights,
    highlight_span,
    sentence_terms,
)
from retrieval.index_files import IndexFiles, Lease, Manifest
from retrieval.lexical import LexicalIndex
from retrieval.question import Question, analyse, in_english

_TERMS_CACHE = 20_000
#: A question is answered when one of this many best passages clears its bar.
ANSWER_DEPTH = 3
#: Once an answer is confident, its other passages are shown down to this share of the bar.
_SHOWN = 0.8
#: The probe of the English model reading the glossary translation of a question.
TRANSLATED = "translated"


@dataclass(frozen=True, slots=True)
class PairWeights:
    """How much each channel counts for one (question language, passage language) pair."""

    dense: float
    crosslingual: float
    lexical: float


@dataclass(frozen=True, slots=True)
class Ranking:
    """The weights of the two ranking stages (chosen on XQuAD; see README, How answers are
    chosen). Which channels count depends on the languages of the question and the passage:
    the English model is noise across languages, BM25 is nothing across them."""

    #: English question, English passage: MiniLM and BM25 (the cross-lingual channel adds
    #: nothing measurable here and would cost English quality).
    english: PairWeights = PairWeights(dense=0.5, crosslingual=0.0, lexical=0.5)
    #: Same language other than English (Russian question, Russian passage).
    same_language: PairWeights = PairWeights(dense=0.0, crosslingual=0.3, lexical=0.7)
    #: Different languages (Russian question, English passage).
    cross_language: PairWeights = PairWeights(dense=0.0, crosslingual=0.6, lexical=0.4)
    #: The same, when the glossary translated the question: the English model reads the
    #: translation, BM25 matches it.
    translated: PairWeights = PairWeights(dense=0.35, crosslingual=0.35, lexical=0.3)
    #: How many stage-1 candidates stage 2 rescores sentence by sentence.
    rerank: int = 20
    #: Stage 2: passage-level evidence added to the best sentence's score.
    dense: float = 0.25
    lexical: float = 0.25
    sentences: SentenceWeights = field(default_factory=SentenceWeights)

    @staticmethod
    def kind(question: str, passage: str) -> str:
        """english, same_language or cross_language: how a question relates to a passage."""
        if question != passage:
            return "cross_language"
        return "english" if question == "en" else "same_language"

    def weights(
        self, question: str, passage: str, probes: Collection[str], *, translated: float = 0.0
    ) -> dict[str, float]:
        """Weights of each probe (see ``Retriever.search``) for a question and passage language.

        ``translated`` is the share of the question the glossary translated: a cross-language
        pair moves from the cross-language weights towards the translated ones as far as the
        translation covers the question.
        """
        kind = self.kind(question, passage)
        pair = getattr(self, kind)
        weights = {PRIMARY: pair.dense, CROSSLINGUAL: pair.crosslingual, LEXICAL: pair.lexical}
        if kind == "cross_language" and TRANSLATED in probes and passage == "en":
            t = self.translated
            weights = {
                PRIMARY: 0.0,
                TRANSLATED: translated * t.dense,
                CROSSLINGUAL: translated * t.crosslingual + (1 - translated) * pair.crosslingual,
                LEXICAL: translated * t.lexical + (1 - translated) * pair.lexical,
            }
        if CROSSLINGUAL not in probes:
            # Without a cross-lingual model the primary one does its share.
            weights[PRIMARY] = weights.get(PRIMARY, 0.0) + weights.pop(CROSSLINGUAL)
        return weights


@dataclass(frozen=True, slots=True)
class Channel:
    """One dense channel of a build: its encoder, passage index and sentence vectors."""

    encoder: Encoder
    dense: DenseIndex
    sentences: SentenceVectors


def clean_question(text: str, *, limit: int) -> str:
    """Collapse whitespace and cut an over-long question at a word boundary."""
    text = " ".join(text.split())
    if not text:
        raise QuestionRejected("the question is empty")
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit]
    return text


class Retriever:
    """Answers questions from one published index build."""

    def __init__(
        self,
        *,
        config: RetrievalConfig,
        store: Store,
        manifest: Manifest,
        channels: Mapping[str, Channel],
        lexical: LexicalIndex,
        ranking: Ranking | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.manifest = manifest
        self.channels = dict(channels)
        self.lexical = lexical
        self.ranking = ranking or Ranking()
        self._terms_cache: OrderedDict[int, list[SentenceTerms]] = OrderedDict()
        self._terms_lock = threading.Lock()
        self._languages = lexical.languages() or {"en"}

    @property
    def dense(self) -> DenseIndex:
        """The primary channel's passage index."""
        return self.channels[PRIMARY].dense

    def _terms(self, passage: Passage) -> list[SentenceTerms]:
        """Sentence terms of a passage, cached: popular passages are asked about again and again."""
        with self._terms_lock:
            found = self._terms_cache.get(passage.id)
            if found is not None:
                self._terms_cache.move_to_end(passage.id)
                return found
        found = sentence_terms(passage)
        with self._terms_lock:
            self._terms_cache[passage.id] = found
            while len(self._terms_cache) > _TERMS_CACHE:
                self._terms_cache.popitem(last=False)
        return found

    @classmethod
    def load(
        cls, *, config: RetrievalConfig, store: Store, encoders: Mapping[str, Encoder]
    ) -> Retriever:
        """Load the published build; refuse one built with other models."""
        folder, manifest = IndexFiles(data_dir=config.data_dir).current()
        return cls.from_folder(folder, manifest, config=config, store=store, encoders=encoders)

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        manifest: Manifest,
        *,
        config: RetrievalConfig,
        store: Store,
        encoders: Mapping[str, Encoder],
    ) -> Retriever:
        """Load the build in ``folder``; a damaged build is ``IndexMissing``."""
        manifest.check(
            {name: e.name for name, e in encoders.items()},
            {name: e.dimension for name, e in encoders.items()},
        )
        try:
            channels = {
                name: Channel(
                    encoder=encoder,
                    dense=DenseIndex.load(folder, name),
                    sentences=SentenceVectors.load(folder, name),
                )
                for name, encoder in encoders.items()
            }
            lexical = LexicalIndex.load(folder)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexMissing(
                f"the index in {folder} is damaged ({exc}); run `citebot reindex`"
            ) from exc
        return cls(
            config=config, store=store, manifest=manifest, channels=channels, lexical=lexical
        )

    def search(self, question: str, *, k: int = 3) -> Answer:
        """The ``k`` best hits for ``question``, or ``answered=False`` if none is reliable."""
        text = clean_question(question, limit=self.config.max_question_chars)
        analysed = analyse(text)
        language = analysed.language
        r = self.ranking
        n = self.config.candidates
        english = in_english(analysed)
        # A probe is one dense search: a channel's index with a query vector. The glossary
        # translation of a Russian or Belarusian question is read by the English model.
        possible = {*self.channels, TRANSLATED} if english is not None else set(self.channels)
        # Encode only what can count for this question and these passages' languages: an
        # English question over English passages needs no cross-lingual vector.
        needed = {
            name
            for passage_language in self._languages
            for name, w in r.weights(
                language, passage_language, possible, translated=analysed.translated_share
            ).items()
            if w > 0
        }
        probes = {
            name: (channel, channel.encoder.encode_queries([text])[0])
            for name, channel in self.channels.items()
            if name in needed
        }
        if TRANSLATED in needed:
            primary = self.channels[PRIMARY]
            translation = primary.encoder.encode_queries([analysed.translation])[0]
            probes[TRANSLATED] = (primary, translation)
        scores: dict[str, dict[int, float]] = {
            name: dict(channel.dense.search(query, n)) for name, (channel, query) in probes.items()
        }
        lexical = dict(self.lexical.search(analysed.tokens, n))
        if english is not None:
            # Glossary terms find English passages; a passage keeps its better score.
            for pid, score in self.lexical.search(english.tokens, n):
                lexical[pid] = max(score, lexical.get(pid, 0.0))
        scores[LEXICAL] = lexical
        weights = {
            pid: {
                name: w
                for name, w in r.weights(
                    language,
                    self.lexical.language_of(pid),
                    possible,
                    translated=analysed.translated_share,
                ).items()
                if name in scores
            }
            for pid in set().union(*scores.values())
        }
        first = fuse(scores, weights)
        candidates = top(first, max(r.rerank, k))
        passages = self.store.passages(candidates)
        candidates = [c for c in candidates if c in passages]
        if not candidates:
            return Answer(question=text, answered=False, language=language)
        for name, (channel, query) in probes.items():
            missing = [c for c in candidates if c not in scores[name]]
            scores[name].update(channel.dense.scores(missing, query))
        # Candidates BM25 did not rank still have a BM25 score (often small, rarely zero).
        missing = [c for c in candidates if c not in lexical]
        lexical.update(self.lexical.scores(analysed.tokens, missing))
        normalised = {
            name: minmax({c: found.get(c, 0.0) for c in candidates})
            for name, found in scores.items()
        }
        cosines = []
        for pid in candidates:
            share = _dense_shares(weights[pid])
            cosines.append(
                sum(
                    (
                        share[name] * (probes[name][0].sentences.of(pid) @ probes[name][1])
                        for name in share
                        if share[name]
                    ),
                    np.zeros(len(passages[pid].sentence_texts()), dtype=np.float32),
                )
            )
        chosen_passages = [passages[pid] for pid in candidates]
        sentence_scores = self._score_sentences(analysed, english, chosen_passages, cosines)
        ranked: list[tuple[float, float, float, int, int]] = []
        for pid, found in zip(candidates, sentence_scores, strict=True):
            best = found.best
            share = _dense_shares(weights[pid])
            dense = sum(share[name] * normalised[name][pid] for name in share)
            final = (
                r.dense * dense + r.lexical * normalised[LEXICAL][pid] + float(found.total[best])
            )
            kind = r.kind(language, passages[pid].language)
            if kind == "cross_language" and weights[pid].get(TRANSLATED, 0.0) > 0.15:
                # With the glossary's words a cross-language match is judged like a
                # same-language one: shared terms, similarities on the same scale.
                kind = "same_language"
            threshold = self.config.threshold(kind)
            confidence = found.confidence(r.sentences)
            # Each pair kind's scores run on their own scale (the cross-lingual model's
            # similarities are lower); scaling by the calibrated bars lets an English question
            # find a Russian passage that clears its bar by more than an English one does.
            final *= self.config.min_confidence / threshold
            ranked.append((final, confidence, threshold, pid, best))
        ranked.sort(key=lambda row: (-row[0], row[3]))
        # Answered when one of the best k is confident enough; then the best k are shown in
        # ranking order, leaving out only those clearly below the bar.
        # Whether the question is answered does not depend on how many passages are asked for:
        # the chat (9), inline (30) and command line (3) must agree.
        answered = any(
            confidence >= threshold for _, confidence, threshold, _, _ in ranked[:ANSWER_DEPTH]
        )
        chosen = [row for row in ranked[:k] if row[1] >= _SHOWN * row[2]] if answered else []
        sources = self.store.sources_by_id(list({passages[pid].source_id for *_, pid, _ in chosen}))
        hits = tuple(
            Hit(
                passage=passages[pid],
                source=sources[passages[pid].source_id],
                score=round(final, 4),
                highlight=highlight_span(passages[pid], best),
                confidence=round(confidence, 4),
            )
            for final, confidence, _, pid, best in chosen
            if passages[pid].source_id in sources
        )
        return Answer(question=text, answered=bool(hits), hits=hits, language=language)

    def _score_sentences(
        self,
        question: Question,
        english: Question | None,
        passages: list[Passage],
        cosines: list[np.ndarray],
    ) -> list[SentenceScores]:
        """Sentence features; English passages of a translated question use its English terms."""
        word_vectors = self.channels[PRIMARY].encoder.word_vectors
        out: list[SentenceScores | None] = [None] * len(passages)
        groups: dict[bool, list[int]] = {True: [], False: []}
        for i, passage in enumerate(passages):
            groups[english is not None and passage.language == "en"].append(i)
        for translated, members in groups.items():
            if not members:
                continue
            asked = english if translated and english is not None else question
            scorer = SentenceScorer(
                question=asked,
                idf=self.lexical.idf,
                word_vectors=word_vectors,
                weights=self.ranking.sentences,
                coverage_scale=question.translated_share if translated else 1.0,
            )
            found = scorer.score(
                [passages[i] for i in members],
                [cosines[i] for i in members],
                [self._terms(passages[i]) for i in members],
                # Near-synonyms only for a question as written: glossary terms are bare keywords.
                [
                    not translated and asked.language == "en" and passages[i].language == "en"
                    for i in members
                ],
            )
            for i, scores in zip(members, found, strict=True):
                out[i] = scores
        return [s for s in out if s is not None]

    async def asearch(self, question: str, *, k: int = 3) -> Answer:
        """``search`` off the event loop (encoding and scoring are CPU-bound)."""
        return await asyncio.to_thread(self.search, question, k=k)


def _dense_shares(weights: Mapping[str, float]) -> dict[str, float]:
    """The dense channels' weights scaled to sum to one (for sentence similarity)."""
    dense = {name: w for name, w in weights.items() if name != LEXICAL}
    total = sum(dense.values())
    return {name: w / total for name, w in dense.items()} if total else dense


class Library:
    """The current ``Retriever`` of a data directory, swapped when a new build is published.

    Each build in use is leased (``IndexFiles.lease_current``) until it is swapped out and the
    last search on it has finished, so an old build is deleted as soon as no question uses it.
    """

    def __init__(
        self, *, config: RetrievalConfig, store: Store, encoders: Mapping[str, Encoder]
    ) -> None:
        self.config = config
        self.store = store
        self.encoders = dict(encoders)
        self.files = IndexFiles(data_dir=config.data_dir)
        self._lock = threading.Lock()
        # Guards the swap and the count of searches per build (never held while loading).
        self._using_lock = threading.Lock()
        self._name: str | None = None
        self._loaded: _Loaded | None = None

    @property
    def retriever(self) -> Retriever:
        """The current retriever, loading the published build on first use."""
        if self._loaded is None:
            self.refresh()
        assert self._loaded is not None
        return self._loaded.retriever

    def refresh(self) -> bool:
        """Load the published build if it changed; return whether a new one was swapped in."""
        with self._lock:
            name = self.files.current_name()
            if name is not None and name == self._name and self._loaded is not None:
                return False
            folder, manifest, lease = self.files.lease_current()
            try:
                retriever = Retriever.from_folder(
                    folder, manifest, config=self.config, store=self.store, encoders=self.encoders
                )
            except BaseException:
                lease.release()
                raise
            with self._using_lock:
                old, self._loaded = self._loaded, _Loaded(retriever=retriever, lease=lease)
                self._name = folder.name
                if old is not None:
                    old.retire()
            return True

    @contextmanager
    def _using(self) -> Iterator[Retriever]:
        """The current retriever, counted as in use for the duration."""
        if self._loaded is None:
            self.refresh()
        with self._using_lock:
            loaded = self._loaded
            assert loaded is not None
            loaded.users += 1
        try:
            yield loaded.retriever
        finally:
            with self._using_lock:
                loaded.users -= 1
                if loaded.retired:
                    loaded.retire()

    def search(self, question: str, *, k: int = 3) -> Answer:
        """Answer from the current build."""
        with self._using() as retriever:
            return retriever.search(question, k=k)

    async def asearch(
        self, question: str, *, k: int = 3, executor: Executor | None = None
    ) -> Answer:
        """Answer off the event loop (in ``executor``, else the loop's default pool)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, lambda: self.search(question, k=k))

    def close(self) -> None:
        """Let the current build go."""
        with self._using_lock:
            if self._loaded is not None:
                self._loaded.retire()


@dataclass(slots=True)
class _Loaded:
    """A build the library answers from: its retriever, its lease and the searches on it."""

    retriever: Retriever
    lease: Lease
    users: int = 0
    retired: bool = False

    def retire(self) -> None:
        """No new searches start here; the lease goes with the last search (call locked)."""
        self.retired = True
        if self.users == 0:
            self.lease.release()
