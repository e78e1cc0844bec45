"""The project's own application, started against the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from telegram.ext import Application

from bot.app import build_application
from bot.services import Services
from bot.settings import Settings
from tests.telegram_fake import FakeTelegram


@dataclass
class RunningBot:
    """A started bot and the fake Telegram it talks to."""

    app: Application
    fake: FakeTelegram
    services: Services


#: The ``make_bot`` fixture: services and settings in, a started bot out.
MakeBot = Callable[..., Awaitable[RunningBot]]


def bot_settings(fake: FakeTelegram, services: Services, **extra: Any) -> Settings:
    """Settings that point the bot at the fake: the two URLs are all it takes."""
    return Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.api_url,
        TELEGRAM_FILE_URL=fake.file_url,
        CITEBOT_DATA_DIR=str(services.config.data_dir),
        **extra,
    )


async def start_bot(app: Application, *, timeout: int = 1) -> None:
    """What ``run_polling`` does, step by step (``post_init`` only runs inside run_polling).

    ``timeout`` is the long-poll timeout (tests use 1 s to stop fast; production uses 10 s).
    """
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None  # ApplicationBuilder makes one
    await app.updater.start_polling(poll_interval=0.0, timeout=timeout)


async def stop_bot(app: Application) -> None:
    """Stop what ``start_bot`` started."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_shutdown:
        await app.post_shutdown(app)
    await app.shutdown()


@pytest_asyncio.fixture
async def make_bot(
    fake_telegram: FakeTelegram,
) -> AsyncIterator[MakeBot]:
    """Start the real application over given services; stopped after the test."""
    started: list[Application] = []

    async def make(services: Services, **settings: Any) -> RunningBot:
        app = build_application(
            bot_settings(fake_telegram, services, **settings), services=services
        )
        await start_bot(app)
        started.append(app)
        return RunningBot(app=app, fake=fake_telegram, services=services)

    yield make
    for app in started:
        await stop_bot(app)


@pytest_asyncio.fixture
async def bot(make_bot: MakeBot, seeded: Services) -> RunningBot:
    """The bot over the bundled corpus."""
    return await make_bot(seeded)
