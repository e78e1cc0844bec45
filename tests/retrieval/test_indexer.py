"""Ingest, replace, remove, and the index that must follow every change atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.services import Services
from corpus.loaders import load_bytes, load_path
from retrieval.errors import IndexMismatch
from retrieval.index_files import CURRENT, IndexFiles
from retrieval.indexer import Status
from retrieval.lexical import tokenize
from tests.documents import CANONICAL, ROOT, SEED, markdown

BODY = (
    "The Viasna centre counted 1,150 political prisoners in November 2025. "
    "That figure fell from about 1,200 in September. "
    "Releases continued under a pardon programme.\n\n"
    "Dozens of new arrests were reported in Hrodna. "
    "Families said relatives were detained for old comments online. "
    "Lawyers were not allowed to see them."
)


def _doc(body: str = BODY, name: str = "viasna.md", **meta: object):
    return load_bytes(markdown(body, title="Viasna monthly", **meta).encode(), name)


def test_reingest_replaces_without_duplicates_or_reembedding(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    [first] = services.indexer.ingest([_doc()])
    assert first.status is Status.ADDED and first.embedded > 0
    count = services.store.corpus.passage_count()

    [same] = services.indexer.ingest([_doc()])
    assert same.status is Status.UNCHANGED and same.embedded == 0

    changed = BODY.replace("Lawyers were not allowed to see them.", "Lawyers saw them once.")
    [second] = services.indexer.ingest([_doc(changed)])
    assert second.status is Status.REPLACED
    assert services.store.corpus.passage_count() == count
    # Only the changed passage and its changed sentence are embedded again.
    assert second.embedded == 2
    assert len(services.store.corpus.sources()) == 1


def test_remove_removes_from_sqlite_faiss_and_bm25(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    services.indexer.ingest([load_path(SEED), _doc()])
    library = services.library
    assert (
        "1,150"
        in library.search("How many political prisoners did Viasna count?").hits[0].passage.text
    )
    viasna = next(s for s in services.store.corpus.sources() if s.title == "Viasna monthly")

    services.indexer.remove(viasna.id)
    assert library.refresh()
    retriever = library.retriever
    assert all(s.id != viasna.id for s in services.store.corpus.sources())
    assert len(retriever.dense) == services.store.corpus.passage_count()
    assert retriever.lexical.search(tokenize("Viasna Hrodna", "en"), 10) == []
    for question in ("How many political prisoners did Viasna count?", "arrests in Hrodna"):
        for hit in library.search(question).hits:
            assert "Viasna" not in hit.passage.text and "Hrodna" not in hit.passage.text


def test_an_index_built_with_another_model_is_refused(
    make_services: Callable[..., Services], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("mismatch")
    make_services(folder).indexer.ingest([_doc()])
    other = make_services(folder, CITEBOT_MODEL="sentence-transformers/some-other-model")
    with pytest.raises(IndexMismatch, match="citebot reindex"):
        other.indexer.ingest([_doc(name="other.md")])
    with pytest.raises(IndexMismatch, match="some-other-model"):
        other.indexer.ensure_current()
    # Nothing was written by the refused ingest.
    assert [s.identity for s in other.store.corpus.sources()] == ["viasna.md"]


def test_a_library_refuses_a_manifest_for_other_encoders(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    services.indexer.ingest([_doc()])
    _, manifest = IndexFiles(data_dir=services.config.data_dir).current()
    models = manifest.models()
    assert models == {"dense": "multilingual-e5-small"}
    dimensions = {name: info.dimension for name, info in manifest.channels.items()}
    assert dimensions == {"dense": 384}
    manifest.check(models, dimensions)
    with pytest.raises(IndexMismatch, match="384"):
        manifest.check(models, {"dense": 768})
    with pytest.raises(IndexMismatch, match="CITEBOT_MODEL"):
        manifest.check({"dense": "other"})


def test_a_stale_index_is_rebuilt_from_cached_vectors(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    services.indexer.ingest([_doc()])
    services.store.corpus.touch()  # as if a writer died after its commit, before publishing
    assert not services.indexer.is_current()
    manifest = services.indexer.ensure_current()
    assert manifest.corpus_version == services.store.corpus.corpus_version()


def test_a_failed_build_leaves_the_previous_index_in_place(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    services.indexer.ingest([_doc()])
    files = IndexFiles(data_dir=services.config.data_dir)
    before = (files.root / CURRENT).read_text()
    _, manifest = files.current()

    def crash(folder: Path) -> None:
        (folder / "passages.faiss").write_bytes(b"half a file")
        raise OSError("disk full")

    with files.writing(), pytest.raises(OSError):
        files.publish(manifest, crash)
    assert (files.root / CURRENT).read_text() == before
    assert not list(files.root.glob(".tmp-*"))
    assert services.library.search(CANONICAL) is not None


def test_killing_an_ingest_never_breaks_the_corpus_or_index(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    """SIGKILL a real `citebot ingest` at several moments; the data directory stays usable."""
    data = tmp_path / "data"
    services = make_services(data)
    services.indexer.ingest([load_path(SEED)])
    services.close()
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(30):
        sentences = " ".join(
            f"Report {i} sentence {j} says {i * 100 + j} people were detained in town {j}."
            for j in range(40)
        )
        (docs / f"report-{i}.md").write_text(markdown(sentences, title=f"Report {i}"))
    env = {**os.environ, "CITEBOT_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    for delay in (2.0, 5.0, 8.0):
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ingest", str(docs)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        survivor = make_services(data)
        sources = survivor.store.corpus.sources()
        assert any(s.identity == SEED.name for s in sources)
        # Either all 31 documents (one transaction) or just the seed: never a partial corpus.
        assert len(sources) in (1, 31)
        answer = survivor.library.search(CANONICAL)
        assert "1,200" in answer.hits[0].passage.text
        assert survivor.indexer.is_current()
        retriever = survivor.library.retriever
        for channel in retriever.channels.values():
            assert len(channel.dense) == survivor.store.corpus.passage_count()
            assert np.isfinite(channel.sentences.vectors).all()
        survivor.close()
