"""Session-wide fixtures: the real model is loaded once; every test gets its own data directory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.services import Services
from bot.settings import Settings
from corpus.loaders import load_path
from retrieval.config import RetrievalConfig
from retrieval.encoders import Encoder, SentenceTransformerEncoder, load_encoders
from tests.documents import SEED
from tests.postgres import PostgresServer, start_postgres
from tests.telegram_fake import fake_telegram  # noqa: F401  (a fixture)

# Tests never read a developer's .env or the environment's data directory.
for _name in list(os.environ):
    if _name.startswith(("CITEBOT_", "TELEGRAM_")):
        del os.environ[_name]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (started on first use, ~1 s)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each engine in turn: None (SQLite in the data directory) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").database()


@pytest.fixture(scope="session")
def encoders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Encoder]:
    """The bundled models (MiniLM and USE-m3), loaded once per test session, with questions
    encoded through ONNX Runtime as in production."""
    loaded = load_encoders(RetrievalConfig())
    dense = loaded["dense"]
    assert isinstance(dense, SentenceTransformerEncoder)
    assert dense.use_onnx_runtime(tmp_path_factory.mktemp("models"), threads=1)
    return loaded


@pytest.fixture
def make_services(
    tmp_path_factory: pytest.TempPathFactory, encoders: dict[str, Encoder]
) -> Iterator[Callable[..., Services]]:
    """Build ``Services`` over a fresh data directory (settings overridable by keyword)."""
    made: list[Services] = []

    def make(data_dir: Path | None = None, **settings: object) -> Services:
        folder = data_dir or tmp_path_factory.mktemp("data")
        values = {"CITEBOT_DATA_DIR": str(folder), **settings}
        services = Services(settings=Settings(_env_file=None, **values), encoders=encoders)
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, encoders: dict[str, Encoder]) -> Path:
    """A data directory holding the bundled corpus (read-only for tests that use it)."""
    folder = tmp_path_factory.mktemp("seeded")
    services = Services(
        settings=Settings(_env_file=None, CITEBOT_DATA_DIR=str(folder)), encoders=encoders
    )
    services.indexer.ingest([load_path(SEED)])
    services.close()
    return folder


@pytest.fixture
def seeded(make_services: Callable[..., Services], seeded_dir: Path) -> Services:
    """Services over the bundled corpus."""
    return make_services(seeded_dir)
