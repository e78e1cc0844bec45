"""Session-wide fixtures: the real model is loaded once; every test gets its own data directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.services import Services
from bot.settings import Settings
from corpus.loaders import load_path
from retrieval.config import RetrievalConfig
from retrieval.e5 import prepare
from retrieval.encoders import Encoder, load_encoders
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
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The e5 build, made once per test session (about 20 s) as a data directory makes it."""
    models = tmp_path_factory.mktemp("e5") / "models"
    prepare(models)
    return models


def share_models(models: Path, data_dir: Path) -> Path:
    """Give ``data_dir`` the session's e5 build (hard links: instant, no copy), as if it had
    built it; processes started on ``data_dir`` then load it instead of building again."""
    target = data_dir / "models"
    if not target.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(models, target, copy_function=os.link)
    return data_dir


@pytest.fixture(scope="session")
def encoders(model_dir: Path) -> dict[str, Encoder]:
    """The bundled model, loaded once per test session."""
    return load_encoders(RetrievalConfig(data_dir=model_dir.parent))


@contextmanager
def _services_factory(
    tmp_path_factory: pytest.TempPathFactory, encoders: dict[str, Encoder], model_dir: Path
) -> Iterator[Callable[..., Services]]:
    """A maker of ``Services`` over fresh data directories; all closed on exit."""
    made: list[Services] = []

    def make(data_dir: Path | None = None, **settings: Any) -> Services:
        folder = share_models(model_dir, data_dir or tmp_path_factory.mktemp("data"))
        values: dict[str, Any] = {"CITEBOT_DATA_DIR": str(folder), **settings}
        services = Services(settings=Settings(_env_file=None, **values), encoders=encoders)
        made.append(services)
        return services

    try:
        yield make
    finally:
        for services in made:
            services.close()


@pytest.fixture
def make_services(
    tmp_path_factory: pytest.TempPathFactory, encoders: dict[str, Encoder], model_dir: Path
) -> Iterator[Callable[..., Services]]:
    """Build ``Services`` over a fresh data directory (settings overridable by keyword)."""
    with _services_factory(tmp_path_factory, encoders, model_dir) as make:
        yield make


@pytest.fixture(scope="module")
def make_module_services(
    tmp_path_factory: pytest.TempPathFactory, encoders: dict[str, Encoder], model_dir: Path
) -> Iterator[Callable[..., Services]]:
    """``make_services`` for a corpus a whole test module shares (ingested once)."""
    with _services_factory(tmp_path_factory, encoders, model_dir) as make:
        yield make


@pytest.fixture(scope="session")
def seeded_dir(
    tmp_path_factory: pytest.TempPathFactory, encoders: dict[str, Encoder], model_dir: Path
) -> Path:
    """A data directory holding the bundled corpus (read-only for tests that use it)."""
    folder = share_models(model_dir, tmp_path_factory.mktemp("seeded"))
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
