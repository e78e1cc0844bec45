"""A per-user flood guard that never keeps a user id: only a salted, keyed hash, in memory."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections import OrderedDict

#: Buckets forgotten after this many seconds without a message (and at most this many kept).
_IDLE_SECONDS = 600.0
_MAX_USERS = 100_000


class FloodGuard:
    """A token bucket per user: ``burst`` questions at once, then one per ``interval`` seconds."""

    def __init__(self, *, burst: int = 5, interval: float = 3.0) -> None:
        self.burst = burst
        self.interval = interval
        # A fresh random salt per process: the hashes cannot be linked to ids, or across restarts.
        self._salt = os.urandom(32)
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def _key(self, user_id: int) -> bytes:
        return hmac.new(self._salt, str(user_id).encode(), hashlib.sha256).digest()[:16]

    def allow(self, user_id: int, *, now: float | None = None) -> bool:
        """Take one token for this user; False when the user is over the limit."""
        now = time.monotonic() if now is None else now
        key = self._key(user_id)
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) / self.interval)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        self._forget(now)
        return allowed

    def _forget(self, now: float) -> None:
        while self._buckets:
            _, (_, last) = next(iter(self._buckets.items()))
            if now - last < _IDLE_SECONDS and len(self._buckets) <= _MAX_USERS:
                break
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
