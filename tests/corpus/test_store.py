"""The SQLite store: migrations, WAL, one transaction per change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from corpus.chunking import chunk_text
from corpus.errors import SourceNotFound, StoreError
from corpus.loaders import load_bytes
from corpus.migrations import MIGRATIONS
from corpus.store import DB_NAME, Store
from tests.documents import markdown


def _document(body: str = "One sentence here. Another sentence there.", **meta: object):
    document = load_bytes(markdown(body, **meta).encode(), "doc.md")
    return document, chunk_text(document.text, "en")


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    Store(data_dir=tmp_path).close()
    Store(data_dir=tmp_path).close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    rows = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    assert rows[0][1] == "m001_initial"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(data_dir=tmp_path).close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute("INSERT INTO schema_migrations VALUES (999, 'm999_future', datetime('now'))")
    db.commit()
    with pytest.raises(StoreError, match="newer than this citebot"):
        Store(data_dir=tmp_path)


def test_replace_keeps_one_copy_and_bumps_the_version(tmp_path: Path) -> None:
    store = Store(data_dir=tmp_path)
    assert store.corpus_version() == 0
    [(source, replaced)] = store.replace_sources([_document()])
    assert not replaced and source.passage_count == 1
    [(again, replaced)] = store.replace_sources([_document("A new text. It differs.")])
    assert replaced and again.id == source.id
    assert store.passage_count() == 1
    assert store.corpus_version() == 2
    assert again.added_at == source.added_at


def test_remove_deletes_passages_and_unknown_ids_are_refused(tmp_path: Path) -> None:
    store = Store(data_dir=tmp_path)
    [(source, _)] = store.replace_sources([_document()])
    store.remove_source(source.id)
    assert store.sources() == [] and store.passage_count() == 0
    with pytest.raises(SourceNotFound):
        store.remove_source(source.id)


def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    store = Store(data_dir=tmp_path)
    store.replace_sources([_document()])
    before = (store.corpus_version(), store.passage_count())
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("DELETE FROM passages")
        raise RuntimeError("crash in the middle")
    assert (store.corpus_version(), store.passage_count()) == before


def test_data_directory_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError):
        Store(data_dir=blocker / "data")
