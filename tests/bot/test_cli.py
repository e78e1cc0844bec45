"""The citebot command line: one line per error, JSON for machines, text for people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.services import Services
from tests.documents import CANONICAL, ROOT, SEED, write_markdown
from tests.postgres import PostgresServer


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
        "hits": [],
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
