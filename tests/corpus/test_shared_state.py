"""Short-lived shared state on both engines: memory (SQLite deployments) and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.store import Store
from corpus.stores.shared import Claim, MemoryState, PostgresState, ReceiverBusy
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    store = Store(data_dir=tmp_path, url=database_url, migrate_schema=True)
    yield store
    store.close()


@pytest.fixture
def pg_stores(tmp_path: Path, postgres: PostgresServer) -> Iterator[tuple[Store, Store]]:
    """Two replicas' stores on one PostgreSQL database."""
    url = postgres.database()
    first = Store(data_dir=tmp_path / "a", url=url, migrate_schema=True)
    second = Store(data_dir=tmp_path / "b", url=url)
    yield first, second
    first.close()
    second.close()


def replica_that_dies(like: Store, work: str) -> str:
    """Run ``work`` as a replica of ``like``'s database in another process, then SIGKILL it;
    what it printed."""
    url = like.database.url  # type: ignore[attr-defined]
    script = (
        "import asyncio, os, signal\n"
        "from pathlib import Path\n"
        "from corpus.store import Store\n"
        f"store = Store(data_dir=Path({str(like.data_dir)!r}), url={url!r})\n"
        "store.shared.start()\n" + work + "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -9, done.stderr
    return done.stdout.strip()


async def test_values_expire_and_take_is_one_shot(store: Store) -> None:
    shared = store.shared
    await shared.put("kept", "k1", b"\x00hits", ttl=60)
    await shared.put("kept", "k2", b"short", ttl=0.05)
    assert await shared.get("kept", "k1") == b"\x00hits"
    assert await shared.get("other", "k1") is None
    await asyncio.sleep(0.1)  # the expiry itself is what is tested
    assert await shared.get("kept", "k2") is None
    assert await shared.take("kept", "k1") == b"\x00hits"
    assert await shared.take("kept", "k1") is None
    await shared.put("kept", "k3", b"3", ttl=60)
    await shared.put("pending", "p", b"p", ttl=60)
    await shared.clear("kept")
    assert await shared.get("kept", "k3") is None
    assert await shared.get("pending", "p") == b"p"
    await shared.delete("pending", "p")
    assert await shared.get("pending", "p") is None


async def test_token_buckets_allow_a_burst_then_refill(store: Store) -> None:
    shared = store.shared
    key = os.urandom(16)
    start = time.time()
    taken = [
        await shared.take_token(key, burst=3, interval=10.0, now=start + i * 0.01) for i in range(5)
    ]
    assert taken == [True, True, True, False, False]
    assert await shared.take_token(key, burst=3, interval=10.0, now=start + 10.1)
    assert not await shared.take_token(key, burst=3, interval=10.0, now=start + 10.2)
    assert await shared.take_token(os.urandom(16), burst=3, interval=10.0, now=start)


async def test_secrets_are_drawn_once_per_period(store: Store) -> None:
    first = await store.shared.secret("flood", period=3600)
    assert len(first) == 32 and first == await store.shared.secret("flood", period=3600)
    assert await store.shared.secret("other", period=3600) != first


async def test_an_update_is_claimed_once(store: Store) -> None:
    shared = store.shared
    assert await shared.claim_update(900) is Claim.NEW
    assert await shared.claim_update(900) is Claim.BUSY
    await shared.finish_update(900)
    assert await shared.claim_update(900) is Claim.DONE
    assert await shared.claim_update(901) is Claim.NEW
    await shared.release_update(901)
    assert await shared.claim_update(901) is Claim.NEW


async def test_replicas_share_state_and_buckets(pg_stores: tuple[Store, Store]) -> None:
    a, b = pg_stores
    await a.shared.put("kept", "key", b"answer", ttl=60)
    assert await b.shared.get("kept", "key") == b"answer"
    assert await a.shared.secret("flood", period=600) == await b.shared.secret("flood", period=600)
    key, start = os.urandom(16), time.time()
    taken = await asyncio.gather(
        *(
            replica.shared.take_token(key, burst=5, interval=60.0, now=start)
            for replica in (a, b) * 6
        )
    )
    assert sorted(taken) == [False] * 7 + [True] * 5
    taken_once = await asyncio.gather(a.shared.take("kept", "key"), b.shared.take("kept", "key"))
    assert sorted(taken_once, key=bool) == [None, b"answer"]


async def test_a_live_replicas_claim_is_respected_a_dead_ones_is_taken_over(
    pg_stores: tuple[Store, Store], postgres: PostgresServer
) -> None:
    a, b = pg_stores
    assert isinstance(a.shared, PostgresState) and isinstance(b.shared, PostgresState)
    a.shared.start()
    b.shared.start()
    assert await a.shared.claim_update(7001) is Claim.NEW
    # Telegram redelivers to b while a is still working on it: b leaves it to a.
    assert await b.shared.claim_update(7001) is Claim.BUSY
    await a.shared.finish_update(7001)
    assert await b.shared.claim_update(7001) is Claim.DONE
    # A replica in another process claims an update and dies without finishing it.
    said = replica_that_dies(a, "print(asyncio.run(store.shared.claim_update(7002)), flush=True)\n")
    assert said == "new"
    # Its liveness lock went with its connection: the redelivery is handled by b.
    deadline = time.monotonic() + 10
    while (claim := await b.shared.claim_update(7002)) is Claim.BUSY:
        # The server notices the dead client's closed socket within milliseconds.
        assert time.monotonic() < deadline, "the dead replica's lock was never released"
        await asyncio.sleep(0.01)
    assert claim is Claim.ORPHANED
    assert await a.shared.claim_update(7002) is Claim.BUSY


async def test_kept_updates_of_a_dead_replica_are_adopted_once(
    pg_stores: tuple[Store, Store], tmp_path: Path, postgres: PostgresServer
) -> None:
    a, b = pg_stores
    a.shared.start()  # type: ignore[attr-defined]
    b.shared.start()  # type: ignore[attr-defined]
    # A replica in another process acknowledges two updates (kept) and dies before answering.
    said = replica_that_dies(
        a,
        "for update_id in (8101, 8102):\n"
        "    asyncio.run(store.shared.claim_update(update_id, body=b'sealed %d' % update_id))\n"
        "print('kept', flush=True)\n",
    )
    assert said == "kept"
    # A live replica's kept update is never adopted.
    assert await a.shared.claim_update(8103, body=b"mine") is Claim.NEW
    deadline = time.monotonic() + 10
    adopted: list[tuple[int, bytes]] = []
    while not adopted:
        assert time.monotonic() < deadline, "the dead replica's updates were never adopted"
        adopted = await b.shared.adopt_orphans(limit=10) + await a.shared.adopt_orphans(limit=10)
        await asyncio.sleep(0.01)
    assert adopted == [(8101, b"sealed 8101"), (8102, b"sealed 8102")]
    assert await a.shared.adopt_orphans(limit=10) == []
    assert await b.shared.adopt_orphans(limit=10) == []
    # Adopted means claimed by a live replica: a late redelivery is left to it.
    assert await a.shared.claim_update(8101) is Claim.BUSY
    await b.shared.finish_update(8101)
    assert await a.shared.claim_update(8101) is Claim.DONE


async def test_expired_rows_are_purged(pg_stores: tuple[Store, Store]) -> None:
    a, _ = pg_stores
    await a.shared.put("kept", "old", b"x", ttl=-1)
    await a.shared.put("kept", "new", b"y", ttl=60)
    assert await a.shared.purge() == 1
    assert await a.shared.get("kept", "new") == b"y"


def test_one_poller_per_database(pg_stores: tuple[Store, Store], tmp_path: Path) -> None:
    a, b = pg_stores
    a.shared.hold_receiver(exclusive=True)
    with pytest.raises(ReceiverBusy, match="already polls"):
        b.shared.hold_receiver(exclusive=True)
    with pytest.raises(ReceiverBusy, match="polls Telegram"):
        b.shared.hold_receiver(exclusive=False)
    a.shared.close()  # the poller stops: webhook replicas may start, side by side
    b.shared.hold_receiver(exclusive=False)
    url = b.database.url  # type: ignore[attr-defined]
    other, poller = Store(data_dir=tmp_path / "c", url=url), Store(data_dir=tmp_path / "d", url=url)
    try:
        other.shared.hold_receiver(exclusive=False)
        with pytest.raises(ReceiverBusy):
            poller.shared.hold_receiver(exclusive=True)
    finally:
        other.close()
        poller.close()


def test_one_receiver_per_sqlite_data_directory(tmp_path: Path) -> None:
    first, second = MemoryState(data_dir=tmp_path), MemoryState(data_dir=tmp_path)
    first.hold_receiver(exclusive=True)
    with pytest.raises(ReceiverBusy, match="another citebot is already running"):
        second.hold_receiver(exclusive=False)
    first.close()
    second.hold_receiver(exclusive=False)
    second.close()
