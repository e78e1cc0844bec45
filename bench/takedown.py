"""What a removal that leaves nothing behind costs, and what it leaves without ``secure_delete``.

A synthetic corpus (documents of ordinary sentences, chunked by the real chunker; random
vectors stand in for the embeddings, 384 and 512 dimensions like the two shipped models) is
written straight into a ``Store``, which is the only part this measures: the removal's
transaction (passages, the embedding-cache rows no passage uses any more, the audit log), the
checkpoint that truncates the write-ahead log, and with ``secure_delete`` on (shipped) or off.
Then the database files are searched for the removed document's sentences.

Run: ``PYTHONPATH=. .venv/bin/python bench/takedown.py`` (a few minutes; ``--quick`` for a small
corpus).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import machine_info, print_machine, table, write_json
from corpus.chunking import chunk_text
from corpus.engine import SqliteDatabase
from corpus.loaders import Document, load_bytes
from corpus.store import Store, text_hash
from tests.documents import markdown

MODELS = {"dense": 384, "xling": 512}


def document(number: int, passages: int) -> Document:
    sentences = [
        f"Report {number} line {i} says that {number * 7 + i} people were held in town {i}."
        for i in range(passages * 3)
    ]
    body = "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))
    return load_bytes(markdown(body, title=f"Report {number}").encode(), f"report-{number}.md")


def texts_of(doc: Document) -> list[str]:
    texts = []
    for chunk in chunk_text(doc.text, "en"):
        passage = doc.text[chunk.start : chunk.end]
        texts.append(passage)
        texts.extend(passage[s.start : s.end].strip() for s in chunk.sentences)
    return texts


def build(folder: Path, documents: int, per_document: int, *, secure: bool) -> Store:
    store = Store(data_dir=folder)
    if not secure:
        assert isinstance(store.database, SqliteDatabase)  # no URL: SQLite
        store.database._db().execute("PRAGMA secure_delete=OFF")
    rng = np.random.default_rng(0)
    for start in range(0, documents, 50):
        docs = [document(n, per_document) for n in range(start, min(documents, start + 50))]
        for model, dimension in MODELS.items():
            texts = {text_hash(t) for d in docs for t in texts_of(d)}
            store.corpus.put_vectors(
                model,
                {h: rng.standard_normal(dimension, dtype=np.float32).tobytes() for h in texts},
            )
        store.corpus.replace_sources([(d, chunk_text(d.text, "en")) for d in docs])
    return store


def leftovers(folder: Path, sentences: list[str]) -> int:
    """How many of ``sentences`` some file of ``folder`` still holds."""
    blobs = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    return sum(1 for s in sentences if any(s.encode() in b for b in blobs))


def measure(documents: int, per_document: int, removals: int, *, secure: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="takedown-") as scratch:
        folder = Path(scratch)
        store = build(folder, documents, per_document, secure=secure)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        sources = store.corpus.sources()
        remove_times, replace_times, left = [], [], []
        for source in sources[:removals]:
            number = int(source.title.split()[-1])
            sentences = [t for t in texts_of(document(number, per_document)) if t.count(".") == 1]
            start = time.perf_counter()
            store.corpus.remove_source(source.id)
            remove_times.append(time.perf_counter() - start)
            left.append(leftovers(folder, sentences))
        for source in sources[removals : 2 * removals]:
            number = int(source.title.split()[-1])
            changed = document(number, per_document)
            start = time.perf_counter()
            store.corpus.replace_sources([(changed, chunk_text(changed.text, "en"))])
            replace_times.append(time.perf_counter() - start)
        store.close()
        return {
            "secure_delete": secure,
            "documents": documents,
            "passages": documents * per_document,
            "database_mb": round(size / 2**20, 1),
            "remove_ms_median": round(1000 * statistics.median(remove_times), 1),
            "remove_ms_max": round(1000 * max(remove_times), 1),
            "replace_ms_median": round(1000 * statistics.median(replace_times), 1),
            "sentences_left_after_removal": sum(left),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small corpus only")
    options = parser.parse_args()
    info = machine_info()
    print_machine(info)
    sizes = [(100, 20)] if options.quick else [(100, 20), (1_000, 20)]
    results = []
    for documents, per_document in sizes:
        for secure in (True, False):
            print(f"{documents} documents, secure_delete {'on' if secure else 'off'}...")
            results.append(measure(documents, per_document, 10, secure=secure))
    rows = [
        (
            r["passages"],
            "on" if r["secure_delete"] else "off",
            r["database_mb"],
            r["remove_ms_median"],
            r["remove_ms_max"],
            r["replace_ms_median"],
            r["sentences_left_after_removal"],
        )
        for r in results
    ]
    print()
    print(
        table(
            (
                "passages",
                "secure_delete",
                "DB MB",
                "remove ms (median)",
                "remove ms (max)",
                "replace ms",
                "removed sentences still on disk",
            ),
            rows,
        )
    )
    path = write_json(
        "takedown-quick.json" if options.quick else "takedown.json",
        {"machine": info, "results": results},
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
