"""Shared helpers of the benchmark scripts: XQuAD loading, corpus building, machine facts, output.

Not a benchmark itself; ``bench/xquad.py`` and ``bench/latency.py`` import it. Run those from the
repository root with ``PYTHONPATH=.`` so that ``bench.common`` and the project packages import.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from corpus.loaders import Document, load_bytes
from corpus.store import Store
from retrieval.config import RetrievalConfig
from retrieval.encoders import Encoder
from retrieval.indexer import Indexer, IngestResult

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
XQUAD_DIR = Path(os.environ.get("CITEBOT_XQUAD_DIR", "/work/shared/data/xquad"))

#: Every XQuAD document gets this publication month: the articles are the SQuAD 2016 snapshot, and
#: the date only matters for citations, never for ranking.
XQUAD_PUBLISHED = "2020-01"


# -- XQuAD --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QA:
    """One XQuAD question and its gold answer (``answers[0].text``)."""

    id: str
    article: int
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Article:
    """One XQuAD article: its title and paragraph contexts, in order."""

    title: str
    contexts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Squad:
    """A SQuAD-format file: the articles and every question, in file order."""

    articles: tuple[Article, ...]
    questions: tuple[QA, ...]


def load_squad(path: Path) -> Squad:
    """Read a SQuAD v1.1 file such as ``xquad.en.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    articles: list[Article] = []
    questions: list[QA] = []
    for index, item in enumerate(data):
        contexts = tuple(p["context"] for p in item["paragraphs"])
        articles.append(Article(title=item["title"], contexts=contexts))
        for paragraph in item["paragraphs"]:
            for qa in paragraph["qas"]:
                questions.append(
                    QA(
                        id=qa["id"],
                        article=index,
                        question=qa["question"],
                        answer=qa["answers"][0]["text"],
                    )
                )
    return Squad(articles=tuple(articles), questions=tuple(questions))


@dataclass(frozen=True, slots=True)
class LanguagePair:
    """Questions in one language against documents in another (answers come from the documents)."""

    name: str
    questions_file: Path
    documents_file: Path
    documents_language: str
    offtopic_file: Path
    questions_language: str = "en"


PAIRS: dict[str, LanguagePair] = {
    "en-en": LanguagePair(
        name="EN->EN",
        questions_file=XQUAD_DIR / "xquad.en.json",
        documents_file=XQUAD_DIR / "xquad.en.json",
        documents_language="en",
        offtopic_file=BENCH_DIR / "offtopic_en.txt",
    ),
    # Prepared for the multilingual runs; the gold answer is always the documents' answer text,
    # matched to the question by its XQuAD id.
    "ru-en": LanguagePair(
        name="RU->EN",
        questions_file=XQUAD_DIR / "xquad.ru.json",
        documents_file=XQUAD_DIR / "xquad.en.json",
        documents_language="en",
        offtopic_file=BENCH_DIR / "offtopic_ru.txt",
        questions_language="ru",
    ),
    "ru-ru": LanguagePair(
        name="RU->RU",
        questions_file=XQUAD_DIR / "xquad.ru.json",
        documents_file=XQUAD_DIR / "xquad.ru.json",
        documents_language="ru",
        offtopic_file=BENCH_DIR / "offtopic_ru.txt",
        questions_language="ru",
    ),
    # Hand-written Belarusian translations of XQuAD questions (by id), over the English articles.
    "be-en": LanguagePair(
        name="BE->EN",
        questions_file=BENCH_DIR / "data" / "xquad_be.yaml",
        documents_file=XQUAD_DIR / "xquad.en.json",
        documents_language="en",
        offtopic_file=BENCH_DIR / "offtopic_be.txt",
        questions_language="be",
    ),
}


@dataclass(frozen=True, slots=True)
class Benchmark:
    """What one language pair evaluates: documents to ingest and questions with gold answers."""

    pair: LanguagePair
    articles: tuple[Article, ...]
    questions: tuple[QA, ...]


def load_benchmark(pair: LanguagePair, *, articles: int | None = None) -> Benchmark:
    """The documents and questions of ``pair``; ``articles`` keeps only the first few articles."""
    documents = load_squad(pair.documents_file)
    gold = {qa.id: qa for qa in documents.questions}
    if pair.questions_file.suffix == ".yaml":
        listed = yaml.safe_load(pair.questions_file.read_text(encoding="utf-8"))
        asked = Squad(
            articles=(),
            questions=tuple(
                QA(id=q["id"], article=-1, question=q["question"], answer="") for q in listed
            ),
        )
    else:
        asked = load_squad(pair.questions_file)
    keep = len(documents.articles) if articles is None else articles
    questions = tuple(
        QA(id=qa.id, article=gold[qa.id].article, question=qa.question, answer=gold[qa.id].answer)
        for qa in asked.questions
        if qa.id in gold and gold[qa.id].article < keep
    )
    return Benchmark(pair=pair, articles=documents.articles[:keep], questions=questions)


def markdown_document(
    name: str, title: str, body: str, *, language: str, published: str = XQUAD_PUBLISHED
) -> Document:
    """A Markdown text with front matter, loaded by the project's own loader."""
    front = yaml.safe_dump(
        {"title": title, "published": published, "language": language},
        allow_unicode=True,
        sort_keys=False,
    )
    return load_bytes(f"---\n{front}---\n\n{body}\n".encode(), name)


def article_documents(benchmark: Benchmark) -> list[Document]:
    """Each article one document: its paragraph contexts joined by blank lines."""
    return [
        markdown_document(
            f"xquad-{index:02d}.md",
            article.title.replace("_", " "),
            "\n\n".join(article.contexts),
            language=benchmark.pair.documents_language,
        )
        for index, article in enumerate(benchmark.articles)
    ]


# -- corpus ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Built:
    """A data directory after ingest, with what the ingest did and how long it took."""

    config: RetrievalConfig
    store: Store
    indexer: Indexer
    results: list[IngestResult]
    seconds: float

    @property
    def passages(self) -> int:
        """Passages in the corpus."""
        return self.store.corpus.passage_count()

    @property
    def embedded(self) -> int:
        """Texts (passages and sentences) the ingest had to embed."""
        return sum(r.embedded for r in self.results)


def ingest(
    config: RetrievalConfig, encoders: Mapping[str, Encoder], documents: Sequence[Document]
) -> Built:
    """Ingest ``documents`` into ``config.data_dir`` with the real Indexer, timed."""
    store = Store(data_dir=config.data_dir)
    indexer = Indexer(config=config, store=store, encoders=lambda: encoders)
    start = time.perf_counter()
    results = indexer.ingest(documents)
    seconds = time.perf_counter() - start
    return Built(config=config, store=store, indexer=indexer, results=results, seconds=seconds)


# -- measuring ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation; NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return float(statistics.median(values)) if values else float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Read from /proc/self/status (VmHWM): ``getrusage``'s ru_maxrss survives ``exec``, so a
    subprocess would report its parent's peak if that was higher.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def load_average() -> tuple[float, float, float]:
    """The 1-, 5- and 15-minute load averages."""
    return os.getloadavg()


def source_state() -> dict[str, Any]:
    """The commit measured and the project files changed since (the code may be mid-edit)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True, check=True
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    # Porcelain lines are "XY path": the status letters may start with a space, so no strip.
    changed = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if line[3:] and not line[3:].startswith("bench/")
    ]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "changed_files": changed}


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM, date, load and library versions: what the numbers depend on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    import faiss
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram_gib, 1),
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "load_average": [round(x, 2) for x in load_average()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "source": source_state(),
    }


def print_machine(info: dict[str, Any]) -> None:
    """Print the machine facts as a short block."""
    load = ", ".join(f"{x:.2f}" for x in info["load_average"])
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM; "
        f"python {info['python']}, torch {info['torch']}, faiss {info['faiss']}"
    )
    print(f"Date: {info['date']}; load average (1/5/15 min): {load}")
    source = info["source"]
    dirty = (
        f", {len(source['changed_files'])} project files changed since"
        if source["changed_files"]
        else ""
    )
    print(f"Code: commit {source['commit']}{dirty}")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, columns padded to their widest cell (numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>`` (gitignored) and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """``function()`` and the seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start
