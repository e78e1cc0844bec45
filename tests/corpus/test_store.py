"""The store on both engines: migrations, one transaction per change with its audit row."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

import corpus.migrations
from corpus.chunking import chunk_text
from corpus.engine import PostgresDatabase
from corpus.errors import SourceNotFound, StoreError
from corpus.loaders import load_bytes
from corpus.migrations import MIGRATIONS
from corpus.store import DB_NAME, Store, now, text_hash
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
        row = conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()
    assert row is not None
    count = row[0]
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
    assert store.corpus.passage_ids_by_source([source.id, "missing", source.id]) == {
        source.id: frozenset(p.id for p in passages)
    }
    assert store.corpus.passage_ids_by_source([]) == {}
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


def _database_files(store: Store) -> list[Path]:
    """The files a database keeps its rows in: SQLite's file and its logs; PostgreSQL's folder
    of this database, after a checkpoint (so that nothing is only in the server's buffers)."""
    if store.engine == "sqlite":
        return [p for p in store.data_dir.iterdir() if p.name.startswith(DB_NAME)]
    assert isinstance(store.database, PostgresDatabase)
    with psycopg.connect(store.database.url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        [(root,)] = conn.execute("SHOW data_directory").fetchall()
        [(oid,)] = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchall()
    return [p for p in (Path(root) / "base" / str(oid)).iterdir() if p.is_file()]


def _on_disk(store: Store, texts: list[str]) -> set[str]:
    found: set[str] = set()
    for path in _database_files(store):
        data = path.read_bytes()
        found |= {t for t in texts if t.encode() in data}
    return found


def test_a_removal_leaves_none_of_its_text_in_the_database_files(
    open_store: Callable[[], Store],
) -> None:
    store = open_store()
    gone = _document(
        "Tatsiana Losik was named in the report. Her sentence goes with it.",
        name="gone.md",
        title="The Losik report",
        url="https://example.org/reports/losik-story",
    )
    store.corpus.replace_sources([gone, _document("A document that stays.", name="stays.md")])
    texts = ["Tatsiana Losik was named", "Her sentence goes", "The Losik report", "losik-story"]
    embedded = ("Her sentence goes with it.", "A document that stays.")
    vectors = {text_hash(t): b"vector" for t in embedded}
    store.corpus.put_vectors("model", vectors)
    assert _on_disk(store, texts) == set(texts)  # the check finds the text while it is there
    source = store.corpus.source_by_identity("https://example.org/reports/losik-story")
    assert source is not None
    store.corpus.remove_source(source.id)
    assert _on_disk(store, texts) == set()
    # Its vectors went with it, the audit log keeps no title; the other document is untouched.
    assert list(store.corpus.cached_vectors("model", list(vectors))) == [
        text_hash("A document that stays.")
    ]
    assert {e.detail for e in store.moderation.history()} == {"", "A test document"}
    assert [s.identity for s in store.corpus.sources()] == ["stays.md"]


def test_a_replacement_leaves_none_of_the_old_text_in_the_database_files(
    open_store: Callable[[], Store],
) -> None:
    store = open_store()
    store.corpus.replace_sources([_document("The old wording names Losik. It stays a while.")])
    assert _on_disk(store, ["The old wording names Losik"])
    store.corpus.replace_sources([_document("The new wording names nobody. It replaces it.")])
    assert _on_disk(store, ["The old wording names Losik"]) == set()
    assert _on_disk(store, ["The new wording names nobody"])


def test_dates_are_stored_with_sources_and_passages(open_store: Callable[[], Store]) -> None:
    store = open_store()
    body = "As of 1 February 2026, 1,113 people were held. In March 2025 there were 1,200 of them."
    [(source, _)] = store.corpus.replace_sources([_document(body, published="2026-02-10")])
    assert source.as_of == "2026-02-01"
    _, [passage] = store.corpus.snapshot()
    assert passage.dates == ("2026-02-01", "2025-03")
    assert store.corpus.passages([passage.id])[passage.id].dates == passage.dates


def test_the_dates_migration_dates_what_was_stored_before_it(
    open_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    dates = MIGRATIONS.index(corpus.migrations.m004_dates)
    monkeypatch.setattr(corpus.migrations, "MIGRATIONS", MIGRATIONS[:dates])
    before = open_store()  # a database of the version before dates
    text = "As of 1 February 2026, 1,113 people were held. In March 2025 there were 1,200."
    split = text.index(" In March")
    with before.database.transaction() as db:
        db.execute(
            "INSERT INTO sources (id, identity, name, title, published, url, publisher, "
            "language, cites, content_hash, text, pages, added_at, updated_at) "
            "VALUES ('s1', 'old.md', 'old.md', 'Old', '2026-02-10', NULL, NULL, 'en', '[]', "
            "'h', ?, '[]', ?, ?)",
            (text, now(), now()),
        )
        db.execute(
            "INSERT INTO passages (source_id, ordinal, text, char_start, char_end, page, "
            "language, sentences, content_hash) VALUES ('s1', 0, ?, 0, ?, NULL, 'en', ?, 'h')",
            (text, len(text), f"[[0, {split}], [{split + 1}, {len(text)}]]"),
        )
    before.close()
    monkeypatch.undo()
    store = open_store()
    assert store.corpus.get_source("s1").as_of == "2026-02-01"
    _, [passage] = store.corpus.snapshot()
    assert passage.dates == ("2026-02-01", "2025-03")


def test_a_migration_recorded_under_another_name_is_refused(
    open_store: Callable[[], Store], database_url: str | None
) -> None:
    store = open_store()
    with store.database.transaction() as db:
        db.execute("UPDATE schema_migrations SET name = 'm004_other' WHERE version = 4")
    with pytest.raises(StoreError, match="applied m004_other as migration 4"):
        Store(data_dir=store.data_dir, url=database_url, migrate_schema=True)


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
    for outcome in (True, True, False):
        store.readers.count_question(answered=outcome)
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
