"""The read side: from a question to ranked, highlighted, cited passages.

A ``Retriever`` owns the indexes of one published build and never changes; ``Library`` holds the
current one and swaps it whole when a newer build is published, so a question in flight always
finishes on the build it started with. ``Retriever.search`` does only the I/O (encoders, FAISS,
BM25, the store) around the pure stages of ``retrieval/stages.py``, under one ``Policy``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from corpus.attribution import attribution
from corpus.dates import Figure, TimeKind
from corpus.dating import as_of, figures_of
from corpus.models import Answer, Hit, Passage, Source
from corpus.periods import Period
from corpus.store import Store
from retrieval.config import RetrievalConfig
from retrieval.dated import DateIndex
from retrieval.dense import DenseIndex, SentenceVectors
from retrieval.encoders import Encoder
from retrieval.errors import IndexMissing
from retrieval.highlight import (
    CoverageScorer,
    SentenceTerms,
    highlight_span,
    sentence_terms,
    terms_of,
)
from retrieval.index_files import IndexFiles, Lease, Manifest
from retrieval.lexical import LexicalIndex, Term, terms, tokenize
from retrieval.places import countries, document_match, named_in, names_of
from retrieval.policy import DENSE, LEXICAL, Policy
from retrieval.question import AnswerType
from retrieval.stages import (
    Candidate,
    Chosen,
    Plan,
    Ranked,
    decide,
    first_stage,
    placed,
    plan,
    rerank,
    translated,
)
from retrieval.timeline import Dated, arrange, takes_part

#: How far some words (those after a figure) are what the question counts, 0 to 1.
Counting = Callable[[Sequence[Term]], float]

_TERMS_CACHE = 20_000
#: An unknown word of at least this many letters (a name, a place, a term) is worth noticing.
_RARE = 4
#: Passages in the question's language from which unknown words count fully (fewer: in
#: proportion); the realistic sets have 40-60 per language, XQuAD 400.
_ENOUGH_TEXT = 100
#: What a figure counts is said by the next few words: "34 people with disabilities".
_COUNTED_WORDS = 3
_COUNTED_CHARS = 80
#: Passages dated in a period asked about that are scored at most (a bound on the work of one
#: question over a corpus of many reports a month).
_MAX_IN_PERIOD = 20_000
#: Sentences of a passage read for the figures they state (chunking keeps passages far shorter).
_STATEMENTS = 64


@dataclass(frozen=True, slots=True)
class Channel:
    """One dense channel of a build: its encoder, passage index and sentence vectors."""

    encoder: Encoder
    dense: DenseIndex
    sentences: SentenceVectors


def default_policy(config: RetrievalConfig) -> Policy:
    """The shipped policy, with the answer bar the configuration may override."""
    policy = Policy()
    return policy if config.min_confidence is None else policy.with_bar(config.min_confidence)


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
        dates: DateIndex | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.manifest = manifest
        self.channels = dict(channels)
        self.lexical = lexical
        self.dates = dates or DateIndex(np.zeros((0, 3), dtype=np.int64))
        self.policy = policy or default_policy(config)
        self._terms_cache: OrderedDict[int, list[SentenceTerms]] = OrderedDict()
        self._terms_lock = threading.Lock()

    @property
    def dense(self) -> DenseIndex:
        """The primary channel's passage index."""
        return self.channels[DENSE].dense

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
        cls,
        *,
        config: RetrievalConfig,
        store: Store,
        encoders: Mapping[str, Encoder],
        policy: Policy | None = None,
    ) -> Retriever:
        """Load the published build; refuse one built with other models."""
        folder, manifest = IndexFiles(data_dir=config.data_dir).current()
        return cls.from_folder(
            folder, manifest, config=config, store=store, encoders=encoders, policy=policy
        )

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        manifest: Manifest,
        *,
        config: RetrievalConfig,
        store: Store,
        encoders: Mapping[str, Encoder],
        policy: Policy | None = None,
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
            dates = DateIndex.load(folder)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexMissing(
                f"the index in {folder} is damaged ({exc}); run `citebot reindex`"
            ) from exc
        return cls(
            config=config,
            store=store,
            manifest=manifest,
            channels=channels,
            lexical=lexical,
            dates=dates,
            policy=policy,
        )

    def search(
        self,
        question: str,
        *,
        k: int = 3,
        policy: Policy | None = None,
        today: date | None = None,
    ) -> Answer:
        """The ``k`` best hits for ``question``, or ``answered=False`` if none is reliable.

        ``today`` is what "now" and "a year ago" mean (the real date unless given).
        """
        policy = policy or self.policy
        planned, ranked = self.rank(question, policy=policy, today=today)
        unanswered = Answer(
            question=planned.text,
            answered=False,
            language=planned.language,
            time=planned.time.kind.value,
        )
        # Every passage that may be shown takes part in the time stage, not only the best k.
        decision = decide(ranked, policy, k=len(ranked))
        if not decision.answered:
            return unanswered.model_copy(update={"not_covered": self._not_covered(planned)})
        sources = self.store.corpus.sources_by_id(
            list({c.ranked.passage.source_id for c in decision.chosen})
        )
        chosen = [c for c in decision.chosen if c.ranked.passage.source_id in sources]
        sentences = self.channels[DENSE].sentences
        about = frozenset(planned.question.tokens)
        counting = self._counting(planned, policy)
        dated = [
            _dated(
                c,
                sources[c.ranked.passage.source_id],
                vectors=sentences.of(c.ranked.passage.id),
                about=about,
                counting=counting,
                asked_in=planned.language,
                others=part,
            )
            for c, part in zip(chosen, takes_part(chosen, policy=policy), strict=True)
        ]
        timeline = arrange(
            planned.time,
            counts=planned.question.answer_type is AnswerType.COUNT,
            dated=dated,
            policy=policy,
            k=k,
        )
        if not timeline.shown:
            return unanswered.model_copy(update={"not_covered": self._not_covered(planned)})
        return unanswered.model_copy(
            update={
                "answered": True,
                "hits": tuple(_hit(d, sources) for d in timeline.shown),
                "earlier": tuple(_hit(d, sources) for d in timeline.earlier),
                "differs": tuple(_hit(d, sources) for d in timeline.differs),
            }
        )

    def rank(
        self, question: str, *, policy: Policy | None = None, today: date | None = None
    ) -> tuple[Plan, list[Ranked]]:
        """The plan and the reranked shortlist, before any decision (benchmarks read this)."""
        policy = policy or self.policy
        planned = plan(question, policy, today=today)
        words = [t for t in planned.question.tokens if not t[0].isdigit()]
        unknown = self.lexical.unknown(words)
        # A word the corpus never uses says something only where the corpus has enough text in
        # the question's language for the word to have turned up: a Russian question over an
        # English corpus has every word unknown, and is still answered.
        seen = min(1.0, self.lexical.passages_in(planned.language) / _ENOUGH_TEXT)
        ranked = rerank(
            planned,
            self._candidates(planned, policy),
            policy,
            unknown=seen * len(unknown) / len(words) if words else 0.0,
            unknown_any=seen >= 1.0 and any(len(t) >= _RARE for t in unknown),
        )
        ranked = translated(ranked, self._translated(planned, ranked, policy), policy.rerank.model)
        return planned, placed(ranked, self._elsewhere(planned.question.terms, ranked))

    def _not_covered(self, planned: Plan) -> tuple[str, ...]:
        """The countries the question names that no passage of this build names (ISO codes)."""
        return tuple(
            sorted(
                code
                for code in countries(planned.question.terms)
                if not len(self.lexical.mentioning(names_of(code), match=document_match))
            )
        )

    def _elsewhere(self, words: Sequence[Term], ranked: Sequence[Ranked]) -> dict[int, float]:
        """By passage id, 1 when the question (its ``words``) names countries and the
        passage's document (its passages and title) names none of them in any language, else
        0; empty when the question names none ("how many remain in Belarus while Lithuania
        argues about potash" is answered by a report that never names Lithuania)."""
        named = countries(words)
        if not named or not ranked:
            return {}
        mentioned = [
            self.lexical.mentioning(names_of(code), match=document_match) for code in named
        ]
        source_ids = list(dict.fromkeys(r.passage.source_id for r in ranked))
        documents = self.store.corpus.passage_ids_by_source(source_ids)
        owners = [source_id for source_id, own in documents.items() for _ in own]
        ids = np.array([i for own in documents.values() for i in own], dtype=np.int64)
        hit = np.isin(ids, np.concatenate(mentioned))
        naming = {owners[i] for i in np.flatnonzero(hit).tolist()}
        # A document may name the country in its title only ("На канец кастрычніка ў Беларусі").
        rest = [source_id for source_id in source_ids if source_id not in naming]
        naming.update(
            s.id
            for s in self.store.corpus.sources_by_id(rest).values()
            if named_in(tokenize(s.title, s.language), named)
        )
        return {row.passage.id: 0.0 if row.passage.source_id in naming else 1.0 for row in ranked}

    def _candidates(self, planned: Plan, policy: Policy) -> list[Candidate]:
        """Search every channel, shortlist, and gather what stage 2 reads for the shortlist."""
        n = policy.first.per_channel
        queries = {
            name: _question_vector(channel.encoder, planned, policy.first.focus)
            for name, channel in self.channels.items()
            if name in policy.first.weights
        }
        found: dict[str, dict[int, float]] = {
            name: dict(self.channels[name].dense.search(query, n))
            for name, query in queries.items()
        }
        lexical = dict(self.lexical.search(planned.question.tokens, n))
        found[LEXICAL] = lexical
        shortlist = first_stage(planned, found, self.lexical.language_of, policy)
        shortlist += self._in_period(planned, policy, queries.get(DENSE), exclude=set(shortlist))
        passages = self.store.corpus.passages(shortlist)
        shortlist = [pid for pid in shortlist if pid in passages]
        if not shortlist:
            return []
        # Every shortlisted passage gets every channel's score, found by it or not.
        for name, vector in queries.items():
            missing = [pid for pid in shortlist if pid not in found[name]]
            found[name].update(self.channels[name].dense.scores(missing, vector))
        missing = [pid for pid in shortlist if pid not in lexical]
        lexical.update(self.lexical.scores(planned.question.tokens, missing))
        dense = self.channels[DENSE]
        query = queries.get(DENSE)
        cosines = [
            dense.sentences.of(pid) @ query if query is not None else np.zeros(0)
            for pid in shortlist
        ]
        chosen = [passages[pid] for pid in shortlist]
        coverage = self._coverage(planned, chosen, policy)
        return [
            Candidate(
                passage=passages[pid],
                channels={name: found[name].get(pid, 0.0) for name in found},
                sentence_cosines=cosine,
                coverage=cov,
            )
            for pid, cosine, cov in zip(shortlist, cosines, coverage, strict=True)
        ]

    def _in_period(
        self, planned: Plan, policy: Policy, query: np.ndarray | None, *, exclude: set[int]
    ) -> list[int]:
        """For a question about a point in time or a span, the passages dated in it that the
        first stage left out, nearest to the question first (``policy.first.in_period``)."""
        period = planned.time.period
        wanted = policy.first.in_period
        if planned.time.kind is TimeKind.CURRENT:
            # The current state of a figure is what the newest reports state.
            counts = planned.question.answer_type is AnswerType.COUNT
            until = planned.today or date.today()
            period = self.dates.latest(policy.first.recent_days, until=until) if counts else None
        if period is None or not wanted or query is None:
            return []
        ids = [
            pid
            for pid in self.dates.within(period, slack_days=policy.first.period_slack_days)
            if pid not in exclude
        ][:_MAX_IN_PERIOD]
        return [pid for pid, _ in self.channels[DENSE].dense.nearest_among(ids, query, wanted)]

    def _counting(self, planned: Plan, policy: Policy) -> Counting | None:
        """How far some words are what the question counts: the mean credit of its counted
        words (``Question.counted``), near-synonyms by word-piece vectors included; None when
        the question names nothing it counts."""
        scorer = self._scorer(planned, policy)
        counted = scorer.columns(planned.question.counted)
        if not counted:
            return None

        def credit(words: Sequence[Term]) -> float:
            return float(scorer.credits([terms_of(words)], [True])[0][counted].mean())

        return credit

    def _scorer(self, planned: Plan, policy: Policy) -> CoverageScorer:
        """How much of the question's wording a text has (words and near-synonyms)."""
        return CoverageScorer(
            question=planned.question,
            idf=self.lexical.idf,
            word_vectors=self.channels[DENSE].encoder.word_vectors,
            soft_floor=policy.rerank.sentences.soft_floor,
            soft_ceiling=policy.rerank.sentences.soft_ceiling,
        )

    def _coverage(self, planned: Plan, passages: list[Passage], policy: Policy) -> list[np.ndarray]:
        """The question's word coverage of each sentence of each passage."""
        return self._scorer(planned, policy).score(
            [self._terms(p) for p in passages],
            # Word-piece near-synonyms only within the question's language.
            [p.language == planned.language for p in passages],
        )

    def _translated(
        self, planned: Plan, ranked: Sequence[Ranked], policy: Policy
    ) -> dict[int, float]:
        """For each passage in another language than the question's, the share of the
        question's words its answering sentence has, translations credited by word-piece
        vectors ("women" / "жанчын"; within a language ``coverage`` credits near-synonyms)."""
        answering = {
            r.passage.id: found[r.best]
            for r in ranked
            if r.passage.language != planned.language
            and r.best < len(found := self._terms(r.passage))
        }
        if not answering:
            return {}
        scored = self._scorer(planned, policy).score(
            [[s] for s in answering.values()], [True] * len(answering)
        )
        return {pid: float(c[0]) for pid, c in zip(answering, scored, strict=True)}

    async def asearch(self, question: str, *, k: int = 3) -> Answer:
        """``search`` off the event loop (encoding and scoring are CPU-bound)."""
        return await asyncio.to_thread(self.search, question, k=k)


def _question_vector(encoder: Encoder, planned: Plan, focus: float) -> np.ndarray:
    """The question's vector: the whole question's, with its asking clause's beside it at
    weight ``focus`` when another clause only sets the scene (``Question.focus``), encoded in
    one call and normalised again."""
    clause = planned.question.focus
    if clause is None or focus <= 0.0:
        return encoder.encode_queries([planned.text])[0]
    whole, asking = encoder.encode_queries([planned.text, clause])
    mixed = whole + focus * asking
    norm = float(np.linalg.norm(mixed))
    return (mixed / norm).astype(np.float32) if norm > 0.0 else whole


def _counted(sentence: str, figure: Figure, language: str) -> list[Term]:
    """What a figure counts: the words after it ("34 people with disabilities")."""
    return terms(sentence[figure.end : figure.end + _COUNTED_CHARS], language)[:_COUNTED_WORDS]


def _figure(
    sentence: str,
    figures: tuple[Figure, ...],
    *,
    language: str,
    about: frozenset[str],
    counting: Counting | None = None,
) -> tuple[Figure, list[Term]] | None:
    """The figure of ``sentence`` that counts what the question asks about, with the words
    after it (``_counted``): of several ("139 women and 34 people with disabilities"), the one
    whose next words share most of the question's word stems (``about``), then (in another
    language than the question's, where no stem is shared) the one whose next words are
    nearest what it counts (``counting``: "інваліднасцю" is near "disabilities"); else the
    first of ``figures_of``."""
    read = [(f, _counted(sentence, f, language)) for f in figures]
    if len(read) < 2 or not (about or counting):
        return read[0] if read else None

    def fit(figure: tuple[Figure, list[Term]]) -> tuple[int, float]:
        words = figure[1]
        near = counting(words) if counting is not None and words else 0.0
        return len({t.stem for t in words} & about), near

    return max(read, key=fit)  # the first of the best: max keeps the earliest


def _dated(
    chosen: Chosen,
    source: Source,
    *,
    vectors: np.ndarray,
    about: frozenset[str] = frozenset(),
    counting: Counting | None = None,
    asked_in: str | None = None,
    others: bool = True,
) -> Dated:
    """When a chosen passage's answering sentence is true and the figure it states; the same
    for each other sentence of the passage that states a figure (``Dated.others``).

    ``vectors``: the passage's sentence vectors (empty when it has none); ``about``: the
    question's word stems and ``counting`` what it counts, which tell which of a sentence's
    figures is asked about and, in the question's language ``asked_in``, how well the figure
    is named (``Dated.named``; word-piece vectors judge words best within a language); ``others``:
    whether to read the other sentences (only for passages the time stage may reorder).
    """
    ranked = chosen.ranked
    passage = ranked.passage
    texts = passage.sentence_texts()
    document = source.as_of or source.published

    def statement(index: int) -> tuple[Period, int | None, str | None, float | None]:
        period, stated = as_of(
            passage.dates,
            index,
            document,
            sentences=texts,
            language=passage.language,
            published=source.published,
        )
        found = figures_of(texts[index], language=passage.language, as_of=period)
        chosen = _figure(
            texts[index], found, language=passage.language, about=about, counting=counting
        )
        if chosen is None:
            return period, stated, None, None
        figure, counted = chosen
        share = None
        if counting is not None and counted and passage.language == asked_in:
            share = counting(counted)
        return period, stated, figure.text.strip(), share

    def variant(index: int, others: tuple[Dated, ...] = ()) -> Dated:
        period, stated, figure, share = statement(index)
        return Dated(
            chosen=chosen
            if index == ranked.best
            else replace(chosen, ranked=replace(ranked, best=index)),
            source=source.id,
            as_of=period,
            stated=stated,
            written=figure,
            vector=vectors[index] if index < len(vectors) else None,
            others=others,
            named=share,
        )

    best = min(ranked.best, len(texts) - 1)
    if not others:
        return variant(best)
    return variant(
        best,
        tuple(
            v for i in range(min(len(texts), _STATEMENTS)) if i != best and (v := variant(i)).figure
        ),
    )


def _hit(dated: Dated, sources: Mapping[str, Source]) -> Hit:
    """A shown passage as the public ``Hit``."""
    ranked = dated.chosen.ranked
    passage = ranked.passage
    texts = passage.sentence_texts()
    sentence = texts[min(ranked.best, len(texts) - 1)]
    return Hit(
        passage=passage,
        source=sources[passage.source_id],
        score=round(ranked.score, 4),
        highlight=highlight_span(passage, ranked.best),
        confidence=round(dated.chosen.confidence, 4),
        as_of=dated.as_of.iso(),
        as_of_sentence=texts[dated.stated] if dated.stated is not None else None,
        figure=dated.written,
        attribution=attribution(sentence, language=passage.language),
    )


class Library:
    """The current ``Retriever`` of a data directory, swapped when a new build is published.

    Each build in use is leased (``IndexFiles.lease_current``) until it is swapped out and the
    last search on it has finished, so an old build is deleted as soon as no question uses it.
    """

    def __init__(
        self,
        *,
        config: RetrievalConfig,
        store: Store,
        encoders: Mapping[str, Encoder],
        policy: Policy | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.encoders = dict(encoders)
        self.policy = policy or default_policy(config)
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

    @property
    def version(self) -> int | None:
        """The corpus version of the build in use (None before one is loaded)."""
        loaded = self._loaded
        return None if loaded is None else loaded.retriever.manifest.corpus_version

    def refresh(self) -> bool:
        """Load the published build if it changed; return whether a new one was swapped in."""
        with self._lock:
            name = self.files.current_name()
            if name is not None and name == self._name and self._loaded is not None:
                return False
            folder, manifest, lease = self.files.lease_current()
            try:
                retriever = Retriever.from_folder(
                    folder,
                    manifest,
                    config=self.config,
                    store=self.store,
                    encoders=self.encoders,
                    policy=self.policy,
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

    def search(
        self,
        question: str,
        *,
        k: int = 3,
        policy: Policy | None = None,
        today: date | None = None,
    ) -> Answer:
        """Answer from the current build (under ``policy``, else the library's)."""
        with self._using() as retriever:
            return retriever.search(question, k=k, policy=policy, today=today)

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
