"""A removal, once acknowledged, leaves none of the removed text in the data directory: not in
SQLite (rows, freed pages, the write-ahead log), not in the embedding cache, not in any index
build, whether the bot removes it or `citebot remove` does while the bot runs."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from bot.services import Services
from corpus.engine import SqliteDatabase
from corpus.loaders import load_bytes
from corpus.store import text_hash
from retrieval.index_files import IndexFiles
from tests.bot.conftest import RunningBot
from tests.bot.test_moderators import NEW_FIGURE, READER, modbot
from tests.bot.test_runtime import add_viasna, remove_and_wait
from tests.documents import SEED, markdown
from tests.processes import run_citebot

__all__ = ["modbot"]

#: Every sentence of the removed document, its title, and the name it is about.
REMOVED_TEXTS = [
    *re.split(r"(?<=\.) ", NEW_FIGURE.split("---\n", 2)[2].strip()),
    "Viasna: 1,113 political prisoners in November",
    "Losik",
]


def leftovers(data_dir: Path) -> dict[str, list[str]]:
    """Which files of the data directory still hold which of the removed texts (any case)."""
    found: dict[str, list[str]] = {}
    needles = [t.lower().encode() for t in REMOVED_TEXTS]
    for path in data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            hits = [t for t, n in zip(REMOVED_TEXTS, needles, strict=True) if n in data]
            if hits:
                found[str(path.relative_to(data_dir))] = hits
    return found


def cached_vectors(services: Services, texts: list[str]) -> int:
    database = services.store.database
    assert isinstance(database, SqliteDatabase)
    with sqlite3.connect(database.path) as db:
        marks = ",".join("?" * len(texts))
        hashes = [text_hash(t) for t in texts]
        query = f"SELECT COUNT(*) FROM embeddings WHERE content_hash IN ({marks})"
        return int(db.execute(query, hashes).fetchone()[0])


async def test_a_removal_by_the_bot_leaves_nothing_of_the_text(modbot: RunningBot) -> None:
    fake, data = modbot.fake, modbot.services.config.data_dir
    source = await add_viasna(modbot)
    mark = fake.mark()
    fake.send_message("How many political prisoners does Viasna count now?", user_id=READER)
    assert "1,113" in (await fake.wait_for("sendMessage", since=mark, timeout=30)).text
    assert leftovers(data)  # the check finds the text while it is there
    sentences = REMOVED_TEXTS[:3]
    assert cached_vectors(modbot.services, sentences) > 0
    await remove_and_wait(fake, source)
    assert leftovers(data) == {}
    assert cached_vectors(modbot.services, sentences) == 0
    # Only the build answering now is left, and it answers without the source.
    assert [p.name for p in (data / "index").glob("v*") if p.is_dir()] == [
        IndexFiles(data_dir=data).current_name()
    ]
    mark = fake.mark()
    fake.send_message("How many political prisoners does Viasna count now?", user_id=READER)
    assert "1,113" not in (await fake.wait_for("sendMessage", since=mark, timeout=30)).text
    assert modbot.services.history(1)[0].detail == ""  # the audit log keeps no title


async def test_citebot_remove_waits_for_the_running_bot_and_leaves_nothing(
    modbot: RunningBot,
) -> None:
    data = modbot.services.config.data_dir
    source = await add_viasna(modbot)
    # The bot answers from the build holding the source (it leases it) while the command runs.
    done = await asyncio.to_thread(run_citebot, ["remove", source.id], data_dir=data, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no build was left behind in use
    assert leftovers(data) == {}


def test_a_sentence_shared_with_another_source_keeps_its_vector(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    shared = "The Viasna centre counts every political prisoner by name."
    first = load_bytes(markdown(f"{shared} Only the first says this.").encode(), "first.md")
    second = load_bytes(markdown(f"{shared} The second says another thing.").encode(), "two.md")
    services.ingest([first, second, load_bytes(SEED.read_bytes(), SEED.name)])
    gone = next(s for s in services.sources() if s.identity == "first.md")
    services.remove(gone.id)
    assert cached_vectors(services, [shared]) == 1  # still used by two.md
    assert cached_vectors(services, ["Only the first says this."]) == 0
    assert services.ask("Who counts every political prisoner by name?").answered


def test_the_store_overwrites_deleted_content(make_services: Callable[..., Services]) -> None:
    services = make_services()
    # Not left to how SQLite was compiled: most builds keep deleted text in freed pages.
    database = services.store.database
    assert isinstance(database, SqliteDatabase)
    assert database._db().execute("PRAGMA secure_delete").fetchone()[0] == 1


async def test_a_build_in_use_is_deleted_once_its_last_search_ends(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    services.ingest([load_bytes(SEED.read_bytes(), SEED.name)])
    library = services.library
    files = IndexFiles(data_dir=services.config.data_dir)
    old = files.current_name()
    assert old is not None
    # A search holds the build it runs on while a new one is published and swapped in.
    with library._using() as retriever:
        another = load_bytes(markdown("Another text here. And more.").encode(), "b.md")
        services.indexer.ingest([another])
        assert library.refresh()
        assert (files.root / old).is_dir() and retriever.manifest.passages > 0
        assert files.prune() == [old]
    assert files.prune() == [] and not (files.root / old).exists()
