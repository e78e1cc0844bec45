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
(e) the full pipeline, ``Library.search`` with every confidence bar switched off (multiplied by
    -1e9, which keeps their ratios), so that only the ranking is measured;
(f) for reference, the cross-lingual channel alone, when the configuration has one.

``--ranking-grid`` sweeps the second-stage weights (``Ranking.dense``, ``Ranking.lexical``,
``SentenceWeights.coverage``, ``SentenceWeights.answer_type``) through the real ``Retriever``.
``--calibrate`` reads each hit's ``confidence`` (what the Retriever compares with the bar) for the
XQuAD questions and for the off-topic questions of ``bench/offtopic_en.txt``, tabulates false
refusals against false answers per threshold as if the best 1, 3 or 9 passages decided whether a
question is answered (the Retriever uses its ``ANSWER_DEPTH``, 3, whatever k is asked for),
recommends a threshold for ``--answer-k``, and checks it by asking everything again through a real
``Library`` configured with it. Results are printed and
written to bench/results/xquad.json.

``--pair`` selects the language pair (questions file, documents file, the bar calibrated): en-en,
ru-en (Russian questions, English articles) or ru-ru.
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

import numpy as np

# `python bench/<script>.py` (as `make bench` runs it) puts bench/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from retrieval.service import ANSWER_DEPTH, Library, Ranking, Retriever, clean_question

#: Cut-offs of the reported metrics.
RECALL_AT = (1, 5)
MRR_AT = 10
#: The issue's baseline weights: txtai's hybrid scoring blends the two channels half and half.
BASELINE_WEIGHTS = (0.5, 0.5)
#: --quick keeps this many articles (and their questions) and this many off-topic questions.
QUICK_ARTICLES = 6
QUICK_OFFTOPIC = 30
#: The calibration table's thresholds: 0.200, 0.225, ..., 0.600.
THRESHOLDS = tuple(round(0.05 + 0.025 * i, 3) for i in range(23))
#: The depths the calibration tabulates (answered = one of the best k clears the bar): the top hit
#: alone, the Retriever's ANSWER_DEPTH, and the Telegram chat's MAX_HITS (what-ifs).
ANSWER_KS = (1, 3, 9)
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
    _, stored = built.store.corpus.snapshot()
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
    """One question through the full pipeline: its ranking and each ranked passage's confidence."""

    ranking: list[int]
    confidence: dict[int, float]
    #: The language the pipeline detected for the question.
    language: str | None = None

    @property
    def top_confidence(self) -> float:
        """Confidence of the best-ranked passage."""
        return self.confidence_within(1)

    def confidence_within(self, k: int) -> float:
        """The best confidence among the top ``k``: the Retriever answers a ``search(q, k)``
        when one of its best ``k`` passages clears the bar."""
        return max((self.confidence[p] for p in self.ranking[:k]), default=-math.inf)


def ask_all(library: Library, questions: Sequence[str]) -> list[Asked]:
    """Every question through ``Library.search`` with the thresholds off: the whole reranked list
    and each hit's confidence (``Hit.confidence``, what the Retriever compares with the bar,
    rounded to 4 decimals)."""
    depth = max(MRR_AT, library.retriever.ranking.rerank)  # asking for more reranks no more
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
) -> list[dict[str, Any]]:
    """Per threshold and per k of ``ANSWER_KS``: false refusals (XQuAD questions refused), false
    answers (off-topic questions answered), and R@1 counting refusals as misses."""
    rows: list[dict[str, Any]] = []
    for t in THRESHOLDS:
        row: dict[str, Any] = {"threshold": t}
        for k in ANSWER_KS:
            answered = [a.confidence_within(k) >= t for a in xquad]
            row[f"false_refusals_k{k}"] = 1 - sum(answered) / len(xquad)
            row[f"false_answers_k{k}"] = sum(
                1 for a in offtopic if a.confidence_within(k) >= t
            ) / len(offtopic)
            # The answer shows the best k in ranking order (only passages far below the bar are
            # left out), so its first hit is normally the top-ranked passage.
            row[f"r1_k{k}"] = sum(
                1
                for ok, a, g in zip(answered, xquad, relevant, strict=True)
                if ok and a.ranking and a.ranking[0] in g
            ) / len(xquad)
        rows.append(row)
    return rows


def recommend(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any] | None:
    """The threshold with false refusals within the limit and the fewest false answers (at k)."""
    allowed = [r for r in rows if r[f"false_refusals_k{k}"] <= MAX_FALSE_REFUSALS]
    if not allowed:
        return None
    # Fewest false answers; among equals the lowest threshold (fewer refusals).
    return min(allowed, key=lambda r: (r[f"false_answers_k{k}"], r["threshold"]))


def verify(
    corpus: Corpus,
    encoders: Mapping[str, Encoder],
    field: str,
    threshold: float,
    k: int,
    questions: Sequence[str],
    offtopic: Sequence[str],
    expected: Sequence[Asked],
) -> dict[str, Any]:
    """Ask everything again, ``search(q, k)`` through a Library with the default configuration
    except ``field`` at ``threshold``; compare with the prediction from the confidences."""
    config = RetrievalConfig(data_dir=corpus.config.data_dir).model_copy(update={field: threshold})
    library = Library(config=config, store=corpus.library.store, encoders=encoders)
    answered = {"xquad": 0, "offtopic": 0}
    first_relevant = 0
    mismatches = 0
    texts = [("xquad", q) for q in questions] + [("offtopic", q) for q in offtopic]
    for i, ((name, text), asked) in enumerate(zip(texts, expected, strict=True)):
        answer = library.search(text, k=k)
        answered[name] += answer.answered
        mismatches += answer.answered != (asked.confidence_within(k) >= threshold)
        if name == "xquad" and answer.hits and answer.hits[0].passage.id in corpus.relevant[i]:
            first_relevant += 1
    return {
        "field": field,
        "threshold": threshold,
        "k": k,
        "false_refusals": 1 - answered["xquad"] / len(questions),
        "false_answers": answered["offtopic"] / len(offtopic),
        "r1": first_relevant / len(questions),
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
        "--answer-k",
        type=int,
        choices=ANSWER_KS,
        default=ANSWER_DEPTH,
        help="with --calibrate: how many best passages decide 'answered' (default: the "
        "Retriever's ANSWER_DEPTH, whatever the number of hits asked for)",
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
    encoders = load_encoders(RetrievalConfig())
    result: dict[str, Any] = {
        "machine": info,
        "pair": pair.name,
        "quick": args.quick,
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
                "top_confidence": a.top_confidence,
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
    """The threshold table (``pair.threshold_field``), a recommendation at ``--answer-k``, and a
    check of it through a real Library."""
    field, k = pair.threshold_field, args.answer_k
    limit = corpus.config.max_question_chars
    offtopic = [clean_question(q, limit=limit) for q in read_questions(pair.offtopic_file)]
    if args.quick:
        offtopic = offtopic[:QUICK_OFFTOPIC]
    off_asked = ask_all(corpus.library, offtopic)
    rows = calibration_table(asked, off_asked, corpus.relevant)
    best = recommend(rows, k)
    print(
        f"\nCalibration of {field}: {len(questions)} XQuAD questions, {len(offtopic)} off-topic "
        f"questions ({pair.offtopic_file.name}). Answered when one of the best k passages "
        f"reaches the bar (the Retriever's k is {ANSWER_DEPTH}). FR = false refusals (XQuAD "
        "questions refused), FA = false answers (off-topic questions answered), R@1 counts "
        "refusals as misses."
    )
    headers = [field]
    for answer_k in ANSWER_KS:
        headers += [f"FR k={answer_k}", f"FA k={answer_k}", f"R@1 k={answer_k}"]
    print(
        table(
            [*headers, ""],
            [
                [
                    r["threshold"],
                    *(
                        r[f"{name}_k{answer_k}"]
                        for answer_k in ANSWER_KS
                        for name in ("false_refusals", "false_answers", "r1")
                    ),
                    f"<- recommended for k={k}" if r is best else "",
                ]
                for r in rows
            ],
        )
    )

    def quantiles(values: Sequence[float]) -> list[float]:
        return [round(float(np.percentile(values, q)), 4) for q in (5, 25, 50, 75, 95)]

    xq = [a.confidence_within(k) for a in asked]
    off = [a.confidence_within(k) for a in off_asked]
    # The highest threshold that refuses at most MAX_FALSE_REFUSALS of the XQuAD questions.
    exact = float(np.quantile(xq, MAX_FALSE_REFUSALS, method="lower"))
    exact_false_answers = sum(1 for c in off if c >= exact) / len(off)
    print(
        f"Best confidence within the top {k}, percentiles 5/25/50/75/95: XQuAD {quantiles(xq)}, "
        f"off-topic {quantiles(off)}. The highest bar refusing <= {MAX_FALSE_REFUSALS:.0%} of "
        f"XQuAD is {exact:.4f}; it answers {exact_false_answers:.1%} of the off-topic questions."
    )
    out: dict[str, Any] = {
        "field": field,
        "k": k,
        "default": RetrievalConfig().model_dump()[field],
        "offtopic_questions": len(offtopic),
        "table": rows,
        "recommended": best,
        "exact_threshold": exact,
        "exact_false_answers": exact_false_answers,
        "percentiles": {"xquad": quantiles(xq), "offtopic": quantiles(off)},
    }
    if best is None:
        print(f"No threshold in the table keeps false refusals <= {MAX_FALSE_REFUSALS:.0%}.")
        return out
    t = best["threshold"]
    out["offtopic_answered_at_recommended"] = [
        {"question": q, "confidence": c} for q, c in zip(offtopic, off, strict=True) if c >= t
    ]
    print(
        f"Recommended {field} = {t} (k={k}): false refusals "
        f"{best[f'false_refusals_k{k}']:.1%}, false answers {best[f'false_answers_k{k}']:.1%}, "
        f"R@1 {best[f'r1_k{k}']:.3f} (default {out['default']})"
    )
    if not args.no_verify:
        check = verify(corpus, encoders, field, t, k, questions, offtopic, [*asked, *off_asked])
        print(
            f"Verified with a Library at {field}={t}, search(q, k={k}): false refusals "
            f"{check['false_refusals']:.1%}, false answers {check['false_answers']:.1%}, "
            f"R@1 {check['r1']:.3f}; {check['mismatches_with_prediction']} questions answered or "
            "refused otherwise than predicted"
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
