"""Retrieval quality on XQuAD: Recall@1, Recall@5 and MRR@10 per channel and for the full pipeline.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/xquad.py                  # channels + full pipeline
    PYTHONPATH=. .venv/bin/python bench/xquad.py --ranking-grid   # + a sweep of Ranking weights
    PYTHONPATH=. .venv/bin/python bench/xquad.py --calibrate      # + the min_confidence threshold
    PYTHONPATH=. .venv/bin/python bench/xquad.py --quick          # a few articles, to smoke-test

Each of the 48 XQuAD articles becomes one Markdown document (front matter: the article title,
published 2020-01, the documents' language; body: its paragraph contexts joined by blank lines),
loaded with ``corpus.loaders.load_bytes`` and ingested with the real ``Indexer`` into a temporary
data directory. A hit is a retrieved passage whose text contains the gold answer
(``answers[0].text``). Compared over all 1,190 questions:

(a) dense only: FAISS cosine of the question vector;
(b) BM25 only: ``LexicalIndex.search`` of the analysed question's tokens;
(c) reciprocal rank fusion of (a) and (b);
(d) the txtai-style 0.5/0.5 blend of min-max normalised (a) and (b) (the issue's baseline);
(e) the full pipeline, ``Library.search`` with ``min_confidence`` at -1e9 so that only the
    ranking is measured (every confidence threshold of RetrievalConfig is set to -1e9).

``--ranking-grid`` sweeps the second-stage weights (``Ranking.dense``, ``Ranking.lexical``,
``SentenceWeights.coverage``, ``SentenceWeights.answer_type``) through the real ``Retriever``.
``--calibrate`` records the confidence that the Retriever compares with ``min_confidence`` for the
XQuAD questions and for the off-topic questions of ``bench/offtopic_en.txt``, tabulates false
refusals against false answers per threshold, recommends one, and checks the recommendation with a
real ``Library`` configured with it. Results are printed and written to bench/results/xquad.json.

``--pair`` selects the language pair (questions file, documents file); only en-en is ready.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.common import (
    PAIRS,
    QA,
    Benchmark,
    LanguagePair,
    article_documents,
    ingest,
    load_benchmark,
    machine_info,
    print_machine,
    table,
    unfiltered,
    write_json,
)
from retrieval.config import CROSSLINGUAL, PRIMARY, RetrievalConfig
from retrieval.encoders import Encoder, load_encoders
from retrieval.fusion import blend, rrf, top
from retrieval.question import analyse
from retrieval.service import Library, Ranking, Retriever, clean_question

#: Cut-offs of the reported metrics.
RECALL_AT = (1, 5)
MRR_AT = 10
#: The issue's baseline weights: txtai's hybrid scoring blends the two channels half and half.
BASELINE_WEIGHTS = (0.5, 0.5)
#: --quick keeps this many articles (and their questions) and this many off-topic questions.
QUICK_ARTICLES = 6
QUICK_OFFTOPIC = 30
#: The calibration table's thresholds: 0.200, 0.225, ..., 0.600.
THRESHOLDS = tuple(round(0.2 + 0.025 * i, 3) for i in range(17))
#: The most XQuAD questions the recommended threshold may refuse (share).
MAX_FALSE_REFUSALS = 0.05
#: The second-stage weights the grid tries (every combination).
GRID_DENSE = (0.0, 0.25, 0.5)
GRID_LEXICAL = (0.0, 0.25, 0.5)
GRID_COVERAGE = (0.5, 0.75, 1.0)
GRID_ANSWER_TYPE = (0.0, 0.2, 0.4)


# -- metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metrics:
    """Recall@1, Recall@5 and MRR@10 over ``n`` questions."""

    r1: float
    r5: float
    mrr10: float
    n: int


def first_hit(ranking: Sequence[int], relevant: set[int], *, depth: int = MRR_AT) -> int | None:
    """1-based rank of the first relevant passage within ``depth``, or None."""
    for rank, pid in enumerate(ranking[:depth], start=1):
        if pid in relevant:
            return rank
    return None


def evaluate(rankings: Sequence[Sequence[int]], relevant: Sequence[set[int]]) -> Metrics:
    """Metrics of ranked passage ids against the passages that contain each gold answer."""
    ranks = [first_hit(r, g) for r, g in zip(rankings, relevant, strict=True)]
    n = len(ranks)
    r1, r5 = (sum(1 for x in ranks if x is not None and x <= k) / n for k in RECALL_AT)
    mrr = sum(1.0 / x for x in ranks if x is not None) / n
    return Metrics(r1=r1, r5=r5, mrr10=mrr, n=n)


# -- instruments -------------------------------------------------------------------------------


class CachedQueryEncoder:
    """The real encoder, except that questions encoded beforehand are looked up, not re-encoded.

    Used by the weight grid, which asks every question once per setting: the vectors do not depend
    on the weights.
    """

    def __init__(self, encoder: Encoder, questions: Sequence[str], vectors: np.ndarray) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self._known = {q: vectors[i] for i, q in enumerate(questions)}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if all(t in self._known for t in texts):
            return np.stack([self._known[t] for t in texts])
        return self._encoder.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode_passages(texts)

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        return self._encoder.word_vectors(words)


def pin_native_threads() -> str:
    """One thread for FAISS's OpenMP and for BLAS: results are the same, the runs much faster.

    On this two-core machine, with other work running, their thread pools made one FAISS search of
    a few hundred vectors take ~10 ms instead of ~0.1 ms (see bench/latency.py). Torch keeps the
    project's own setting (``RetrievalConfig.torch_threads``).
    """
    faiss.omp_set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "faiss OpenMP 1 thread (threadpoolctl missing: BLAS threads unchanged)"
    threadpool_limits(limits=1, user_api="blas")
    return "faiss OpenMP 1 thread, BLAS 1 thread"


# -- runs --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Corpus:
    """The ingested benchmark: store, library, and the passages holding each gold answer."""

    config: RetrievalConfig
    library: Library
    passages: dict[int, str]
    relevant: list[set[int]]
    ingest_seconds: float
    embedded: int


def build_corpus(benchmark: Benchmark, encoders: Mapping[str, Encoder], data_dir: Path) -> Corpus:
    """Ingest the articles and find, for each question, the passages containing its answer.

    Every confidence threshold is off, so the full pipeline returns its whole ranking.
    """
    config = unfiltered(RetrievalConfig(data_dir=data_dir))
    built = ingest(config, encoders, article_documents(benchmark))
    _, stored = built.store.snapshot()
    passages = {p.id: p.text for p in stored}
    relevant = [
        {pid for pid, text in passages.items() if qa.answer in text} for qa in benchmark.questions
    ]
    library = Library(config=config, store=built.store, encoders=encoders)
    return Corpus(
        config=config,
        library=library,
        passages=passages,
        relevant=relevant,
        ingest_seconds=built.seconds,
        embedded=built.embedded,
    )


def channel_rankings(
    retriever: Retriever, questions: Sequence[str], vectors: Mapping[str, np.ndarray]
) -> dict[str, list[list[int]]]:
    """Rankings of (a) dense, (b) BM25, (c) RRF and (d) the 0.5/0.5 blend, per question; and of
    the cross-lingual channel alone when the build has one."""
    depth = retriever.config.candidates  # what each channel hands to fusion in the Retriever
    out: dict[str, list[list[int]]] = {"dense": [], "bm25": [], "rrf": [], "blend": []}
    for i, question in enumerate(questions):
        dense = retriever.dense.search(vectors[PRIMARY][i], depth)
        lexical = retriever.lexical.search(analyse(question).tokens, depth)
        out["dense"].append([pid for pid, _ in dense][:MRR_AT])
        out["bm25"].append([pid for pid, _ in lexical][:MRR_AT])
        fused = rrf([[pid for pid, _ in dense], [pid for pid, _ in lexical]])
        out["rrf"].append(top(fused, MRR_AT))
        blended = blend([dict(dense), dict(lexical)], list(BASELINE_WEIGHTS))
        out["blend"].append(top(blended, MRR_AT))
        if CROSSLINGUAL in retriever.channels:
            found = retriever.channels[CROSSLINGUAL].dense.search(vectors[CROSSLINGUAL][i], MRR_AT)
            out.setdefault("xling", []).append([pid for pid, _ in found])
    return out


@dataclass(frozen=True, slots=True)
class Asked:
    """One question through the full pipeline: its ranking and the candidates' confidences."""

    ranking: list[int]
    confidence: dict[int, float]
    #: The language the pipeline detected for the question.
    language: str | None = None

    @property
    def top_confidence(self) -> float:
        """Confidence of the best-ranked passage."""
        return self.confidence.get(self.ranking[0], -math.inf) if self.ranking else -math.inf

    @property
    def max_confidence(self) -> float:
        """What decides ``answered``: the Retriever keeps every candidate at or above its
        threshold, so a question is answered when any reranked candidate reaches it."""
        return max(self.confidence.values(), default=-math.inf)

    def answer_at(self, threshold: float) -> int | None:
        """The top hit the Retriever returns with ``min_confidence=threshold`` (None: refused)."""
        return next(
            (p for p in self.ranking if self.confidence.get(p, -math.inf) >= threshold), None
        )


def ask_all(library: Library, questions: Sequence[str]) -> list[Asked]:
    """Every question through ``Library.search`` with the thresholds off: the whole reranked list
    and each hit's confidence (``Hit.confidence``, what the Retriever compares with the
    threshold, rounded to 4 decimals)."""
    depth = max(MRR_AT, library.retriever.ranking.rerank)
    out: list[Asked] = []
    for question in questions:
        answer = library.search(question, k=depth)
        ranking = [h.passage.id for h in answer.hits]
        confidence = {h.passage.id: h.confidence for h in answer.hits}
        out.append(Asked(ranking, confidence, answer.language))
    return out


def ranking_grid(
    corpus: Corpus,
    encoders: Mapping[str, Encoder],
    questions: Sequence[str],
    vectors: Mapping[str, np.ndarray],
) -> list[dict[str, Any]]:
    """R@1 (and R@5, MRR@10) of the full pipeline for each combination of grid weights."""
    cached = {
        name: CachedQueryEncoder(encoder, questions, vectors[name])
        for name, encoder in encoders.items()
    }
    retriever = Retriever.load(config=corpus.config, store=corpus.library.store, encoders=cached)
    default = Ranking()
    rows: list[dict[str, Any]] = []
    settings = list(itertools.product(GRID_DENSE, GRID_LEXICAL, GRID_COVERAGE, GRID_ANSWER_TYPE))
    for number, (dense, lexical, coverage, answer_type) in enumerate(settings, start=1):
        # Everything else (first stage, rerank depth, other sentence weights) stays default.
        retriever.ranking = dataclasses.replace(
            default,
            dense=dense,
            lexical=lexical,
            sentences=dataclasses.replace(
                default.sentences, coverage=coverage, answer_type=answer_type
            ),
        )
        rankings = [[h.passage.id for h in retriever.search(q, k=MRR_AT).hits] for q in questions]
        metrics = evaluate(rankings, corpus.relevant)
        rows.append(
            {
                "dense": dense,
                "lexical": lexical,
                "coverage": coverage,
                "answer_type": answer_type,
                "default": retriever.ranking == default,
                **asdict(metrics),
            }
        )
        print(
            f"  grid {number:2d}/{len(settings)}: dense={dense} lexical={lexical} "
            f"coverage={coverage} answer_type={answer_type} -> R@1 {metrics.r1:.3f}",
            file=sys.stderr,
            flush=True,
        )
    return rows


def read_questions(path: Path) -> list[str]:
    """One question a line; blank lines and lines starting with # are skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def calibration_table(
    xquad: Sequence[Asked], offtopic: Sequence[Asked], relevant: Sequence[set[int]]
) -> list[dict[str, float]]:
    """False refusals, false answers and the resulting R@1 at each threshold.

    ``top_changed`` is the share of XQuAD questions still answered whose top hit is not the
    unfiltered top hit: the threshold drops low-confidence passages one by one, so a lower-ranked
    passage can move up.
    """
    rows = []
    for t in THRESHOLDS:
        refused = sum(1 for a in xquad if a.max_confidence < t) / len(xquad)
        answered = sum(1 for a in offtopic if a.max_confidence >= t) / len(offtopic)
        tops = [a.answer_at(t) for a in xquad]
        r1 = sum(1 for p, g in zip(tops, relevant, strict=True) if p in g) / len(xquad)
        changed = sum(
            1 for p, a in zip(tops, xquad, strict=True) if p is not None and p != a.ranking[0]
        ) / len(xquad)
        rows.append(
            {
                "threshold": t,
                "false_refusals": refused,
                "false_answers": answered,
                "r1": r1,
                "top_changed": changed,
            }
        )
    return rows


def recommend(rows: Sequence[dict[str, float]]) -> dict[str, float] | None:
    """The threshold with false refusals within the limit and the fewest false answers."""
    allowed = [r for r in rows if r["false_refusals"] <= MAX_FALSE_REFUSALS]
    if not allowed:
        return None
    # Fewest false answers; among equals the lowest threshold (fewer refusals).
    return min(allowed, key=lambda r: (r["false_answers"], r["threshold"]))


def verify(
    corpus: Corpus,
    encoders: Mapping[str, Encoder],
    field: str,
    threshold: float,
    questions: Sequence[str],
    offtopic: Sequence[str],
    xquad_asked: Sequence[Asked],
    offtopic_asked: Sequence[Asked],
) -> dict[str, Any]:
    """Ask everything again through a Library with the default configuration except ``field`` set
    to ``threshold``; compare with the prediction from the recorded confidences."""
    config = RetrievalConfig(data_dir=corpus.config.data_dir).model_copy(update={field: threshold})
    library = Library(config=config, store=corpus.library.store, encoders=encoders)
    mismatches = 0
    answered = {"xquad": 0, "offtopic": 0}
    for name, texts, asked in (
        ("xquad", questions, xquad_asked),
        ("offtopic", offtopic, offtopic_asked),
    ):
        for text, expected in zip(texts, asked, strict=True):
            real = library.search(text, k=1).answered
            answered[name] += real
            mismatches += real != (expected.max_confidence >= threshold)
    return {
        "field": field,
        "threshold": threshold,
        "false_refusals": 1 - answered["xquad"] / len(questions),
        "false_answers": answered["offtopic"] / len(offtopic),
        "mismatches_with_prediction": mismatches,
    }


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pair",
        choices=sorted(PAIRS),
        default="en-en",
        help="language pair: questions -> documents (default en-en)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"first {QUICK_ARTICLES} articles only, to smoke-test"
    )
    parser.add_argument(
        "--ranking-grid",
        action="store_true",
        help="sweep the second-stage Ranking weights (slow: one run per setting)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="tabulate min_confidence thresholds against off-topic questions",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="with --calibrate: skip re-asking everything at the chosen threshold",
    )
    parser.add_argument(
        "--output", default="xquad.json", help="file name under bench/results/ (default xquad.json)"
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    pair: LanguagePair = PAIRS[args.pair]
    benchmark = load_benchmark(pair, articles=QUICK_ARTICLES if args.quick else None)
    info = machine_info()
    print_machine(info)
    threads = pin_native_threads()
    print(f"Native thread pools: {threads}")
    encoders = load_encoders(RetrievalConfig())
    result: dict[str, Any] = {
        "machine": info,
        "pair": pair.name,
        "quick": args.quick,
        "native_threads": threads,
        "models": RetrievalConfig().models(),
    }
    with tempfile.TemporaryDirectory(prefix="citebot-xquad-") as folder:
        corpus = build_corpus(benchmark, encoders, Path(folder))
        qas: tuple[QA, ...] = benchmark.questions
        limit = corpus.config.max_question_chars
        questions = [clean_question(qa.question, limit=limit) for qa in qas]
        unanswerable = sum(1 for g in corpus.relevant if not g)
        print(
            f"\n{pair.name}: {len(benchmark.articles)} documents -> {len(corpus.passages)} "
            f"passages (ingest {corpus.ingest_seconds:.1f} s, {corpus.embedded} texts embedded); "
            f"{len(qas)} questions, {unanswerable} with no passage containing the answer"
        )
        result |= {
            "documents": len(benchmark.articles),
            "passages": len(corpus.passages),
            "questions": len(qas),
            "no_passage_contains_answer": unanswerable,
            "ingest_seconds": round(corpus.ingest_seconds, 2),
        }

        start = time.perf_counter()
        vectors = {name: e.encode_queries(questions) for name, e in encoders.items()}
        retriever = corpus.library.retriever
        rankings = channel_rankings(retriever, questions, vectors)
        channel_seconds = time.perf_counter() - start
        start = time.perf_counter()
        asked = ask_all(corpus.library, questions)
        pipeline_seconds = time.perf_counter() - start
        rankings["pipeline"] = [a.ranking[:MRR_AT] for a in asked]
        labels = {
            "dense": "(a) dense only (MiniLM, FAISS)",
            "bm25": "(b) BM25 only (bm25s)",
            "rrf": "(c) RRF of (a)+(b)",
            "blend": "(d) blend 0.5/0.5 of (a)+(b) (txtai-style baseline)",
            "pipeline": "(e) full pipeline (Library.search, unfiltered)",
            "xling": "(f) cross-lingual channel only (for reference)",
        }
        order = [n for n in labels if n in rankings]
        metrics = {name: evaluate(rankings[name], corpus.relevant) for name in order}
        print()
        print(
            table(
                ["method", "R@1", "R@5", "MRR@10"],
                [[labels[n], m.r1, m.r5, m.mrr10] for n, m in metrics.items()],
            )
        )
        print(
            f"(channels: {channel_seconds:.1f} s with pre-encoded questions; full pipeline: "
            f"{pipeline_seconds:.1f} s, {1000 * pipeline_seconds / len(qas):.1f} ms a question "
            "including encoding; the issue's txtai hybrid scored R@1 0.902)"
        )
        result["metrics"] = {n: asdict(m) | {"label": labels[n]} for n, m in metrics.items()}
        other = [i for i, a in enumerate(asked) if a.language != pair.questions_language]
        if other:
            hit = sum(1 for i in other if first_hit(asked[i].ranking, corpus.relevant[i]) == 1)
            print(
                f"{len(other)} questions were detected as another language than "
                f"{pair.questions_language!r} (so ranked with other channel weights); "
                f"R@1 among them {hit / len(other):.3f}"
            )
        result["other_language_questions"] = [
            {
                "id": qas[i].id,
                "question": qas[i].question,
                "language": asked[i].language,
                "rank": first_hit(asked[i].ranking, corpus.relevant[i]),
            }
            for i in other
        ]
        result["per_question"] = [
            {
                "id": qa.id,
                "rank": first_hit(a.ranking, g),
                "language": a.language,
                "max_confidence": a.max_confidence,
            }
            for qa, a, g in zip(qas, asked, corpus.relevant, strict=True)
        ]

        if args.ranking_grid:
            print("\nRanking grid (full pipeline, first stage and rerank depth at defaults):")
            rows = ranking_grid(corpus, encoders, questions, vectors)
            rows.sort(key=lambda r: (-r["r1"], -r["mrr10"]))
            print(
                table(
                    ["dense", "lexical", "coverage", "answer_type", "R@1", "R@5", "MRR@10", ""],
                    [
                        [
                            r["dense"],
                            r["lexical"],
                            r["coverage"],
                            r["answer_type"],
                            r["r1"],
                            r["r5"],
                            r["mrr10"],
                            "<- current default" if r["default"] else "",
                        ]
                        for r in rows
                    ],
                )
            )
            result["ranking_grid"] = rows

        if args.calibrate:
            result["calibration"] = calibrate(args, corpus, encoders, questions, asked, pair)
    return result


def calibrate(
    args: argparse.Namespace,
    corpus: Corpus,
    encoders: Mapping[str, Encoder],
    questions: Sequence[str],
    asked: Sequence[Asked],
    pair: LanguagePair,
) -> dict[str, Any]:
    """The threshold table (``pair.threshold_field``), a recommendation, and its check."""
    field = pair.threshold_field
    limit = corpus.config.max_question_chars
    offtopic = [clean_question(q, limit=limit) for q in read_questions(pair.offtopic_file)]
    if args.quick:
        offtopic = offtopic[:QUICK_OFFTOPIC]
    off_asked = ask_all(corpus.library, offtopic)
    rows = calibration_table(asked, off_asked, corpus.relevant)
    best = recommend(rows)
    print(
        f"\nCalibration: {len(questions)} XQuAD questions, {len(offtopic)} off-topic questions "
        f"({pair.offtopic_file.name}). A question is answered when any of the reranked candidates "
        "reaches the threshold (that is the Retriever's rule); R@1 is then of the top hit it "
        "returns, refusals counting as misses."
    )
    print(
        table(
            [
                field,
                "false refusals",
                "false answers",
                "R@1 (filtered)",
                "top changed",
                "",
            ],
            [
                [
                    r["threshold"],
                    r["false_refusals"],
                    r["false_answers"],
                    r["r1"],
                    r["top_changed"],
                    "<- recommended" if best is not None and r is best else "",
                ]
                for r in rows
            ],
        )
    )

    def quantiles(values: Sequence[float]) -> list[float]:
        return [round(float(np.percentile(values, q)), 4) for q in (5, 25, 50, 75, 95)]

    xq_max = [a.max_confidence for a in asked]
    off_max = [a.max_confidence for a in off_asked]
    xq_top = [a.top_confidence for a in asked]
    off_top = [a.top_confidence for a in off_asked]
    # The highest threshold that refuses at most MAX_FALSE_REFUSALS of the XQuAD questions.
    exact = float(np.quantile(xq_max, MAX_FALSE_REFUSALS, method="lower"))
    exact_false_answers = sum(1 for c in off_max if c >= exact) / len(off_max)
    print(
        "Confidence percentiles (5/25/50/75/95), max over candidates: "
        f"XQuAD {quantiles(xq_max)}, off-topic {quantiles(off_max)}; "
        f"of the top hit: XQuAD {quantiles(xq_top)}, off-topic {quantiles(off_top)}"
    )
    print(
        f"Exact: the highest threshold refusing <= {MAX_FALSE_REFUSALS:.0%} of XQuAD is "
        f"{exact:.4f}, which answers {exact_false_answers:.1%} of the off-topic questions."
    )
    out: dict[str, Any] = {
        "field": field,
        "offtopic_questions": len(offtopic),
        "table": rows,
        "recommended": best,
        "exact_threshold": exact,
        "exact_false_answers": exact_false_answers,
        "percentiles_max": {"xquad": quantiles(xq_max), "offtopic": quantiles(off_max)},
        "percentiles_top": {"xquad": quantiles(xq_top), "offtopic": quantiles(off_top)},
        "offtopic_answered_at_recommended": [
            {"question": q, "confidence": round(a.max_confidence, 4)}
            for q, a in zip(offtopic, off_asked, strict=True)
            if best is not None and a.max_confidence >= best["threshold"]
        ],
    }
    if best is None:
        print(f"No threshold in the table keeps false refusals <= {MAX_FALSE_REFUSALS:.0%}.")
        return out
    print(
        f"Recommended {field} = {best['threshold']}: false refusals "
        f"{best['false_refusals']:.1%}, false answers {best['false_answers']:.1%}, "
        f"R@1 with the filter {best['r1']:.3f}"
    )
    if not args.no_verify:
        check = verify(
            corpus, encoders, field, best["threshold"], questions, offtopic, asked, off_asked
        )
        print(
            f"Verified with a Library at {field}={check['threshold']}: false refusals "
            f"{check['false_refusals']:.1%}, false answers {check['false_answers']:.1%}, "
            f"{check['mismatches_with_prediction']} answered/refused differently than predicted"
        )
        out["verified"] = check
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    name = args.output if not args.quick else args.output.replace(".json", "-quick.json")
    path = write_json(name, result)
    print(f"\nWrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
