"""Latency of one question in process, and ingest throughput, under the thread settings we ship.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/latency.py            # full run (~45-60 min on 2 cores)
    PYTHONPATH=. .venv/bin/python bench/latency.py --quick    # smoke test (10k passages, 100 q)

What it measures:

- ``Library.search(q, k=3)`` with the default RetrievalConfig (encode, FAISS, BM25, fusion,
  sentence rerank, highlight, SQLite reads): median and p95 over the 1,190 XQuAD English
  questions after 20 warm-up queries, on two corpora: the 48 XQuAD articles, and a synthetic
  corpus of 100,000 passages. Each query is split into the encoding of the question by the dense
  channels' models it needs (MiniLM; USE-m3 only when a cross-lingual pair can count; timed inside
  the search by wrapping the encoders) and the rest.
- Each scenario runs in its own subprocess, because ``torch.set_num_threads`` is global per
  process. What ships: torch at 1 thread (``RetrievalConfig.torch_threads=1``, which also caps
  FAISS's OpenMP pool and BLAS at one thread) with the English model in ONNX Runtime
  (``onnx``). Against it, in the same run: the same on torch, and torch's default threads
  (``torch_threads=0``, nothing capped), each with and without a busy-loop process keeping the
  second core busy; and a what-if that sets FAISS and BLAS back to one thread per core, their
  defaults (what the cap is worth).
- Ingest throughput: the real ingest of the 48 XQuAD documents into an empty data directory with
  the model already loaded, passages/s and embedded texts/s, in the parent and per scenario.
- A cProfile breakdown of the search stages (mean ms per question; profiling inflates Python-heavy
  stages) for what ships, without the busy loop.
- Machine facts, load average before and after each scenario, and peak RSS per process.

The synthetic corpus is not encoded (400k texts would take hours here): documents are composed of
shuffled XQuAD sentences, three to a paragraph, and the embedding cache is filled beforehand, so
ingest embeds nothing. For each dense channel's model, a sentence's vector is the real vector of
that XQuAD sentence; a passage's vector is the normalised mean of its sentence vectors (an
approximation: real passage vectors come from encoding the passage). The chunker re-segments
the joined sentences slightly differently now and then; those few pieces are really encoded.
The vocabulary is XQuAD's, so BM25 postings are far denser than in a real corpus of that size:
the lexical channel is slower here than it would be.

Results are printed and written to bench/results/latency.json.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import inspect
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
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
from corpus.chunking import chunk_text
from corpus.loaders import Document
from corpus.store import Store, text_hash
from retrieval.config import CROSSLINGUAL, PRIMARY, RetrievalConfig
from retrieval.encoders import Encoder, load_encoders, use_onnx

REPO = Path(__file__).resolve().parent.parent
#: Queries run before timing starts (model, caches and page cache warm up).
WARMUP = 20
#: Hits asked for, as the bot does.
K = 3
#: The issue's targets for the median of one search.
TARGET_XQUAD_MS = 15.0
TARGET_LARGE_MS = 40.0
#: The synthetic corpus: documents x passages, three XQuAD sentences to a passage.
SYNTHETIC_DOCUMENTS = 1000
SYNTHETIC_PASSAGES = 100
SENTENCES_PER_PASSAGE = 3
SYNTHETIC_SEED = 20_200_101
#: --quick: a 10k-passage synthetic corpus and this many timed questions.
QUICK_DOCUMENTS = 100
QUICK_QUESTIONS = 100
#: A scenario stops timing after this many seconds (torch's default threads beside a busy core
#: can take ~0.5 s a question; the count timed is reported).
BUDGET_SECONDS = 180.0
#: Questions profiled with cProfile (after the timed run, so profiling does not skew the timings).
PROFILE_QUESTIONS = 200
#: A process that keeps one core busy.
BUSY_LOOP = "while True: pass"


# -- scenarios -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    """One measured setting, run in a subprocess of its own."""

    corpus: str  # "xquad" or "synthetic"
    torch_threads: int  # RetrievalConfig.torch_threads: 0 keeps torch's default
    busy: bool  # another process keeps a core busy
    uncapped: bool  # FAISS OpenMP and BLAS back at their defaults after loading (what-if)
    ingest: bool = False  # time a fresh ingest of the XQuAD documents first
    profile: bool = False
    onnx: bool = True  # RetrievalConfig.onnx: questions and passages through ONNX Runtime

    @property
    def label(self) -> str:
        threads = "torch 1 thread" if self.torch_threads == 1 else "torch default threads"
        if self.torch_threads not in (0, 1):
            threads = f"torch {self.torch_threads} threads"
        uncapped = ", FAISS/BLAS uncapped" if self.uncapped else ""
        questions = ", ONNX Runtime" if self.onnx else ", torch"
        return f"{threads}{questions}{uncapped}{', busy core' if self.busy else ''}"


def scenarios(corpus: str, *, ingest: bool) -> list[Scenario]:
    """The settings measured on one corpus (``ingest``: time an XQuAD ingest in each)."""
    timed_ingest = ingest and corpus == "xquad"
    out = []
    for busy in (False, True):
        # What ships: torch at 1 thread, single questions through ONNX Runtime.
        out.append(Scenario(corpus, 1, busy, False, ingest=timed_ingest, profile=not busy))
        out.append(Scenario(corpus, 1, busy, False, onnx=False))
        out.append(Scenario(corpus, 0, busy, False, ingest=timed_ingest, onnx=False))
    out.append(Scenario(corpus, 1, False, True))
    return out


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


def uncap_native_threads() -> None:
    """FAISS's OpenMP pool and BLAS back to one thread per core, their defaults (torch is left as
    configured): the project caps them along with torch, and this shows what the cap is worth."""
    import faiss
    from threadpoolctl import threadpool_limits

    cores = os.cpu_count() or 1
    faiss.omp_set_num_threads(cores)
    threadpool_limits(limits=cores, user_api="blas")


#: The search stages profiled: (label, "module:qualified name", called by Retriever.search itself).
#: Names the code no longer has are skipped, so the breakdown survives refactoring.
STAGES: tuple[tuple[str, str, bool], ...] = (
    ("clean_question", "retrieval.service:clean_question", True),
    ("analyse (language detection, terms)", "retrieval.question:analyse", True),
    (
        "encode question, MiniLM",
        "retrieval.encoders:SentenceTransformerEncoder.encode_queries",
        True,
    ),
    ("encode question, USE-m3", "retrieval.encoders:UniversalSentenceEncoder.encode_queries", True),
    ("dense search (FAISS), all channels", "retrieval.dense:DenseIndex.search", True),
    ("BM25 search (bm25s)", "retrieval.lexical:LexicalIndex.search", True),
    ("channel weights per passage", "retrieval.service:Ranking.weights", True),
    ("first-stage fusion", "retrieval.fusion:fuse", True),
    ("first-stage blend", "retrieval.fusion:blend", True),
    ("top-n", "retrieval.fusion:top", True),
    ("read candidate passages (SQLite)", "corpus.stores.documents:CorpusStore.passages", True),
    ("cosine of candidates not in a channel's top-n", "retrieval.dense:DenseIndex.scores", True),
    ("sentence vectors of candidates", "retrieval.dense:SentenceVectors.of", True),
    ("sentence scorer setup (IDF)", "retrieval.highlight:SentenceScorer.__init__", True),
    ("sentence terms (cached)", "retrieval.service:Retriever._terms", True),
    ("sentence scoring", "retrieval.highlight:SentenceScorer.score", True),
    ("  of which coverage", "retrieval.highlight:SentenceScorer._coverage", False),
    (
        "  of which word-piece vectors",
        "retrieval.encoders:SentenceTransformerEncoder.word_vectors",
        False,
    ),
    ("read sources (SQLite)", "corpus.stores.documents:CorpusStore.sources_by_id", True),
    ("Retriever.search, all", "retrieval.service:Retriever.search", False),
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
        code = inspect.unwrap(function).__code__  # Store methods are wrapped by a decorator
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        if key not in by_code:
            continue  # not on the search path (any more)
        seconds = by_code[key]
        out[label] = 1000 * seconds / len(questions)
        if top_level:
            counted += out[label]
    total = out.get("Retriever.search, all")
    if total is not None:
        out["other (Hit/Answer models, sorting, ...)"] = total - counted
    return out


# -- worker --------------------------------------------------------------------------------------


def worker(
    scenario: Scenario, data_dir: Path, questions: Sequence[str], budget: float
) -> dict[str, Any]:
    """Measure one scenario in this process (called in a subprocess by the parent)."""
    import torch

    from retrieval.service import Library

    load_before = load_average()
    config = RetrievalConfig(
        data_dir=data_dir, torch_threads=scenario.torch_threads, onnx=scenario.onnx
    )
    result: dict[str, Any] = {"scenario": asdict(scenario), "label": scenario.label}
    with busy_core(scenario.busy), tempfile.TemporaryDirectory(prefix="citebot-ingest-") as fresh:
        encoders = load_encoders(config)
        if scenario.uncapped:
            uncap_native_threads()
        result["torch_threads_actual"] = torch.get_num_threads()
        result["models"] = {name: e.name for name, e in encoders.items()}
        # As in the bot and the command line: questions and passages through ONNX Runtime.
        result["onnx"] = use_onnx(encoders, config)
        for encoder in encoders.values():
            encoder.encode_passages(["warm up the model before timing ingest"])
        if scenario.ingest:
            config = config.model_copy(update={"data_dir": Path(fresh)})
            result["ingest"] = ingest_xquad(config, encoders)
        timed = {name: TimedEncoder(encoder) for name, encoder in encoders.items()}
        store = Store(data_dir=config.data_dir)
        library = Library(config=config, store=store, encoders=timed)
        result["passages"] = store.corpus.passage_count()
        for question in questions[:WARMUP]:
            library.search(question, k=K)
        totals: list[float] = []
        encodes: dict[str, list[float]] = {name: [] for name in timed}
        answered = 0
        started = time.perf_counter()
        for question in questions:
            start = time.perf_counter()
            answer = library.search(question, k=K)
            totals.append(time.perf_counter() - start)
            for name, encoder in timed.items():
                encodes[name].append(encoder.last)
            answered += answer.answered
            if time.perf_counter() - started > budget:
                break
        encode = [sum(e) for e in zip(*encodes.values(), strict=True)]
        rest = [t - e for t, e in zip(totals, encode, strict=True)]
        result |= {
            "questions_timed": len(totals),
            "answered_share": answered / len(totals),
            "total_ms": summary(totals),
            "encode_ms": summary(encode),
            "encode_ms_by_channel": {name: summary(e) for name, e in encodes.items()},
            "rest_ms": summary(rest),
        }
        if scenario.profile:
            sample = questions[: min(PROFILE_QUESTIONS, len(questions))]
            result["profile_ms"] = profile_breakdown(lambda q: library.search(q, k=K), sample)
        store.close()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["source"] = source_state()  # the code may change between scenarios
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in load_average()]
    return result


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p95 and mean in milliseconds."""
    return {
        "median": round(1000 * median(seconds), 2),
        "p95": round(1000 * percentile(seconds, 95), 2),
        "mean": round(1000 * float(np.mean(seconds)), 2) if seconds else float("nan"),
    }


def ingest_xquad(config: RetrievalConfig, encoders: Mapping[str, Encoder]) -> dict[str, float]:
    """Time the real ingest of the 48 XQuAD documents into the (empty) ``config.data_dir``.

    ``embedded`` counts distinct texts (each is embedded once per dense channel)."""
    documents = article_documents(load_benchmark(PAIRS["en-en"]))
    built = ingest(config, encoders, documents)
    passages = built.passages
    built.store.close()
    return {
        "documents": len(documents),
        "passages": passages,
        "embedded": built.embedded,
        "seconds": round(built.seconds, 2),
        "passages_per_s": round(passages / built.seconds, 1),
        "embedded_per_s": round(built.embedded / built.seconds, 1),
    }


# -- synthetic corpus ----------------------------------------------------------------------------


def synthetic_corpus(
    data_dir: Path,
    source: Store,
    encoders: Mapping[str, Encoder],
    *,
    documents: int,
    passages: int,
) -> dict[str, Any]:
    """Build the synthetic corpus in ``data_dir`` from the sentences of the XQuAD corpus in
    ``source`` (whose embedding cache holds their real vectors); returns what it did."""
    from retrieval.indexer import Indexer

    config = RetrievalConfig(data_dir=data_dir)
    models = config.models()  # dense channel -> model name (the embedding cache's key)
    _, stored = source.snapshot()
    sentences = list(dict.fromkeys(s for p in stored for s in p.sentence_texts()))
    vectors: dict[str, dict[str, np.ndarray]] = {}
    for channel, model in models.items():
        blobs = source.cached_vectors(model, [text_hash(s) for s in sentences])
        vectors[channel] = {
            s: np.frombuffer(blobs[text_hash(s)], dtype=np.float32) for s in sentences
        }

    rng = random.Random(SYNTHETIC_SEED)
    docs: list[Document] = []
    for number in range(documents):
        # Each passage its own paragraph, so the chunker keeps the three sentences together.
        body = "\n\n".join(
            " ".join(rng.sample(sentences, SENTENCES_PER_PASSAGE)) for _ in range(passages)
        )
        docs.append(
            markdown_document(
                f"synthetic-{number:04d}.md", f"Synthetic document {number}", body, language="en"
            )
        )

    store = Store(data_dir=data_dir)
    indexer = Indexer(config=config, store=store, encoders=lambda: encoders)
    # Chunk exactly as the Indexer will, to know every text it will want a vector for.
    layout: list[tuple[str, list[str]]] = []
    for doc in docs:
        for chunk in chunk_text(
            doc.text, doc.metadata["language"], pages=doc.pages, options=indexer.chunking
        ):
            text = doc.text[chunk.start : chunk.end]
            layout.append((text, [text[s.start : s.end].strip() for s in chunk.sentences]))
    # The chunker re-segments the joined sentences; the few pieces that are not an XQuAD
    # sentence as it was segmented before get real vectors.
    known = set(sentences)
    unknown = list(dict.fromkeys(s for _, group in layout for s in group if s not in known))
    for channel, model in models.items():
        table_ = vectors[channel]
        if unknown:
            table_.update(zip(unknown, encoders[channel].encode_passages(unknown), strict=True))
        fill: dict[str, bytes] = {}
        for text, group in layout:
            for sentence in group:
                fill[text_hash(sentence)] = np.asarray(table_[sentence], np.float32).tobytes()
            mean = np.mean([table_[s] for s in group], axis=0)
            norm = max(float(np.linalg.norm(mean)), 1e-9)
            fill[text_hash(text)] = (mean / norm).astype(np.float32).tobytes()
        store.corpus.put_vectors(model, fill)
    start = time.perf_counter()
    results = indexer.ingest(docs)
    seconds = time.perf_counter() - start
    count = store.corpus.passage_count()
    store.close()
    return {
        "documents": len(docs),
        "passages": count,
        "sentences_composed_from": len(sentences),
        "segments_encoded_because_resegmented": len(unknown),
        "embedded_during_ingest": sum(r.embedded for r in results),
        "ingest_seconds_with_warm_cache": round(seconds, 1),
    }


# -- parent --------------------------------------------------------------------------------------


def run_scenario(
    scenario: Scenario, data_dir: Path, budget: float, limit: int | None
) -> dict[str, Any]:
    """Run one scenario in a fresh interpreter and return its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        json.dumps(asdict(scenario)),
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
        "--budget",
        str(budget),
    ]
    if limit is not None:
        command += ["--questions", str(limit)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    try:
        completed = subprocess.run(command, env=env, cwd=REPO)
        if completed.returncode != 0:
            # One failed scenario (e.g. the code changed under the run) must not lose the others.
            return {
                "scenario": asdict(scenario),
                "label": scenario.label,
                "error": f"worker exited with {completed.returncode}",
            }
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_DOCUMENTS * SYNTHETIC_PASSAGES} synthetic passages, "
        f"{QUICK_QUESTIONS} questions",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET_SECONDS,
        help="seconds of timed queries per scenario at most",
    )
    parser.add_argument(
        "--questions", type=int, default=None, help="time only the first N questions"
    )
    parser.add_argument("--skip-synthetic", action="store_true", help="only the XQuAD corpus")
    parser.add_argument(
        "--output",
        default="latency.json",
        help="file name under bench/results/ (default latency.json)",
    )
    # Internal: one scenario in this process.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def xquad_questions(limit: int | None) -> list[str]:
    """The English XQuAD questions (the first ``limit``)."""
    questions = [qa.question for qa in load_benchmark(PAIRS["en-en"]).questions]
    return questions[:limit] if limit else questions


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        scenario = Scenario(**json.loads(args.worker))
        result = worker(scenario, args.data_dir, xquad_questions(args.questions), args.budget)
        args.out.write_text(json.dumps(result))
        return 0

    limit = args.questions or (QUICK_QUESTIONS if args.quick else None)
    documents = QUICK_DOCUMENTS if args.quick else SYNTHETIC_DOCUMENTS
    info = machine_info()
    print_machine(info)
    result: dict[str, Any] = {
        "machine": info,
        "quick": args.quick,
        "warmup": WARMUP,
        "k": K,
        "targets_ms": {"xquad": TARGET_XQUAD_MS, "large": TARGET_LARGE_MS},
    }
    with tempfile.TemporaryDirectory(prefix="citebot-latency-") as root:
        xquad_dir, synthetic_dir = Path(root) / "xquad", Path(root) / "synthetic"
        config = RetrievalConfig(data_dir=xquad_dir)
        encoders = load_encoders(config)
        for encoder in encoders.values():
            encoder.encode_passages(["warm up the model before timing ingest"])
        result["models"] = {name: e.name for name, e in encoders.items()}
        result["ingest_parent"] = ingest_xquad(config, encoders)
        print_ingest("parent process, torch", result["ingest_parent"])
        if not args.skip_synthetic:
            print(
                f"Building the synthetic corpus ({documents} x {SYNTHETIC_PASSAGES} passages) ...",
                flush=True,
            )
            start = time.perf_counter()
            source = Store(data_dir=xquad_dir)
            result["synthetic"] = synthetic_corpus(
                synthetic_dir, source, encoders, documents=documents, passages=SYNTHETIC_PASSAGES
            )
            source.close()
            result["synthetic"]["build_seconds"] = round(time.perf_counter() - start, 1)
            print(json.dumps(result["synthetic"]))
        del encoders, encoder
        result["parent_peak_rss_mb"] = round(peak_rss_mb(), 1)

        corpora = [("xquad", xquad_dir)] + (
            [] if args.skip_synthetic else [("synthetic", synthetic_dir)]
        )
        runs: list[dict[str, Any]] = []
        for corpus, folder in corpora:
            for scenario in scenarios(corpus, ingest=not args.quick):
                print(f"[{corpus}] {scenario.label} ...", flush=True)
                run = run_scenario(scenario, folder, args.budget, limit)
                runs.append(run)
                if "error" in run:
                    print(f"  FAILED: {run['error']}", flush=True)
                    continue
                print(
                    f"  median {run['total_ms']['median']:.1f} ms, p95 "
                    f"{run['total_ms']['p95']:.1f} ms over {run['questions_timed']} questions; "
                    f"load {run['load_before'][0]:.2f} -> {run['load_after'][0]:.2f}",
                    flush=True,
                )
        result["runs"] = runs
    report(result)
    path = write_json(
        args.output if not args.quick else args.output.replace(".json", "-quick.json"), result
    )
    print(f"\nWrote {path}")
    return 0


def print_ingest(label: str, numbers: dict[str, float]) -> None:
    print(
        f"Ingest of {numbers['documents']} XQuAD documents ({label}): {numbers['seconds']:.1f} s, "
        f"{numbers['passages']} passages ({numbers['passages_per_s']:.1f}/s), "
        f"{numbers['embedded']} texts embedded ({numbers['embedded_per_s']:.1f}/s)"
    )


def channel_median(run: dict[str, Any], channel: str) -> float | str:
    """Median encode ms of one dense channel in a run ("-" if the run had no such channel)."""
    found = run.get("encode_ms_by_channel", {}).get(channel)
    return found["median"] if found else "-"


def report(result: dict[str, Any]) -> None:
    """The results as tables."""
    print()
    print_machine(result["machine"])
    for corpus, target in (("xquad", TARGET_XQUAD_MS), ("synthetic", TARGET_LARGE_MS)):
        runs = [r for r in result["runs"] if r["scenario"]["corpus"] == corpus]
        for r in runs:
            if "error" in r:
                print(f"\n[{corpus}] {r['label']}: {r['error']}")
        runs = [r for r in runs if "error" not in r]
        if not runs:
            continue
        title = (
            "XQuAD (48 documents)"
            if corpus == "xquad"
            else "synthetic corpus (passage vectors = mean of real sentence vectors)"
        )
        print(
            f"\nLibrary.search(q, k={result['k']}) on {title}, {runs[0]['passages']} passages; "
            f"target median < {target:.0f} ms"
        )
        print(
            table(
                [
                    "setting",
                    "torch thr",
                    "n",
                    "median ms",
                    "p95 ms",
                    "encode med",
                    "MiniLM",
                    "USE-m3",
                    "rest med",
                    "rest p95",
                    "target",
                    "RSS MiB",
                    "load 1m before/after",
                ],
                [
                    [
                        r["label"],
                        r["torch_threads_actual"],
                        r["questions_timed"],
                        r["total_ms"]["median"],
                        r["total_ms"]["p95"],
                        r["encode_ms"]["median"],
                        channel_median(r, PRIMARY),
                        channel_median(r, CROSSLINGUAL),
                        r["rest_ms"]["median"],
                        r["rest_ms"]["p95"],
                        "met" if r["total_ms"]["median"] < target else "MISSED",
                        r["peak_rss_mb"],
                        f"{r['load_before'][0]:.2f}/{r['load_after'][0]:.2f}",
                    ]
                    for r in runs
                ],
            )
        )
        for r in runs:
            if "profile_ms" in r:
                print(
                    f"\ncProfile breakdown, {r['label']} (mean ms per question, "
                    f"{PROFILE_QUESTIONS} questions; profiling overhead included):"
                )
                print(table(["stage", "ms"], [[k, v] for k, v in r["profile_ms"].items()]))
    ingests = [(r["label"], r["ingest"]) for r in result["runs"] if "ingest" in r]
    print()
    print_ingest("parent process, torch", result["ingest_parent"])
    for label, numbers in ingests:
        print_ingest(label, numbers)
    if "synthetic" in result:
        s = result["synthetic"]
        print(
            f"Synthetic corpus: {s['documents']} documents, {s['passages']} passages from "
            f"{s['sentences_composed_from']} XQuAD sentences; "
            f"{s['segments_encoded_because_resegmented']} re-segmented pieces encoded; "
            f"ingest with the cache filled: {s['ingest_seconds_with_warm_cache']} s, "
            f"{s['embedded_during_ingest']} texts embedded"
        )


if __name__ == "__main__":
    sys.exit(main())
