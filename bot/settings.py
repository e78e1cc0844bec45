"""Settings from the environment (and an optional ``.env`` file), validated once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.config import RetrievalConfig

_RETRIEVAL = RetrievalConfig.model_fields
_TOKEN = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{20,}$")


class Settings(BaseSettings):
    """Every setting citebot reads; the README's Configuration section lists them."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    telegram_file_url: str = Field(
        default="https://api.telegram.org/file/bot", alias="TELEGRAM_FILE_URL"
    )
    # The retrieval settings take their defaults from RetrievalConfig: each is defined once.
    data_dir: Path = Field(default=_RETRIEVAL["data_dir"].default, alias="CITEBOT_DATA_DIR")
    # PostgreSQL shared by replicas; unset: SQLite in the data directory. A secret: it may
    # hold a password.
    database_url: SecretStr | None = Field(default=None, alias="CITEBOT_DATABASE_URL")
    model: str = Field(default=_RETRIEVAL["model"].default, alias="CITEBOT_MODEL")
    query_threads: int = Field(
        default=_RETRIEVAL["query_threads"].default, ge=0, alias="CITEBOT_QUERY_THREADS"
    )
    ingest_threads: int = Field(
        default=_RETRIEVAL["ingest_threads"].default, ge=0, alias="CITEBOT_INGEST_THREADS"
    )
    min_confidence: float | None = Field(
        default=_RETRIEVAL["min_confidence"].default,
        ge=0.0,
        le=1.0,
        alias="CITEBOT_MIN_CONFIDENCE",
    )
    log_level: str = Field(default="INFO", alias="CITEBOT_LOG_LEVEL")
    moderators: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="CITEBOT_MODERATORS"
    )
    owner: int | None = Field(default=None, alias="CITEBOT_OWNER")
    allow_private_urls: bool = Field(default=False, alias="CITEBOT_ALLOW_PRIVATE_URLS")
    concurrent_updates: int = Field(default=32, ge=1, alias="CITEBOT_CONCURRENT_UPDATES")
    send_retries: int = Field(default=3, ge=0, alias="CITEBOT_SEND_RETRIES")
    # Telegram takes about 30 messages/s from one bot: with N replicas give each 30/N.
    send_rate: float = Field(default=30.0, gt=0, alias="CITEBOT_SEND_RATE")
    webhook_url: str | None = Field(default=None, alias="CITEBOT_WEBHOOK_URL")
    webhook_listen: str = Field(default="0.0.0.0", alias="CITEBOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, alias="CITEBOT_WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(default=None, alias="CITEBOT_WEBHOOK_SECRET")

    @field_validator("moderators", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in re.split(r"[,\s]+", value) if part)
        return value

    def token(self) -> str:
        """The bot token, or ``ValueError`` with a one-line reason."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        token = self.telegram_bot_token.get_secret_value().strip()
        if not _TOKEN.match(token):
            raise ValueError(
                "TELEGRAM_BOT_TOKEN is malformed: expected digits, a colon and the secret, "
                "as @BotFather gives it"
            )
        return token

    def database(self) -> str | None:
        """The PostgreSQL URL, or None for SQLite."""
        if self.database_url is None:
            return None
        return self.database_url.get_secret_value().strip() or None

    def retrieval(self) -> RetrievalConfig:
        """The retrieval pipeline's share of the settings."""
        return RetrievalConfig(
            data_dir=self.data_dir,
            model=self.model,
            query_threads=self.query_threads,
            ingest_threads=self.ingest_threads,
            min_confidence=self.min_confidence,
        )
