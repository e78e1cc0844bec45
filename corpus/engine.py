"""The two database engines behind the store: SQLite (the embedded default) and PostgreSQL.

Both are used the same way: ``transaction()`` for a change (one transaction, committed whole or
rolled back), ``snapshot()`` for reads that must agree with each other, ``execute()`` for a
single read. SQL is written once, with ``?`` placeholders and the syntax both engines share;
the little DDL that differs lives in the migrations.

SQLite keeps one connection per thread (WAL lets readers work while a writer commits); writers
are serialised by ``BEGIN IMMEDIATE``. PostgreSQL uses a connection pool; writers to the corpus
are serialised by a transaction-scoped advisory lock, the PostgreSQL equivalent of SQLite's
single writer, so a replace or a version bump never interleaves with another.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from corpus.errors import StoreError

log = logging.getLogger(__name__)

#: The SQLite database's file name inside the data directory.
DB_NAME = "citebot.sqlite3"
#: Advisory lock keys (PostgreSQL): one corpus writer at a time, one migrator at a time.
WRITER_LOCK = 0x63697465  # "cite"
MIGRATION_LOCK = 0x6D696772  # "migr"
#: Connections a PostgreSQL store keeps at most (questions, writes and the bot's shared state).
POOL_SIZE = 16
#: Seconds to wait for a connection from the pool, or for a lock (SQLite's write lock,
#: PostgreSQL's writer lock and row locks) before a change is refused as busy.
WAIT_SECONDS = 30.0
#: Seconds PostgreSQL's table rewrite after a removal waits for its lock: questions of every
#: replica queue behind a rewrite that waits, so it gives up early (the next removal redoes it).
REWRITE_WAIT_SECONDS = 5.0


class Cursor(Protocol):
    """What ``execute`` returns on both engines."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside a transaction: what the stores call."""

    engine: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


class Database(ABC):
    """One database, SQLite or PostgreSQL."""

    #: "sqlite" or "postgresql".
    engine: str

    @abstractmethod
    def transaction(self, *, exclusive: bool = True) -> Any:
        """A context manager: one transaction, committed whole or rolled back.

        ``exclusive`` serialises it against every other exclusive transaction (corpus writers).
        """

    @abstractmethod
    def snapshot(self) -> Any:
        """A context manager: reads that all see the same committed state."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One read statement; all its rows."""
        with self.snapshot() as db:
            return db.execute(sql, params).fetchall()

    @abstractmethod
    def forget_deleted(self, tables: Sequence[str]) -> None:
        """After a committed change that deleted text from ``tables``: leave none of it readable
        in the database's files. Never raises (the change is committed and its reply must not
        fail): what cannot be done now is logged and done by the next removal."""

    @abstractmethod
    def close(self, *, timeout: float = 30.0) -> None:
        """Release every connection (after the operations in flight finish)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the database is, for messages (never a password)."""


@contextmanager
def _translated(
    errors: type[Exception] | tuple[type[Exception], ...],
    where: str,
    busy: Callable[[Exception], bool],
) -> Iterator[None]:
    """The engine's own exceptions become ``StoreError``, once, here; a lock waited for longer
    than ``WAIT_SECONDS`` is said as the "busy" reason."""
    try:
        yield
    except errors as exc:
        if busy(exc):
            raise StoreError.because("busy", seconds=f"{WAIT_SECONDS:g}") from exc
        raise StoreError(f"database error ({where}): {exc}") from exc


def _sqlite_busy(exc: Exception) -> bool:
    message = str(exc)
    return "locked" in message or "busy" in message


# -- SQLite --------------------------------------------------------------------------------------


class _SqliteConnection:
    """A SQLite connection as the stores see it."""

    engine = "sqlite"

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._db.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


class SqliteDatabase(Database):
    """The SQLite file in one data directory; one connection per thread."""

    engine = "sqlite"

    def __init__(self, *, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / DB_NAME
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {data_dir}: {exc.strerror}") from exc
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Operations in flight, so close() never pulls a connection from under another thread.
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._closed = False

    def describe(self) -> str:
        return str(self.path)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(
                    self.path, isolation_level=None, timeout=WAIT_SECONDS, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
                # Deleted rows and freed pages are overwritten with zeros (a removal is often a
                # takedown; some builds of SQLite do this by default, most do not).
                db.execute("PRAGMA secure_delete=ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._idle:
            if self._closed:
                raise StoreError("the store is closed")
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    @contextmanager
    def transaction(self, *, exclusive: bool = True) -> Iterator[Connection]:
        # SQLite has one writer at a time whatever ``exclusive`` says.
        with self._tracked(), _translated(sqlite3.Error, self.describe(), _sqlite_busy):
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteConnection(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        with self._tracked(), _translated(sqlite3.Error, self.describe(), _sqlite_busy):
            db = self._db()
            if db.in_transaction:  # nested in a transaction of this thread: already consistent
                yield _SqliteConnection(db)
                return
            db.execute("BEGIN")
            try:
                yield _SqliteConnection(db)
            finally:
                db.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        # One statement is already consistent in SQLite: no BEGIN/COMMIT round trip.
        with self._tracked(), _translated(sqlite3.Error, self.describe(), _sqlite_busy):
            return self._db().execute(sql, tuple(params)).fetchall()

    def forget_deleted(self, tables: Sequence[str]) -> None:
        # Deleted rows are zeroed in place (secure_delete), but the write-ahead log still holds
        # the pages as they were: checkpoint it into the database and truncate it. This waits
        # for readers (up to the busy timeout); if they never let go, the next change does it.
        try:
            with self._tracked():
                row = self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except (sqlite3.Error, StoreError) as exc:
            row = (1,)
            log.warning("the write-ahead log could not be truncated yet: %s", exc)
        if row and row[0]:
            log.warning("the write-ahead log could not be truncated yet: readers hold it")

    def close(self, *, timeout: float = 30.0) -> None:
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._active == 0, timeout=timeout)
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()


# -- PostgreSQL ----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\?")


def to_psycopg(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (our SQL has no ``?`` or ``%`` in literals)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class _PostgresConnection:
    """A psycopg connection as the stores see it."""

    engine = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(to_psycopg(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(to_psycopg(sql), [tuple(r) for r in rows])


class PostgresDatabase(Database):
    """A PostgreSQL database reached by URL, through a pool of connections."""

    engine = "postgresql"

    def __init__(self, *, url: str, pool_size: int = POOL_SIZE) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self._psycopg = psycopg
        # One direct connection first: a wrong address fails at once, with the server's reason,
        # instead of after the pool's timeout.
        self.connect(connect_timeout=int(WAIT_SECONDS)).close()
        try:
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=WAIT_SECONDS,
                open=True,
                name="citebot",
                configure=_bounded_lock_waits,
            )
            self.pool.wait(timeout=WAIT_SECONDS)
        except (psycopg.Error, Exception) as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {redact(url)}: {exc}") from exc

    def describe(self) -> str:
        return redact(self.url)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        from psycopg_pool import PoolTimeout

        with (
            _translated((self._psycopg.Error, PoolTimeout), self.describe(), self._busy),
            self.pool.connection() as conn,
        ):
            yield conn

    def _busy(self, exc: Exception) -> bool:
        # lock_timeout (set on every connection) ran out: the writer lock or a row lock.
        return isinstance(exc, self._psycopg.errors.LockNotAvailable)

    @contextmanager
    def transaction(self, *, exclusive: bool = True) -> Iterator[Connection]:
        # The pool's connection context commits on success and rolls back on an exception.
        with self._connection() as conn:
            if exclusive:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
            yield _PostgresConnection(conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        # One statement is consistent by itself: autocommit spares the BEGIN and COMMIT round
        # trips (the read path does two of these per question).
        with self._connection() as conn:
            conn.autocommit = True
            try:
                return conn.execute(to_psycopg(sql), tuple(params)).fetchall()
            finally:
                conn.autocommit = False

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        with self._connection() as conn:
            # Every statement of the block sees the same snapshot (READ COMMITTED would not).
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield _PostgresConnection(conn)

    def connect(self, **kwargs: Any) -> Any:
        """A connection of its own, outside the pool (held locks, long-lived sessions)."""
        try:
            return self._psycopg.connect(self.url, **kwargs)
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.describe()}: {exc}") from exc

    def forget_deleted(self, tables: Sequence[str]) -> None:
        # A plain VACUUM frees deleted rows for reuse but leaves their bytes in the pages and
        # the indexes until overwritten (measured: a removed row that was last on its page, and
        # its URL in the unique index, were still in the files). VACUUM FULL rewrites each
        # table with its indexes and TOAST into new files and deletes the old ones; it locks
        # one table at a time, for well under a second on a corpus of 500 documents (README,
        # Privacy). The server's write-ahead log is the operator's (README, Deployment).
        try:
            with self._connection() as conn:
                conn.autocommit = True  # VACUUM runs outside a transaction
                try:
                    conn.execute(f"SET lock_timeout = '{int(REWRITE_WAIT_SECONDS * 1000)}ms'")
                    conn.execute(f"VACUUM FULL {', '.join(tables)}")
                finally:
                    conn.execute(f"SET lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")
                    conn.autocommit = False
        except StoreError as exc:
            log.warning("removed text could not be rewritten out of the tables yet: %s", exc)

    def close(self, *, timeout: float = 30.0) -> None:
        self.pool.close(timeout=timeout)


def _bounded_lock_waits(conn: Any) -> None:
    """Every pooled connection waits at most ``WAIT_SECONDS`` for a lock (then "busy")."""
    conn.autocommit = True
    conn.execute(f"SET lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")
    conn.autocommit = False


def is_postgres_url(url: str | None) -> bool:
    """Whether a database URL names PostgreSQL."""
    return bool(url) and urlsplit(url).scheme in ("postgresql", "postgres")


def open_database(*, data_dir: Path, url: str | None = None) -> Database:
    """PostgreSQL when ``url`` is a ``postgresql://`` URL, else SQLite in ``data_dir``."""
    if url:
        if not is_postgres_url(url):
            raise StoreError(
                f"CITEBOT_DATABASE_URL must be a postgresql:// URL, got {redact(url)!r} "
                "(leave it unset for SQLite in the data directory)"
            )
        return PostgresDatabase(url=url)
    return SqliteDatabase(data_dir=data_dir)
