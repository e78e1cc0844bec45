"""Bot replicas as real processes: ``citebot run --webhook`` on loopback, one PostgreSQL.

Shared by the end-to-end test and ``bench/telegram_load.py``. Each replica has its own data
directory (its own index builds and exported models) and its own port; the fake Bot API is the
load balancer (``FakeTelegram.balance``) and delivers to them in turn.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.telegram_fake import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
#: The path of the webhook on every replica (and in the URL given to Telegram).
HOOK_PATH = "/telegram"


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Replica:
    """One ``citebot run --webhook`` process."""

    index: int
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path

    @property
    def url(self) -> str:
        """Where the balancer posts updates for this replica."""
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def kill(self) -> None:
        """SIGKILL: no goodbye, no cleanup, as a crash or an OOM kill."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, as a deploy does; SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        """What the replica logged (for a failing test's message)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_replicas(
    count: int,
    *,
    fake: FakeTelegram,
    database_url: str,
    root: Path,
    env: Mapping[str, str] | None = None,
    before_start: Callable[[Path], object] | None = None,
) -> list[Replica]:
    """Start ``count`` replicas against ``fake`` and ``database_url``; not yet ready.

    ``before_start(data_dir)`` prepares each replica's data directory (say, copies in the
    exported models) before its process starts.
    """
    secret = secrets.token_urlsafe(24)
    replicas = []
    for index in range(count):
        data_dir = root / f"replica-{index}"
        data_dir.mkdir(parents=True, exist_ok=True)
        if before_start is not None:
            before_start(data_dir)
        port = free_port()
        log = root / f"replica-{index}.log"
        values = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "TELEGRAM_"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.api_url,
            "TELEGRAM_FILE_URL": fake.file_url,
            "CITEBOT_DATABASE_URL": database_url,
            "CITEBOT_DATA_DIR": str(data_dir),
            # The address Telegram is told; the balancer delivers to each replica's own port.
            "CITEBOT_WEBHOOK_URL": f"http://127.0.0.1:{fake.port}{HOOK_PATH}",
            "CITEBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "CITEBOT_WEBHOOK_PORT": str(port),
            "CITEBOT_WEBHOOK_SECRET": secret,
            **(env or {}),
        }
        handle = open(log, "wb")  # noqa: SIM115 (the child writes to it; closed by the OS)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--webhook"],
            cwd=ROOT,
            env=values,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()
        replicas.append(Replica(index, process, port, data_dir, log))
    fake.balance([r.url for r in replicas])
    return replicas


async def wait_ready(fake: FakeTelegram, replicas: list[Replica], *, timeout: float) -> None:
    """Until every replica has set the webhook (it does so once it listens), then balance."""
    try:
        await fake.wait_until(
            lambda: (
                len(fake.calls_to("setWebhook")) >= len(replicas)
                or any(r.process.poll() is not None for r in replicas)
            ),
            timeout=timeout,
        )
    finally:
        dead = [r for r in replicas if r.process.poll() is not None]
        if dead:
            raise AssertionError(
                "a replica exited while starting:\n" + "\n".join(r.output()[-3000:] for r in dead)
            )
