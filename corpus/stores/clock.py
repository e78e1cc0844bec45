"""Timestamps and text hashes, one definition for every store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def text_hash(text: str) -> str:
    """The cache key of a text's embedding."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
