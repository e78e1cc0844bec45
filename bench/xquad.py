"""Retrieval quality on XQuAD: Recall@1, Recall@5 and MRR@10 per channel, stage and policy.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/xquad.py                   # every pair
    PYTHONPATH=. .venv/bin/python bench/xquad.py --pair ru-en      # one pair
    PYTHONPATH=. .venv/bin/python bench/xquad.py --ablations       # + each stage's worth
    PYTHONPATH=. .venv/bin/python bench/xquad.py --quick           # a few articles

Each of the 48 XQuAD articles becomes one Markdown document (front matter: the article title,
published 2020-01, the documents' language; body: its paragraph contexts joined by blank lines),
ingested with the real ``Indexer`` into a temporary data directory. A hit is a passage whose
text contains the gold answer (``answers[0].text`` of the documents' language). Pairs: en-en,
ru-en (Russian questions, English articles), ru-ru, be-en (the hand-written Belarusian
translations of ``bench/data/xquad_be.yaml`` over the English articles). Reported per pair:

(a) dense only: the FAISS cosine of the question vector;
(b) BM25 only;
(c) the first stage: both fused by the policy's weights (``stages.first_stage``);
(d) the full pipeline's ranking (``Retriever.rank``: plan, first stage, rerank), no decision;
and with ``--ablations`` the pipeline under policies with one stage's weight set to zero.
Results are printed and written to bench/results/xquad.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PAIRS,
    Benchmark,
    article_documents,
    ingest,
    load_benchmark,
    machine_info,
    print_machine,
    table,
    write_json,
)
from retrieval.config import RetrievalConfig
from retrieval.encoders import Encoder, load_encoders
from retrieval.policy import DENSE, LEXICAL, Policy
from retrieval.service import Library, Retriever
from retrieval.stages import first_stage, plan

RECALL_AT = (1, 5)
MRR_AT = 10
QUICK_ARTICLES = 6


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
    n = len(ranks) or 1
    r1, r5 = (sum(1 for x in ranks if x is not None and x <= k) / n for k in RECALL_AT)
    mrr = sum(1.0 / x for x in ranks if x is not None) / n
    return Metrics(r1=r1, r5=r5, mrr10=mrr, n=len(ranks))


@dataclass(slots=True)
class Corpus:
    """An ingested benchmark: the library, and the passages holding each gold answer."""

    library: Library
    relevant: list[set[int]]
    questions: list[str]
    passages: int
    ingest_seconds: float


def build_corpus(benchmark: Benchmark, encoders: Mapping[str, Encoder], data_dir: Path) -> Corpus:
    """Ingest the articles and find, for each question, the passages containing its answer."""
    config = RetrievalConfig(data_dir=data_dir)
    built = ingest(config, encoders, article_documents(benchmark))
    _, stored = built.store.corpus.snapshot()
    relevant = [{p.id for p in stored if qa.answer in p.text} for qa in benchmark.questions]
    return Corpus(
        library=Library(config=config, store=built.store, encoders=encoders),
        relevant=relevant,
        questions=[qa.question for qa in benchmark.questions],
        passages=len(stored),
        ingest_seconds=built.seconds,
    )


def channel_rankings(retriever: Retriever, questions: Sequence[str]) -> dict[str, list[list[int]]]:
    """Rankings of the dense channel, BM25 and the first stage, per question."""
    policy = retriever.policy
    n = policy.first.per_channel
    out: dict[str, list[list[int]]] = {"dense": [], "bm25": [], "first": []}
    encoder = retriever.channels[DENSE].encoder
    for question in questions:
        planned = plan(question, policy)
        dense = retriever.channels[DENSE].dense.search(encoder.encode_queries([planned.text])[0], n)
        lexical = retriever.lexical.search(planned.question.tokens, n)
        out["dense"].append([pid for pid, _ in dense][:MRR_AT])
        out["bm25"].append([pid for pid, _ in lexical][:MRR_AT])
        found = {DENSE: dict(dense), LEXICAL: dict(lexical)}
        out["first"].append(first_stage(planned, found, retriever.lexical.language_of, policy))
    return out


def pipeline_rankings(
    retriever: Retriever, questions: Sequence[str], policy: Policy
) -> list[list[int]]:
    """The full pipeline's ranking (before any decision) under ``policy``."""
    return [[r.passage.id for r in retriever.rank(q, policy=policy)[1]][:MRR_AT] for q in questions]


def answered_rankings(retriever: Retriever, questions: Sequence[str]) -> list[list[int]]:
    """What a reader is shown: the pipeline with its decision and time stage (a refusal shows
    nothing, a miss)."""
    out = []
    for question in questions:
        answer = retriever.search(question, k=MRR_AT)
        out.append([h.passage.id for h in answer.hits])
    return out


def _rerank(policy: Policy, **update: float) -> Policy:
    return policy.model_copy(update={"rerank": policy.rerank.model_copy(update=update)})


#: Each variant switches one thing off (or on), everything else as shipped.
ABLATIONS: dict[str, Callable[[Policy], Policy]] = {
    "no passage evidence (rerank dense=lexical=0)": lambda p: _rerank(p, dense=0.0, lexical=0.0),
    "no word coverage": lambda p: _rerank(p, coverage=0.0),
    "no answer type": lambda p: _rerank(p, answer_type=0.0),
    "no sentence cosine": lambda p: _rerank(p, cosine=0.0),
    "glossary on": lambda p: p.model_copy(update={"glossary": True}),
}


def run_pair(
    name: str, encoders: Mapping[str, Encoder], *, quick: bool, ablations: bool
) -> dict[str, Any]:
    """Every measurement of one language pair."""
    pair = PAIRS[name]
    benchmark = load_benchmark(pair, articles=QUICK_ARTICLES if quick else None)
    with tempfile.TemporaryDirectory(prefix="citebot-xquad-") as folder:
        corpus = build_corpus(benchmark, encoders, Path(folder))
        retriever = corpus.library.retriever
        print(
            f"\n{pair.name}: {len(benchmark.articles)} documents -> {corpus.passages} passages "
            f"(ingest {corpus.ingest_seconds:.1f} s); {len(corpus.questions)} questions, "
            f"{sum(1 for g in corpus.relevant if not g)} with no passage holding the answer"
        )
        rankings = channel_rankings(retriever, corpus.questions)
        start = time.perf_counter()
        rankings["pipeline"] = pipeline_rankings(retriever, corpus.questions, retriever.policy)
        per_question = 1000 * (time.perf_counter() - start) / max(len(corpus.questions), 1)
        rankings["answered"] = answered_rankings(retriever, corpus.questions)
        labels = {
            "dense": "(a) dense only",
            "bm25": "(b) BM25 only",
            "first": "(c) first stage (fused)",
            "pipeline": "(d) full pipeline (ranking)",
            "answered": "(e) as shown (decision, time)",
        }
        if ablations:
            for label, change in ABLATIONS.items():
                rankings[label] = pipeline_rankings(
                    retriever, corpus.questions, change(retriever.policy)
                )
                labels[label] = f"    {label}"
        metrics = {key: evaluate(rankings[key], corpus.relevant) for key in labels}
        print(
            table(
                ["method", "R@1", "R@5", "MRR@10"],
                [[labels[k], m.r1, m.r5, m.mrr10] for k, m in metrics.items()],
            )
        )
        print(f"(full pipeline {per_question:.1f} ms a question, encoding included)")
        return {
            "pair": pair.name,
            "documents": len(benchmark.articles),
            "passages": corpus.passages,
            "questions": len(corpus.questions),
            "ingest_seconds": round(corpus.ingest_seconds, 2),
            "ms_per_question": round(per_question, 2),
            "metrics": {labels[k].strip(): asdict(m) for k, m in metrics.items()},
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", choices=[*PAIRS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_ARTICLES} articles")
    parser.add_argument("--ablations", action="store_true", help="each stage's worth")
    parser.add_argument("--output", default="xquad.json")
    args = parser.parse_args(argv)
    info = machine_info()
    print_machine(info)
    config = RetrievalConfig()
    encoders = load_encoders(config)
    pairs = list(PAIRS) if args.pair == "all" else [args.pair]
    result: dict[str, Any] = {"machine": info, "models": config.models(), "quick": args.quick}
    result["pairs"] = [
        run_pair(name, encoders, quick=args.quick, ablations=args.ablations) for name in pairs
    ]
    name = args.output.replace(".json", "-quick.json") if args.quick else args.output
    print(f"\nWrote {write_json(name, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
