"""The store on both engines: migrations, one transaction per change with its audit row."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from corpus.chunking import chunk_text
from corpus.errors import SourceNotFound, StoreError
from corpus.loaders import load_bytes
from corpus.migrations import MIGRATIONS
from corpus.store import DB_NAME, Store
from tests.documents import markdown
from tests.postgres import PostgresServer


def _document(
    body: str = "One sentence here. Another sentence there.", name: str = "doc.md", **meta: object
):
    document = load_bytes(markdown(body, **meta).encode(), name)
    return document, chunk_text(document.text, "en")


@pytest.fixture
def open_store(tmp_path: Path, database_url: str | None) -> Iterator[Callable[[], Store]]:
    """Open the store of this test's database (either engine), migrated; closed afterwards."""
    opened: list[Store] = []

    def make() -> Store:
        store = Store(data_dir=tmp_path, url=database_url, migrate_schema=True)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def test_migrations_run_once_and_are_recorded(open_store: Callable[[], Store]) -> None:
    open_store()
    store = open_store()
    rows = store.database.execute("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    assert rows[0][1] == "m001_initial"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    Store(data_dir=tmp_path).close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(open_store: Callable[[], Store], database_url: str | None):
    store = open_store()
    with store.database.transaction() as db:
        db.execute(
            "INSERT INTO schema_migrations VALUES (999, 'm999_future', '2099-01-01T00:00:00')"
        )
    with pytest.raises(StoreError, match="newer than this citebot"):
        Store(data_dir=store.data_dir, url=database_url)


def test_postgres_is_migrated_once_by_request_not_by_every_replica(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.database()
    with pytest.raises(StoreError, match="run `citebot migrate`"):
        Store(data_dir=tmp_path, url=url)
    Store(data_dir=tmp_path, url=url, migrate_schema=True).close()
    Store(data_dir=tmp_path, url=url).close()


def test_concurrent_migrations_apply_each_step_once(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.database()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            Store(data_dir=tmp_path, url=url, migrate_schema=True).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        count = conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
    assert count == len(MIGRATIONS)


def test_a_bad_database_url_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="postgresql://"):
        Store(data_dir=tmp_path, url="mysql://db/citebot")
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL.*:\*\*\*@") as caught:
        Store(data_dir=tmp_path, url="postgresql://bot:hunter2@127.0.0.1:1/citebot")
    assert "hunter2" not in str(caught.value)


def test_replace_keeps_one_copy_and_bumps_the_version(open_store: Callable[[], Store]) -> None:
    store = open_store()
    assert store.corpus.corpus_version() == 0
    [(source, replaced)] = store.corpus.replace_sources([_document()])
    assert not replaced and source.passage_count == 1
    [(again, replaced)] = store.corpus.replace_sources([_document("A new text. It differs.")])
    assert replaced and again.id == source.id
    assert store.corpus.passage_count() == 1
    assert store.corpus.corpus_version() == 2
    assert again.added_at == source.added_at
    assert [e.action for e in store.moderation.history()] == ["replace", "add"]


def test_reads_agree_with_what_was_written(open_store: Callable[[], Store]) -> None:
    store = open_store()
    document, chunks = _document(
        "First sentence of it. Second one follows. Third comes here. Fourth ends it.",
        title="Reads",
        cites=["A source", "Другой"],
    )
    [(source, _)] = store.corpus.replace_sources([(document, chunks)])
    assert store.corpus.get_source(source.id) == source
    assert source.cites == ("A source", "Другой")
    assert store.corpus.sources_by_id([source.id, "missing"]) == {source.id: source}
    assert store.corpus.source_by_identity(document.identity) == source
    version, passages = store.corpus.snapshot()
    assert version == 1 and [p.source_id for p in passages] == [source.id] * len(chunks)
    assert store.corpus.passages([p.id for p in passages]) == {p.id: p for p in passages}
    assert passages[0].sentence_texts()[0] == "First sentence of it."
    stats = store.corpus.stats()
    assert (stats.sources, stats.passages) == (1, len(chunks)) and stats.updated_at


def test_vectors_are_cached_as_opaque_bytes(open_store: Callable[[], Store]) -> None:
    store = open_store()
    blob = bytes(range(256)) * 6
    store.corpus.put_vectors("model-a", {"h1": blob, "h2": b"\x00"})
    store.corpus.put_vectors("model-a", {"h1": b"ignored: first write wins"})
    assert store.corpus.cached_vectors("model-a", ["h1", "h2", "h3", "h1"]) == {
        "h1": blob,
        "h2": b"\x00",
    }
    assert store.corpus.cached_vectors("model-b", ["h1"]) == {}


def test_remove_deletes_passages_and_unknown_ids_are_refused(
    open_store: Callable[[], Store],
) -> None:
    store = open_store()
    [(source, _)] = store.corpus.replace_sources([_document()])
    store.corpus.remove_source(source.id, actor="telegram:7")
    assert store.corpus.sources() == [] and store.corpus.passage_count() == 0
    with pytest.raises(SourceNotFound):
        store.corpus.remove_source(source.id)
    latest = store.moderation.history(1)[0]
    assert (latest.action, latest.actor, latest.source_id) == ("remove", "telegram:7", source.id)


def test_a_failed_transaction_changes_nothing(open_store: Callable[[], Store]) -> None:
    store = open_store()
    store.corpus.replace_sources([_document()])
    before = (store.corpus.corpus_version(), store.corpus.passage_count())
    with pytest.raises(RuntimeError), store.database.transaction() as db:
        db.execute("DELETE FROM passages")
        db.execute("UPDATE meta SET value = '99' WHERE key = 'corpus_version'")
        raise RuntimeError("crash in the middle")
    assert (store.corpus.corpus_version(), store.corpus.passage_count()) == before


def test_writers_in_parallel_each_get_their_own_version(open_store: Callable[[], Store]) -> None:
    """Concurrent changes are serialised: no version is lost or shared."""
    store = open_store()
    versions: list[int] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        other = open_store()  # another process's connection, as far as the database knows
        text = f"Text {i} here. It is number {i}."
        other.corpus.replace_sources([_document(text, name=f"doc{i}.md", title=f"T{i}")])
        with lock:
            versions.append(other.corpus.corpus_version())

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.corpus.corpus_version() == 6
    assert len(store.corpus.sources()) == 6
    assert len(store.moderation.history(50)) == 6


def test_moderators_are_added_once_and_audited(open_store: Callable[[], Store]) -> None:
    store = open_store()
    assert store.moderation.add_moderator(5_000_000_001, actor="telegram:1")
    assert not store.moderation.add_moderator(5_000_000_001, actor="telegram:1")
    assert store.moderation.moderators() == [5_000_000_001]
    assert store.moderation.remove_moderator(5_000_000_001, actor="telegram:1")
    assert not store.moderation.remove_moderator(5_000_000_001, actor="telegram:1")
    actions = [(e.action, e.detail) for e in store.moderation.history()]
    assert actions == [("moderator_remove", "5000000001"), ("moderator_add", "5000000001")]


def test_readers_leave_only_counts_and_votes(open_store: Callable[[], Store]) -> None:
    store = open_store()
    [(source, _)] = store.corpus.replace_sources([_document()])
    _, [passage] = store.corpus.snapshot()
    for answered in (True, True, False):
        store.readers.count_question(answered=answered)
    [(day, asked, answered)] = store.readers.daily_questions()
    assert (asked, answered) == (3, 2) and len(day) == 10
    assert store.readers.record_feedback(passage.id, 1)
    assert store.readers.record_feedback(passage.id, -1)
    assert store.readers.record_feedback(passage.id, 1)
    assert not store.readers.record_feedback(passage.id + 1000, 1)
    assert store.readers.feedback_by_source() == [(source.id, source.title, 2, 1)]
    store.corpus.remove_source(source.id)
    assert store.readers.feedback_by_source() == [(source.id, "(removed)", 2, 1)]


def test_data_directory_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError):
        Store(data_dir=blocker / "data")
