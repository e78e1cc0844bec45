"""Short-lived state the bot keeps between updates, with an expiry on every row.

With SQLite (one process) it lives in memory, as it always has; with PostgreSQL it lives in
UNLOGGED tables so that any replica can serve any update: the answers kept for "More", a
moderator's pending upload, one-shot confirmations, the flood guard's buckets and its salt, and
which replica handles which Telegram update. Values are opaque bytes (the bot encodes them);
nothing here names who asked what: bucket keys are salted hashes, update claims are bare ids.

The interface is async: the memory engine answers at once, PostgreSQL's runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any, TypeVar

from cachetools import TLRUCache

from corpus.engine import Database, PostgresDatabase
from corpus.errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows the memory engine keeps at most (the oldest go first); PostgreSQL keeps what expires.
MEMORY_ROWS = 20_000
#: Token buckets the memory engine keeps at most.
MEMORY_BUCKETS = 100_000
#: Seconds an update claim is remembered (Telegram gives up redelivering well before).
CLAIM_SECONDS = 24 * 3600.0
#: Seconds an unanswered update is kept for another replica to take over; older ones are stale.
INBOX_SECONDS = 3600.0
#: Threads for shared-state round trips to PostgreSQL (the pool has ``engine.POOL_SIZE``).
POOL_THREADS = 8
#: Advisory lock class of a replica's liveness lock (the second key is the replica id).
REPLICA_LOCK_CLASS = 0x7265706C  # "repl"
#: Advisory lock of the bot's update source: polling exclusive, webhook replicas shared.
RECEIVER_LOCK = 0x72656376  # "recv"
#: The namespace of the answers kept for "More": they quote passages, so every change to the
#: corpus drops them all (``forget_passages``).
KEPT = "kept"


class Claim(StrEnum):
    """What ``claim_update`` found."""

    #: First delivery: handle it.
    NEW = "new"
    #: The replica that claimed it died before finishing: handle it.
    ORPHANED = "orphaned"
    #: Already handled: acknowledge it and do nothing.
    DONE = "done"
    #: Being handled by a live replica: not acknowledged yet (Telegram will ask again, and by
    #: then it is done, or its replica died and it is orphaned).
    BUSY = "busy"


class ReceiverBusy(Exception):
    """Another process already receives this bot's updates in a way that excludes ours."""


class SharedState(ABC):
    """Expiring shared state, by namespace and key."""

    @abstractmethod
    async def put(self, namespace: str, key: str, value: bytes, *, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (replacing any previous one)."""

    @abstractmethod
    async def get(self, namespace: str, key: str) -> bytes | None:
        """The value, unless absent or expired."""

    @abstractmethod
    async def take(self, namespace: str, key: str) -> bytes | None:
        """Get and delete in one step: of two replicas taking the same key, one gets it."""

    @abstractmethod
    async def delete(self, namespace: str, key: str) -> None:
        """Forget one key."""

    @abstractmethod
    async def clear(self, namespace: str) -> None:
        """Forget every key of a namespace."""

    @abstractmethod
    def forget_passages(self) -> None:
        """After a change to the corpus: drop every row that quotes it (``KEPT``), leaving none
        of their text readable. Synchronous and thread-safe: called by the thread that changed
        the corpus, before the change is acknowledged."""

    @abstractmethod
    async def secret(self, name: str, *, period: float) -> bytes:
        """A random 32-byte secret for the current period, the same for every replica.

        A new one is drawn each period (aligned to the epoch), so anything keyed by it cannot
        be linked across periods; the previous period's expires with it.
        """

    @abstractmethod
    async def take_token(
        self, key: bytes, *, burst: int, interval: float, now: float | None = None
    ) -> bool:
        """Token bucket ``key``: ``burst`` at once, then one per ``interval`` seconds.

        Takes one token and returns True, or returns False when the bucket is empty. A bucket
        idle long enough to be full again is forgotten.
        """

    #: Whether ``claim_update`` keeps the update's body until it is finished, for another
    #: replica to take over (then an update may be acknowledged as soon as it is claimed).
    keeps_updates: bool = False

    @abstractmethod
    async def claim_update(self, update_id: int, *, body: bytes | None = None) -> Claim:
        """Claim a Telegram update for this process (see ``Claim``), keeping ``body`` (sealed
        by the caller) until ``finish_update`` where the engine ``keeps_updates``."""

    @abstractmethod
    async def finish_update(self, update_id: int) -> None:
        """Mark a claimed update handled (a redelivery is then a duplicate); drop its body."""

    async def adopt_orphans(self, *, limit: int) -> list[tuple[int, bytes]]:
        """Take over kept updates whose replica died; their ids and bodies."""
        return []

    @abstractmethod
    async def release_update(self, update_id: int) -> None:
        """Give a claimed update back unhandled (a redelivery handles it)."""

    @abstractmethod
    def hold_receiver(self, *, exclusive: bool) -> None:
        """Register as the bot's update receiver; ``ReceiverBusy`` if that conflicts.

        Polling is ``exclusive`` (one poller per database); webhook replicas share.
        """

    async def purge(self) -> int:
        """Drop expired rows; how many (the memory engine expires as it goes)."""
        return 0

    @abstractmethod
    def close(self) -> None:
        """Release connections and locks."""


def bucket_idle(burst: int, interval: float) -> float:
    """Seconds after which an untouched bucket is full again, so forgetting it changes nothing."""
    return burst * interval


# -- memory (SQLite, one process) ------------------------------------------------------------


class MemoryState(SharedState):
    """In-process state: what one process needs, gone with it."""

    def __init__(self, *, data_dir: Any = None) -> None:
        self._rows: TLRUCache[tuple[str, str], tuple[float, bytes]] = TLRUCache(
            maxsize=MEMORY_ROWS, ttu=lambda _key, value, at: at + value[0], timer=time.monotonic
        )
        # The event loop uses the rows; a change to the corpus drops some from another thread.
        self._rows_lock = threading.Lock()
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()
        self._secrets: dict[tuple[str, int], bytes] = {}
        self._claims: TLRUCache[int, bool] = TLRUCache(
            maxsize=MEMORY_ROWS, ttu=lambda _k, _v, at: at + CLAIM_SECONDS, timer=time.monotonic
        )
        self._data_dir = data_dir
        self._receiver: Any = None

    async def put(self, namespace: str, key: str, value: bytes, *, ttl: float) -> None:
        with self._rows_lock:
            self._rows[(namespace, key)] = (ttl, value)

    async def get(self, namespace: str, key: str) -> bytes | None:
        with self._rows_lock:
            found = self._rows.get((namespace, key))
        return None if found is None else found[1]

    async def take(self, namespace: str, key: str) -> bytes | None:
        with self._rows_lock:
            found = self._rows.pop((namespace, key), None)
        return None if found is None else found[1]

    async def delete(self, namespace: str, key: str) -> None:
        with self._rows_lock:
            self._rows.pop((namespace, key), None)

    async def clear(self, namespace: str) -> None:
        self._clear(namespace)

    def forget_passages(self) -> None:
        self._clear(KEPT)

    def _clear(self, namespace: str) -> None:
        with self._rows_lock:
            for key in [k for k in self._rows if k[0] == namespace]:
                self._rows.pop(key, None)

    async def secret(self, name: str, *, period: float) -> bytes:
        epoch = int(time.time() // period)
        found = self._secrets.get((name, epoch))
        if found is None:
            self._secrets = {k: v for k, v in self._secrets.items() if k[1] >= epoch}
            found = self._secrets[(name, epoch)] = os.urandom(32)
        return found

    async def take_token(
        self, key: bytes, *, burst: int, interval: float, now: float | None = None
    ) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) / interval)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        idle = bucket_idle(burst, interval)
        while self._buckets:
            _, (_, oldest) = next(iter(self._buckets.items()))
            if now - oldest < idle and len(self._buckets) <= MEMORY_BUCKETS:
                break
            self._buckets.popitem(last=False)
        return allowed

    async def claim_update(self, update_id: int, *, body: bytes | None = None) -> Claim:
        if update_id in self._claims:
            return Claim.DONE if self._claims[update_id] else Claim.BUSY
        self._claims[update_id] = False
        return Claim.NEW

    async def finish_update(self, update_id: int) -> None:
        self._claims[update_id] = True

    async def release_update(self, update_id: int) -> None:
        self._claims.pop(update_id, None)

    def hold_receiver(self, *, exclusive: bool) -> None:
        # One process per SQLite database receives updates, whichever way: the state above is
        # this process's alone, so a second receiver would answer without it.
        import fcntl
        from pathlib import Path

        if self._data_dir is None or self._receiver is not None:
            return
        path = Path(self._data_dir) / "receiver.lock"
        handle = open(path, "a+")  # noqa: SIM115 (held open for the life of the process)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ReceiverBusy(
                f"another citebot is already running the bot on {path.parent}; stop it first "
                "(several replicas need CITEBOT_DATABASE_URL=postgresql://... and --webhook)"
            ) from None
        self._receiver = handle

    def __len__(self) -> int:
        return len(self._buckets)

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None


# -- PostgreSQL (replicas) -------------------------------------------------------------------


class PostgresState(SharedState):
    """State in PostgreSQL's UNLOGGED tables, shared by every replica on the database."""

    keeps_updates = True

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        # This replica's id: claims name it, and a session lock on it says it is alive.
        self.replica = secrets.randbelow(2**31 - 1) + 1
        self._session: Any = None
        self._session_lock = threading.Lock()
        self._secrets: dict[tuple[str, int], bytes] = {}
        self._pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="shared")
        self._urgent = ThreadPoolExecutor(max_workers=2, thread_name_prefix="shared-finish")

    async def _run(self, work: Callable[[Any], T], *, urgent: bool = False) -> T:
        def run() -> T:
            with self.database.transaction(exclusive=False) as db:
                return work(db)

        # Finishing an update has threads of its own: between a reply and its "done" lies the
        # window in which a replica's death would get the update answered twice, so it never
        # waits behind a flood of new claims.
        pool = self._urgent if urgent else self._pool
        return await asyncio.get_running_loop().run_in_executor(pool, run)

    async def put(self, namespace: str, key: str, value: bytes, *, ttl: float) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO shared_state (namespace, key, value, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (namespace, key) DO UPDATE SET "
                "value = excluded.value, expires_at = excluded.expires_at",
                (namespace, key, value, time.time() + ttl),
            )
        )

    async def get(self, namespace: str, key: str) -> bytes | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT value FROM shared_state WHERE namespace = ? AND key = ? AND expires_at > ?",
                (namespace, key, time.time()),
            ).fetchone()
        )
        return None if row is None else bytes(row[0])

    async def take(self, namespace: str, key: str) -> bytes | None:
        row = await self._run(
            lambda db: db.execute(
                "DELETE FROM shared_state WHERE namespace = ? AND key = ? AND expires_at > ? "
                "RETURNING value",
                (namespace, key, time.time()),
            ).fetchone()
        )
        return None if row is None else bytes(row[0])

    async def delete(self, namespace: str, key: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM shared_state WHERE namespace = ? AND key = ?", (namespace, key)
            )
        )

    async def clear(self, namespace: str) -> None:
        await self._run(
            lambda db: db.execute("DELETE FROM shared_state WHERE namespace = ?", (namespace,))
        )

    def forget_passages(self) -> None:
        try:
            with self.database.transaction(exclusive=False) as db:
                deleted = db.execute(
                    "DELETE FROM shared_state WHERE namespace = ?", (KEPT,)
                ).rowcount
        except StoreError as exc:  # committed; a replica on the new version refuses them
            log.warning("the answers kept for More could not be dropped yet: %s", exc)
            return
        if deleted:  # deleted rows keep their bytes in the table's pages until rewritten
            self.database.forget_deleted(["shared_state"])

    async def secret(self, name: str, *, period: float) -> bytes:
        epoch = int(time.time() // period)
        known = self._secrets.get((name, epoch))
        if known is not None:  # fixed for the period once drawn: no round trip per question
            return known
        key = f"{name}:{epoch}"
        fresh = os.urandom(32)

        def work(db: Any) -> bytes:
            # The first replica to ask draws it; the others read the same one.
            db.execute(
                "INSERT INTO shared_state (namespace, key, value, expires_at) "
                "VALUES ('secret', ?, ?, ?) ON CONFLICT (namespace, key) DO NOTHING",
                (key, fresh, (epoch + 2) * period),
            )
            return bytes(
                db.execute(
                    "SELECT value FROM shared_state WHERE namespace = 'secret' AND key = ?",
                    (key,),
                ).fetchone()[0]
            )

        found = await self._run(work)
        self._secrets = {k: v for k, v in self._secrets.items() if k[1] >= epoch}
        self._secrets[(name, epoch)] = found
        return found

    async def take_token(
        self, key: bytes, *, burst: int, interval: float, now: float | None = None
    ) -> bool:
        now = time.time() if now is None else now
        expires = now + bucket_idle(burst, interval)
        # One statement, so two replicas taking from the same bucket at once both count.
        refill = "LEAST(?, b.tokens + (? - b.at) / ?)"
        row = await self._run(
            lambda db: db.execute(
                "INSERT INTO rate_buckets AS b (key, tokens, at, allowed, expires_at) "
                "VALUES (?, ?, ?, TRUE, ?) ON CONFLICT (key) DO UPDATE SET "
                f"allowed = {refill} >= 1, "
                f"tokens = {refill} - CASE WHEN {refill} >= 1 THEN 1 ELSE 0 END, "
                "at = excluded.at, expires_at = excluded.expires_at "
                "RETURNING allowed",
                (
                    key,
                    float(burst) - 1.0,
                    now,
                    expires,
                    *(float(burst), now, interval) * 3,
                ),
            ).fetchone()
        )
        return bool(row[0])

    async def claim_update(self, update_id: int, *, body: bytes | None = None) -> Claim:
        at = time.time()

        def keep(db: Any) -> None:
            if body is not None:
                db.execute(
                    "INSERT INTO inbox (update_id, replica, body, expires_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (update_id) DO UPDATE SET replica = excluded.replica, "
                    "body = excluded.body",
                    (update_id, self.replica, body, at + INBOX_SECONDS),
                )

        def work(db: Any) -> Claim:
            inserted = db.execute(
                "INSERT INTO update_claims (update_id, replica, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (update_id, self.replica, at + CLAIM_SECONDS),
            ).rowcount
            if inserted:
                keep(db)
                return Claim.NEW
            row = db.execute(
                "SELECT replica, done FROM update_claims WHERE update_id = ? FOR UPDATE",
                (update_id,),
            ).fetchone()
            if row is None:  # released meanwhile: claim it now
                db.execute(
                    "INSERT INTO update_claims (update_id, replica, expires_at) "
                    "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (update_id, self.replica, at + CLAIM_SECONDS),
                )
                keep(db)
                return Claim.NEW
            replica, done = row
            if done:
                return Claim.DONE
            if replica == self.replica or self._alive(db, replica):
                return Claim.BUSY
            db.execute(
                "UPDATE update_claims SET replica = ? WHERE update_id = ?",
                (self.replica, update_id),
            )
            keep(db)
            return Claim.ORPHANED

        return await self._run(work)

    @staticmethod
    def _alive(db: Any, replica: int) -> bool:
        # A replica holds its liveness lock for as long as its process lives; if we can take
        # that lock (for this transaction only), it is gone.
        return not db.execute(
            "SELECT pg_try_advisory_xact_lock(?, ?)", (REPLICA_LOCK_CLASS, replica)
        ).fetchone()[0]

    async def finish_update(self, update_id: int) -> None:
        def work(db: Any) -> None:
            db.execute("UPDATE update_claims SET done = TRUE WHERE update_id = ?", (update_id,))
            db.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

        await self._run(work, urgent=True)

    async def release_update(self, update_id: int) -> None:
        def work(db: Any) -> None:
            db.execute(
                "DELETE FROM update_claims WHERE update_id = ? AND replica = ? AND NOT done",
                (update_id, self.replica),
            )
            db.execute(
                "DELETE FROM inbox WHERE update_id = ? AND replica = ?", (update_id, self.replica)
            )

        await self._run(work)

    async def adopt_orphans(self, *, limit: int) -> list[tuple[int, bytes]]:
        def work(db: Any) -> list[tuple[int, bytes]]:
            others = db.execute(
                "SELECT DISTINCT replica FROM inbox WHERE replica <> ?", (self.replica,)
            ).fetchall()
            adopted: list[tuple[int, bytes]] = []
            for (replica,) in others:
                if len(adopted) >= limit or self._alive(db, replica):
                    continue
                # Both rows move to us in this transaction: of two survivors, one adopts.
                rows = db.execute(
                    "UPDATE inbox SET replica = ? WHERE update_id IN (SELECT update_id FROM inbox "
                    "WHERE replica = ? ORDER BY update_id LIMIT ?) RETURNING update_id, body",
                    (self.replica, replica, limit - len(adopted)),
                ).fetchall()
                for update_id, body in rows:
                    db.execute(
                        "UPDATE update_claims SET replica = ? WHERE update_id = ?",
                        (self.replica, update_id),
                    )
                    adopted.append((int(update_id), bytes(body)))
            return sorted(adopted)

        return await self._run(work)

    def start(self) -> None:
        """Open this replica's session and take its liveness lock (held until it exits)."""
        with self._session_lock:
            if self._session is None:
                session = self.database.connect(autocommit=True)
                session.execute(
                    "SELECT pg_advisory_lock(%s, %s)", (REPLICA_LOCK_CLASS, self.replica)
                )
                self._session = session

    def hold_receiver(self, *, exclusive: bool) -> None:
        self.start()
        function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        with self._session_lock:
            got = self._session.execute(f"SELECT {function}(%s)", (RECEIVER_LOCK,)).fetchone()[0]
        if not got:
            raise ReceiverBusy(
                "another citebot already polls Telegram for updates on this database; stop it "
                "first (polling is one process; run several replicas with --webhook)"
                if exclusive
                else "a citebot on this database polls Telegram for updates; stop it before "
                "starting webhook replicas"
            )

    async def purge(self) -> int:
        def work(db: Any) -> int:
            at = time.time()
            return sum(
                db.execute(f"DELETE FROM {table} WHERE expires_at < ?", (at,)).rowcount
                for table in ("shared_state", "rate_buckets", "update_claims", "inbox")
            )

        return await self._run(work)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._urgent.shutdown(wait=True)
        with self._session_lock:
            if self._session is not None:
                # Released before the connection closes: the server frees a closed session's
                # locks a moment later, and a successor must not see them still held.
                with contextlib.suppress(Exception):
                    self._session.execute("SELECT pg_advisory_unlock_all()")
                self._session.close()
                self._session = None


def open_state(database: Database, *, data_dir: Any = None) -> SharedState:
    """PostgreSQL's shared tables when the store is PostgreSQL, else this process's memory."""
    if isinstance(database, PostgresDatabase):
        return PostgresState(database)
    return MemoryState(data_dir=data_dir)
