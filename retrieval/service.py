"""The read side: from a question to ranked, highlighted, cited passages.

A ``Retriever`` owns the indexes of one published build and never changes; ``Library`` holds the
current one and swaps it whole when a newer build is published, so a question in flight always
finishes on the build it started with.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from corpus.models import Answer, Hit, Passage
from corpus.store import Store
from retrieval.config import RetrievalConfig
from retrieval.dense import DenseIndex, SentenceVectors
from retrieval.encoders import Encoder
from retrieval.errors import IndexMissing, QuestionRejected
from retrieval.fusion import blend, minmax, top
from retrieval.highlight import (
    SentenceScorer,
    SentenceTerms,
    SentenceWeights,
    highlight_span,
    sentence_terms,
)
from retrieval.index_files import IndexFiles, Manifest
from retrieval.lexical import LexicalIndex
from retrieval.question import analyse

_TERMS_CACHE = 20_000


@dataclass(frozen=True, slots=True)
class Ranking:
    """The weights of the two ranking stages (chosen on XQuAD; see README, Ranking)."""

    #: Stage 1: min-max blend of passage cosine and BM25, to pick candidates.
    first_dense: float = 0.5
    first_lexical: float = 0.5
    #: How many stage-1 candidates stage 2 rescores sentence by sentence.
    rerank: int = 20
    #: Stage 2: passage-level evidence added to the best sentence's score.
    dense: float = 0.25
    lexical: float = 0.25
    sentences: SentenceWeights = field(default_factory=SentenceWeights)


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
        encoder: Encoder,
        manifest: Manifest,
        dense: DenseIndex,
        sentences: SentenceVectors,
        lexical: LexicalIndex,
        ranking: Ranking | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.encoder = encoder
        self.manifest = manifest
        self.dense = dense
        self.sentences = sentences
        self.lexical = lexical
        self.ranking = ranking or Ranking()
        self._terms_cache: OrderedDict[int, list[SentenceTerms]] = OrderedDict()
        self._terms_lock = threading.Lock()

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
    def load(cls, *, config: RetrievalConfig, store: Store, encoder: Encoder) -> Retriever:
        """Load the published build; refuse one built with another model."""
        folder, manifest = IndexFiles(data_dir=config.data_dir).current()
        manifest.check(model=encoder.name, dimension=encoder.dimension)
        return cls.from_folder(folder, manifest, config=config, store=store, encoder=encoder)

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        manifest: Manifest,
        *,
        config: RetrievalConfig,
        store: Store,
        encoder: Encoder,
    ) -> Retriever:
        """Load the build in ``folder``; a damaged build is ``IndexMissing``."""
        try:
            dense = DenseIndex.load(folder)
            sentences = SentenceVectors.load(folder)
            lexical = LexicalIndex.load(folder)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexMissing(
                f"the index in {folder} is damaged ({exc}); run `citebot reindex`"
            ) from exc
        return cls(
            config=config,
            store=store,
            encoder=encoder,
            manifest=manifest,
            dense=dense,
            sentences=sentences,
            lexical=lexical,
        )

    def search(self, question: str, *, k: int = 3) -> Answer:
        """The ``k`` best hits for ``question``, or ``answered=False`` if none is reliable."""
        text = clean_question(question, limit=self.config.max_question_chars)
        analysed = analyse(text)
        query = self.encoder.encode_queries([text])[0]
        r = self.ranking
        n = self.config.candidates
        dense_scores = dict(self.dense.search(query, n))
        lexical_scores = dict(self.lexical.search(analysed.tokens, n))
        first = blend([dense_scores, lexical_scores], [r.first_dense, r.first_lexical])
        candidates = top(first, max(r.rerank, k))
        passages = self.store.passages(candidates)
        candidates = [c for c in candidates if c in passages]
        if not candidates:
            return Answer(question=text, answered=False, language=analysed.language)
        missing = [c for c in candidates if c not in dense_scores]
        dense_scores.update(self.dense.scores(missing, query))
        dense_norm = minmax({c: dense_scores[c] for c in candidates})
        lexical_norm = minmax({c: lexical_scores.get(c, 0.0) for c in candidates})
        scorer = SentenceScorer(
            question=analysed,
            query_vector=query,
            idf=self.lexical.idf,
            word_vectors=self.encoder.word_vectors,
            weights=r.sentences,
        )
        ranked: list[tuple[float, float, int, int]] = []
        chosen_passages = [passages[pid] for pid in candidates]
        all_scores = scorer.score(
            chosen_passages,
            [self.sentences.of(pid) for pid in candidates],
            [self._terms(p) for p in chosen_passages],
        )
        for pid, scores in zip(candidates, all_scores, strict=True):
            best = scores.best
            final = (
                r.dense * dense_norm[pid]
                + r.lexical * lexical_norm[pid]
                + float(scores.total[best])
            )
            ranked.append((final, scores.confidence(r.sentences), pid, best))
        ranked.sort(key=lambda row: (-row[0], row[2]))
        chosen = [row for row in ranked if row[1] >= self.config.min_confidence][:k]
        sources = self.store.sources_by_id(
            list({passages[pid].source_id for _, _, pid, _ in chosen})
        )
        hits = tuple(
            Hit(
                passage=passages[pid],
                source=sources[passages[pid].source_id],
                score=round(final, 4),
                highlight=highlight_span(passages[pid], best),
            )
            for final, _, pid, best in chosen
            if passages[pid].source_id in sources
        )
        return Answer(question=text, answered=bool(hits), hits=hits, language=analysed.language)

    async def asearch(self, question: str, *, k: int = 3) -> Answer:
        """``search`` off the event loop (encoding and scoring are CPU-bound)."""
        return await asyncio.to_thread(self.search, question, k=k)


class Library:
    """The current ``Retriever`` of a data directory, swapped when a new build is published."""

    def __init__(self, *, config: RetrievalConfig, store: Store, encoder: Encoder) -> None:
        self.config = config
        self.store = store
        self.encoder = encoder
        self.files = IndexFiles(data_dir=config.data_dir)
        self._lock = threading.Lock()
        self._name: str | None = None
        self._retriever: Retriever | None = None

    @property
    def retriever(self) -> Retriever:
        """The current retriever, loading the published build on first use."""
        if self._retriever is None:
            self.refresh()
        assert self._retriever is not None
        return self._retriever

    def refresh(self) -> bool:
        """Load the published build if it changed; return whether a new one was swapped in."""
        with self._lock:
            name = self.files.current_name()
            if name is not None and name == self._name and self._retriever is not None:
                return False
            folder, manifest = self.files.current()
            manifest.check(model=self.encoder.name, dimension=self.encoder.dimension)
            self._retriever = Retriever.from_folder(
                folder, manifest, config=self.config, store=self.store, encoder=self.encoder
            )
            self._name = folder.name
            return True

    def search(self, question: str, *, k: int = 3) -> Answer:
        """Answer from the current build."""
        return self.retriever.search(question, k=k)

    async def asearch(
        self, question: str, *, k: int = 3, executor: Executor | None = None
    ) -> Answer:
        """Answer off the event loop (in ``executor``, else the loop's default pool)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, lambda: self.search(question, k=k))
