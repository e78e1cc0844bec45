"""Three `citebot run --webhook` replicas on one PostgreSQL, behind the fake's load balancer.

Real processes, real PostgreSQL, real PTB; the fake Bot API delivers updates to the replicas in
turn, as a load balancer would. Every step waits for the event it expects, with a timeout.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest_asyncio

from bot.services import Services
from corpus.loaders import load_path
from corpus.store import Store
from tests.conftest import share_models
from tests.documents import CANONICAL, ROOT, SEED
from tests.postgres import PostgresServer
from tests.replicas import Replica, start_replicas, wait_ready
from tests.telegram_fake import FakeTelegram, RecordedCall

OWNER = 6001
MODERATOR = 6002
#: Replicas need seconds to load the models; on 2 busy cores, tens.
START_SECONDS = 180


@pytest_asyncio.fixture
async def replicas(
    fake_telegram: FakeTelegram,
    postgres: PostgresServer,
    make_services: Callable[..., Services],
    model_dir: Path,
    tmp_path: Path,
) -> AsyncIterator[list[Replica]]:
    """Three replicas over the bundled corpus, ingested once into PostgreSQL."""
    url = postgres.database()
    Store(data_dir=tmp_path, url=url, migrate_schema=True).close()  # `citebot migrate`
    writer = make_services(tmp_path / "writer", CITEBOT_DATABASE_URL=url)
    writer.indexer.ingest([load_path(SEED)])
    started = start_replicas(
        3,
        fake=fake_telegram,
        database_url=url,
        root=tmp_path,
        env={"CITEBOT_OWNER": str(OWNER), "CITEBOT_MODERATORS": str(MODERATOR)},
        # The session's e5 build, as if each replica had built it (that takes tens of seconds).
        before_start=lambda data_dir: share_models(model_dir, data_dir),
    )
    try:
        await wait_ready(fake_telegram, started, timeout=START_SECONDS)
        yield started
    finally:
        for replica in started:
            replica.stop()
        if os.environ.get("DEBUG_REPLICAS"):  # what the replicas logged, for a failing run
            for replica in started:
                print(replica.output()[-4000:])


async def delivered_to(fake: FakeTelegram, update: dict) -> str:
    """The backend that acknowledged ``update`` (its answer to the POST may trail its reply)."""

    def acknowledged() -> list[str]:
        return [
            d.url
            for d in fake.webhook_deliveries
            if d.update_id == update["update_id"] and d.status is not None and d.status < 300
        ]

    await fake.wait_until(lambda: bool(acknowledged()), timeout=60)
    [url] = acknowledged()
    return url


async def reply(fake: FakeTelegram, chat_id: int, containing: str) -> RecordedCall:
    return await fake.wait_for(
        lambda c: c.method == "sendMessage" and containing in (c.text or ""),
        chat_id=chat_id,
        timeout=60,
    )


async def test_three_replicas_share_one_bot(
    replicas: list[Replica], fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    backends = {r.url: r for r in replicas}

    # A question answered by one replica, "More" pressed on the next.
    asked = fake.send_message(CANONICAL, user_id=7001)
    answer = await reply(fake, 7001, "1,200")
    more = [
        b["callback_data"]
        for row in answer.params["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("m:")
    ]
    assert more, "the answer offers More"
    pressed = fake.send_callback_query(answer, more[0], user_id=7001)
    edited = await fake.wait_for("editMessageText", chat_id=7001, timeout=60)
    assert "<blockquote>" in edited.text and edited.text != answer.text
    assert await delivered_to(fake, asked) != await delivered_to(fake, pressed)

    # /privacy says what replicas keep, and how.
    fake.send_message("/privacy", user_id=7002)
    assert "kept encrypted" in (await reply(fake, 7002, "Privacy")).text

    # An upload missing its date on one replica, the date supplied through another.
    body = (
        "Exiles gathered in Vilnius on Sunday for the Freedom Day rally. Organisers counted "
        "4,700 people marching along Gediminas Avenue. Speakers named 42 relatives in prison."
    )
    upload = fake.send_document(
        body.encode(),
        "vilnius.txt",
        "text/plain",
        caption="title: Vilnius rally",
        user_id=MODERATOR,
    )
    await reply(fake, MODERATOR, "published")
    date = fake.send_message("2026-03-29", user_id=MODERATOR)
    added = await reply(fake, MODERATOR, "Added")
    assert "Vilnius rally" in added.text and "2026-03-29" in added.text
    assert await delivered_to(fake, upload) != await delivered_to(fake, date)

    # Every replica answers from it within 5 s of the confirmation (no replica re-embeds:
    # they build their indexes from the passages and vectors in PostgreSQL).
    confirmed = added.finished_at
    question = "How many people marched in Vilnius on Freedom Day?"
    seen: set[str] = set()
    user = 7100
    while seen != set(backends):
        user += 1
        update = fake.send_message(question, user_id=user)
        got = await fake.wait_for("sendMessage", chat_id=user, timeout=60)
        if "4,700" in (got.text or ""):
            seen.add(await delivered_to(fake, update))
        assert time.monotonic() - confirmed < 5, f"answered from it only by {sorted(seen)}"

    # A removal through one replica: no replica returns the source afterwards.
    fake.send_message("/sources", user_id=MODERATOR)
    listing = await reply(fake, MODERATOR, "Vilnius rally")
    source_id = listing.text.split("Vilnius rally")[1].split("<code>")[1].split("</code>")[0]
    fake.send_message(f"/remove {source_id}", user_id=MODERATOR)
    confirm = await reply(fake, MODERATOR, "Remove")
    yes = confirm.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake.send_callback_query(confirm, yes, user_id=MODERATOR)
    removed = await fake.wait_for("editMessageText", chat_id=MODERATOR, timeout=60)
    assert "Removed" in removed.text
    for _ in range(2 * len(replicas)):
        user += 1
        fake.send_message(question, user_id=user)
        got = await fake.wait_for("sendMessage", chat_id=user, timeout=60)
        assert "4,700" not in (got.text or "") and "Vilnius" not in (got.text or "")

    # A replica killed with SIGKILL in the middle of an update it had acknowledged (kept in
    # the inbox): a live replica adopts it and answers it, once.
    victim_user = 7900
    hold = fake.hold(
        lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == str(victim_user),
        limit=1,
    )
    update = fake.send_message(CANONICAL, user_id=victim_user)
    held = await hold.wait_held(timeout=60)
    # Acknowledged already (kept in the inbox), and its reply held: kill that replica now.
    victim = backends[await delivered_to(fake, update)]
    victim.kill()
    # Its reply dies with it: the fake sees the connection go and never executes the call.
    await fake.wait_until(lambda: held.abandoned, timeout=10)
    hold.release()
    answered = await reply(fake, victim_user, "1,200")
    # The others carry on, and nothing is lost or answered twice.
    for n in range(6):
        fake.send_message(CANONICAL, user_id=8000 + n)
    for n in range(6):
        await reply(fake, 8000 + n, "1,200")
    for chat in (victim_user, *range(8000, 8006)):
        assert len([c for c in fake.calls_to("sendMessage", chat_id=chat) if c.ok]) == 1
    # Every update acknowledged (the last answers to the POSTs may trail the replies).
    await fake.wait_until(lambda: not fake.pending_updates, timeout=30)
    assert answered.ok and fake.undelivered_updates == []
    assert fake.errors == [], [r.output()[-2000:] for r in replicas]


async def test_a_second_receiver_is_refused(
    fake_telegram: FakeTelegram, database_url: str | None, model_dir: Path, tmp_path: Path
) -> None:
    """Polling is one process per database; webhook replicas need a shared secret."""
    if database_url:
        Store(data_dir=tmp_path, url=database_url, migrate_schema=True).close()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "TELEGRAM_"))},
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_API_URL": fake_telegram.api_url,
        "TELEGRAM_FILE_URL": fake_telegram.file_url,
        "CITEBOT_DATA_DIR": str(share_models(model_dir, tmp_path / "data")),
        **({"CITEBOT_DATABASE_URL": database_url} if database_url else {}),
    }
    command = [sys.executable, "-m", "bot.cli", "run"]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        # It holds the receiver's lock before it starts talking to Telegram.
        await fake_telegram.wait_until(
            lambda: bool(fake_telegram.calls_to("getMe")) or first.poll() is not None, timeout=60
        )
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        # In a thread: the fake must keep serving the first process meanwhile (blocked, its
        # calls would time out, and it would exit and let the lock go).
        second = await asyncio.to_thread(
            subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert second.returncode == 2
        assert second.stderr.startswith("citebot: error: ")
        assert "already" in second.stderr and "stop it first" in second.stderr
        if database_url:
            webhook = {**env, "CITEBOT_DATA_DIR": str(tmp_path / "other")}
            webhook["CITEBOT_WEBHOOK_URL"] = "https://bot.example.org/telegram"
            replica = await asyncio.to_thread(
                subprocess.run,
                [*command, "--webhook"],
                cwd=ROOT,
                env=webhook,
                capture_output=True,
                text=True,
            )
            assert replica.returncode == 2 and "CITEBOT_WEBHOOK_SECRET" in replica.stderr
            webhook["CITEBOT_WEBHOOK_SECRET"] = "s3cret-shared-by-replicas"
            replica = await asyncio.to_thread(
                subprocess.run,
                [*command, "--webhook"],
                cwd=ROOT,
                env=webhook,
                capture_output=True,
                text=True,
            )
            assert replica.returncode == 2 and "polls Telegram" in replica.stderr, replica.stderr
    finally:
        first.terminate()
        first.wait(timeout=60)
