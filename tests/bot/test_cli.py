"""The citebot command line: one line per error, JSON for machines, text for people."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from click.testing import CliRunner

import corpus.engine
import corpus.fetch
from bot.cli import cli
from bot.services import Services
from corpus.engine import SqliteDatabase
from corpus.errors import REASONS
from tests.corpus.test_fetch import REFUSED_HOSTS
from tests.documents import CANONICAL, ROOT, SEED, markdown, write_markdown
from tests.postgres import PostgresServer
from tests.processes import run_citebot
from tests.web import (
    ARTICLE_HTML,
    HOSTILE_REASONS,
    RawServer,
    closed_port,
    connections,
    head,
    hostile_replies,
    send,
    serve_raw,
    short_bounds,
)


def _run(services: Services, *args: str, stdin: str | None = None):
    runner = CliRunner()
    return runner.invoke(
        cli, list(args), obj={"settings": services.settings, "services": services}, input=stdin
    )


def test_ingest_sources_ask_remove(make_services: Callable[..., Services], tmp_path: Path) -> None:
    services = make_services()
    result = _run(services, "ingest", str(SEED.parent))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("added")

    result = _run(services, "sources", "--json")
    [source] = [json.loads(line) for line in result.output.splitlines()]
    assert source["published"] == "2025-09" and source["passage_count"] > 5

    result = _run(services, "ask", CANONICAL)
    assert result.exit_code == 0
    assert "1,200 political prisoners" in result.output.splitlines()[0]
    assert "relies on: The Associated Press" in result.output

    result = _run(services, "ask", "How do I bake sourdough bread?")
    assert "No reliable passage" in result.output
    result = _run(services, "ask", "How many political prisoners are there in Venezuela?")
    assert "No document in the corpus mentions Venezuela" in result.output

    result = _run(services, "remove", source["id"])
    assert result.exit_code == 0 and "removed" in result.output
    assert _run(services, "sources").output == ""


def test_bad_files_are_named_and_nothing_is_written(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    services = make_services()
    write_markdown(tmp_path, "good.md", "A fine sentence. Another one.")
    (tmp_path / "bad.md").write_text("---\ntitle: No date\n---\nBody text.")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    result = _run(services, "ingest", str(tmp_path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert any("bad.md: missing required metadata: published" in line for line in lines)
    assert any("binary.txt: looks like a binary file" in line for line in lines)
    assert services.store.corpus.sources() == []
    assert services.store.corpus.corpus_version() == 0


def test_txt_metadata_comes_from_flags(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    services = make_services()
    path = tmp_path / "note.txt"
    path.write_text("Exiles met in Vilnius on Sunday. They discussed prisoner releases.")
    result = _run(
        services,
        "ingest",
        str(path),
        "--title",
        "Vilnius meeting",
        "--published",
        "2025-10",
        "--cites",
        "Nasha Niva",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "added"
    [source] = services.store.corpus.sources()
    assert source.title == "Vilnius meeting" and source.cites == ("Nasha Niva",)


def test_unknown_source_and_empty_question_are_one_line_errors(
    seeded: Services,
) -> None:
    result = _run(seeded, "remove", "nosuchid")
    assert result.exit_code == 1
    assert result.output.strip() == "citebot: error: no source with id 'nosuchid'"
    result = _run(seeded, "ask", "   ")
    assert result.exit_code == 1
    assert result.output.strip() == "citebot: error: the question is empty"


def test_ask_json_lines_from_stdin(seeded: Services) -> None:
    result = _run(
        seeded,
        "ask",
        "--json",
        "-",
        "-k",
        "2",
        stdin=f"{CANONICAL}\n\nWhat is the best pizza in Naples?\n",
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["answered"] and "1,200" in first["hits"][0]["highlight"]
    assert second == {
        "question": "What is the best pizza in Naples?",
        "answered": False,
        "time": "current",
        "hits": [],
        "earlier": [],
        "differs": [],
        # Naples is a city: no country named.
        "not_covered": [],
    }


def test_commands_without_the_model_do_not_import_torch(seeded_dir: Path) -> None:
    code = (
        "import sys; from bot.cli import cli\n"
        "try:\n    cli(['sources'], prog_name='citebot')\n"
        "except SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'sentence_transformers' not in sys.modules\n"
    )
    env = {**os.environ, "CITEBOT_DATA_DIR": str(seeded_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Belarus opposition leader" in done.stdout


def test_console_script_answers_json_lines(seeded_dir: Path) -> None:
    """The installed entry point end to end: one model load, one JSON object per line."""
    env = {**os.environ, "CITEBOT_DATA_DIR": str(seeded_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "-"],
        input=f"{CANONICAL}\nWho is Ales Bialiatski?\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["answered"] for a in answers] == [True, True]
    assert done.stderr == ""


def test_help_documents_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for command in ("ingest", "sources", "remove", "reindex", "ask", "chat"):
        assert command in result.output
    assert "CITEBOT_DATA_DIR" in result.output


def test_chat_answers_until_an_empty_line(seeded: Services) -> None:
    result = _run(seeded, "chat", stdin=f"{CANONICAL}\nWhat is the best pizza in Naples?\n\n")
    assert result.exit_code == 0
    assert "1,200 political prisoners" in result.output
    assert "No reliable passage" in result.output


def test_a_damaged_index_is_reported_and_reindex_rebuilds_it(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    assert _run(services, "ingest", str(SEED)).exit_code == 0
    for path in (services.config.data_dir / "index").glob("v*/dense.faiss"):
        path.unlink()
    result = _run(make_services(services.config.data_dir), "ask", CANONICAL)
    assert result.exit_code == 1
    assert "run `citebot reindex`" in result.output
    result = _run(services, "reindex")
    assert result.exit_code == 0, result.output
    assert "indexed 16 passages" in result.output
    fresh = make_services(services.config.data_dir)
    assert fresh.library.search(CANONICAL).answered


def test_migrate_prepares_postgres_once_for_every_replica(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        CITEBOT_DATA_DIR=str(tmp_path),
        CITEBOT_DATABASE_URL=postgres.database(),
    )
    runner = CliRunner()
    refused = runner.invoke(cli, ["sources"], obj={"settings": settings})
    assert refused.exit_code == 1 and "run `citebot migrate` once" in refused.output
    done = runner.invoke(cli, ["migrate"], obj={"settings": settings})
    assert done.exit_code == 0 and done.output.startswith("schema version")
    assert "postgresql://" in done.output
    assert runner.invoke(cli, ["migrate"], obj={"settings": settings}).exit_code == 0
    listed = runner.invoke(cli, ["sources"], obj={"settings": settings})
    assert listed.exit_code == 0 and listed.output == ""


# -- hostile and broken input ---------------------------------------------------------------


async def _run_in_thread(services: Services, *args: str) -> Any:
    # The command line runs its own event loop for a link; the test's serves the pages.
    return await asyncio.to_thread(_run, services, *args)


@pytest_asyncio.fixture
async def pages() -> AsyncIterator[RawServer]:
    """An article, and the hostile replies of the issue."""
    replies = {"/article": send(head(Content_Type="text/html") + ARTICLE_HTML), **hostile_replies()}
    async with serve_raw(replies) as server:
        yield server


async def test_ingest_url_adds_a_page_exactly_as_add_does(
    make_services: Callable[..., Services], pages: RawServer
) -> None:
    services = make_services(CITEBOT_ALLOW_PRIVATE_URLS="1")
    url = pages.url("/article")
    result = await _run_in_thread(services, "ingest", url, "--publisher", "Local News")
    assert result.exit_code == 0, result.output
    [source] = services.sources()
    assert source.url == url and source.identity == url
    assert source.title == "Prisoner count" and source.published == "2025-11-20"
    assert source.publisher == "Local News"
    result = await _run_in_thread(services, "ingest", url, "--publisher", "Local News")
    assert result.output.startswith("unchanged")


@pytest.mark.parametrize(("host", "code"), [*REFUSED_HOSTS, ("user:pw@127.0.0.1", "credentials")])
async def test_ingest_url_refuses_private_targets_without_connecting(
    make_services: Callable[..., Services], pages: RawServer, host: str, code: str
) -> None:
    services = make_services()
    url = f"http://{host}:{pages.port}/article"
    with connections() as attempted:
        result = await _run_in_thread(services, "ingest", url, "--published", "2025-11")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    expected = REASONS[code].split("{")[0] if code != "private" else "is a private, loopback"
    assert first.startswith(f"citebot: error: {url}: ") and expected in first, first
    assert attempted == [] and pages.seen == []
    assert services.sources() == []


@pytest.mark.parametrize(("path", "reason"), HOSTILE_REASONS)
async def test_ingest_url_refuses_hostile_servers_with_the_reason(
    make_services: Callable[..., Services],
    pages: RawServer,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    reason: str,
) -> None:
    for name, value in short_bounds(path).items():
        monkeypatch.setattr(corpus.fetch, name, value)
    services = make_services(CITEBOT_ALLOW_PRIVATE_URLS="1")
    url = pages.url(path)
    result = await _run_in_thread(services, "ingest", url, "--published", "2025-11")
    assert result.exit_code == 1
    assert result.output.startswith(f"citebot: error: {url}: {reason}"), result.output
    assert services.sources() == [] and services.store.corpus.corpus_version() == 0


def test_ingest_closed_port_is_refused_with_the_reason(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(CITEBOT_ALLOW_PRIVATE_URLS="1")
    url = f"http://127.0.0.1:{closed_port()}/page"
    result = _run(services, "ingest", url)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"citebot: error: {url}: could not connect to 127.0.0.1: the connection was refused "
        "or it is unreachable"
    )


def test_hostile_files_are_refused_with_the_file_and_the_reason(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    services = make_services()
    late_nul = tmp_path / "late-nul.md"
    late_nul.write_bytes(markdown("Text. " * 2000).encode() + b"\x00tail")
    oneline = tmp_path / "oneline.md"
    oneline.write_text(markdown(_words(5 * 2**20)))
    future = write_markdown(tmp_path, "future.md", "Body text.", published="2099-12")
    pdf = tmp_path / "corrupt.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n")
    result = _run(services, "ingest", str(late_nul), str(oneline), str(future), str(pdf))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"citebot: error: {late_nul}: looks like a binary file, not text",
        f"citebot: error: {oneline}: the text is longer than 2000000 characters",
        f"citebot: error: {future}: published is in the future "
        f"(2099-12; today is {datetime.now(UTC).date().isoformat()})",
        f"citebot: error: {pdf}: is not a readable PDF (EOF marker not found)",
        "citebot: error: nothing was ingested (4 invalid document(s))",
    ]
    assert services.sources() == []


def _words(size: int) -> str:
    """``size`` characters of words and spaces, without any punctuation: one endless line."""
    vocabulary = ("prisoners", "court", "minsk", "released", "held", "report", "viasna")
    words = " ".join(vocabulary[i % len(vocabulary)] for i in range(size // 7 + 1))
    return words[:size]


def test_remove_with_the_write_lock_held_is_a_one_line_error(
    make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(corpus.engine, "WAIT_SECONDS", 0.5)
    services = make_services()
    assert (
        _run(services, "ingest", str(write_markdown(tmp_path, "a.md", "Some text."))).exit_code == 0
    )
    [source] = services.sources()
    database = services.store.database
    assert isinstance(database, SqliteDatabase)
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer that never lets go
    try:
        result = _run(services, "remove", source.id)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 1
    assert result.output.strip() == (
        "citebot: error: the database is busy: another process has held its write lock for "
        "more than 0.5 s; try again"
    )
    assert [s.id for s in services.sources()] == [source.id]
    assert _run(services, "remove", source.id).exit_code == 0


# -- measured in a process of its own: time and memory of the whole citebot ----------------

#: Generous bounds for the tests (the bench measures the real worst cases against 60 s and
#: 1.5 GB, README: Limits). Refused input never loads a model.
REFUSED_RSS = 700 * 2**20
ACCEPTED_RSS = 2_500 * 2**20


async def test_hostile_input_finishes_in_bounded_time_and_memory(
    tmp_path: Path, pages: RawServer
) -> None:
    data = tmp_path / "data"
    oneline = tmp_path / "oneline.md"
    oneline.write_text(markdown(_words(5 * 2**20)))
    upload = tmp_path / "upload.txt"
    upload.write_text(("Sentence of an upload at its largest. " * 600_000)[: 20 * 2**20 - 1])
    allow = {"CITEBOT_ALLOW_PRIVATE_URLS": "1"}
    cases = [
        (["ingest", str(oneline)], "the text is longer than"),
        (["ingest", "--title", "t", "--published", "2025-01", str(upload)], "longer than"),
        (["ingest", pages.url("/bomb")], "larger than 20 MB once decompressed"),
        (["ingest", pages.url("/double-bomb")], "larger than 20 MB once decompressed"),
        (["ingest", pages.url("/drip")], "took longer than 2 s"),
    ]
    for args, reason in cases:
        done = await asyncio.to_thread(
            run_citebot,
            args,
            data_dir=data,
            env=allow,
            constants={"corpus.fetch.DEADLINE": 2.0},
            timeout=120,
        )
        assert done.returncode == 1, (args, done.stderr)
        assert reason in done.stderr.splitlines()[0], done.stderr
        assert done.seconds < 60 and done.peak_rss < REFUSED_RSS, (args, done)
    assert not (data / "index").exists()


def test_a_long_unpunctuated_line_is_ingested_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "oneline.md"
    path.write_text(markdown(_words(200_000)))
    done = run_citebot(
        ["ingest", "--json", str(path)],
        data_dir=tmp_path / "data",
        env={"CITEBOT_ONNX": "0"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "added" and 150 <= result["passages"] <= 200
    assert done.peak_rss < ACCEPTED_RSS, done
