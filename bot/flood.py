"""A per-user flood guard that never keeps a user id: only a keyed hash under a rotated salt.

The buckets live in the shared state (this process's memory with SQLite, PostgreSQL with
replicas), so a user flooding several replicas is counted once. The salt is random, shared by
the replicas and replaced every ``SALT_PERIOD``: a bucket key cannot be turned back into an id,
and keys of different periods cannot be linked. A user whose bucket was keyed by the previous
salt starts with a full bucket at the rotation: at most one extra burst per period.
"""

from __future__ import annotations

import hashlib
import hmac

from corpus.stores.shared import SharedState

#: Seconds between salt rotations.
SALT_PERIOD = 6 * 3600.0


class FloodGuard:
    """A token bucket per user: ``burst`` questions at once, then one per ``interval`` seconds."""

    def __init__(self, shared: SharedState, *, burst: int = 5, interval: float = 3.0) -> None:
        self.shared = shared
        self.burst = burst
        self.interval = interval

    async def _key(self, user_id: int) -> bytes:
        salt = await self.shared.secret("flood", period=SALT_PERIOD)
        return hmac.new(salt, str(user_id).encode(), hashlib.sha256).digest()[:16]

    async def allow(self, user_id: int, *, now: float | None = None) -> bool:
        """Take one token for this user; False when the user is over the limit."""
        return await self.shared.take_token(
            await self._key(user_id), burst=self.burst, interval=self.interval, now=now
        )
