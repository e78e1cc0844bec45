"""Receiving updates by webhook, on as many replicas as the database allows.

Telegram posts each update to one URL; a load balancer spreads the posts over the replicas.
Nothing acknowledged may be lost when a replica dies, so an update is acknowledged only once
something other than this process's memory holds it:

* With PostgreSQL, the update is claimed and kept in the ``inbox`` (sealed with AES-GCM under a
  key derived from the webhook secret, which never enters the database) in one transaction,
  then acknowledged at once, then handled; it is deleted when handled. If the replica dies
  first, a live one adopts it (its liveness lock went with its connection) and answers it.
  Acknowledging at once matters: Telegram opens at most ``max_connections`` connections, and a
  POST held until its reply is sent would hold one for as long as the reply waits for Telegram's
  30 messages/s; a flood of questions would then hold every connection and inline queries would
  queue behind them (bench/telegram_load.py: inline p95 29-33 s instead of seconds).
* With SQLite (one process, nothing else to take over), the POST is answered once the update
  has been handled: if the process dies, Telegram delivers the update again.

A redelivery of an update already handled is acknowledged and dropped (answered once); one
still being handled by a live replica is acknowledged when its body is kept, else refused for
now (Telegram asks again); one whose replica died is handled by whoever gets it.

PTB's own webhook server acknowledges an update as soon as it is queued in memory, which would
lose every update in flight on a replica that is killed: hence this small server (aiohttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import signal
from http import HTTPStatus
from urllib.parse import urlsplit

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from telegram import Update
from telegram.ext import Application

from corpus.errors import StoreError
from corpus.stores.shared import Claim, SharedState

log = logging.getLogger(__name__)

#: Largest update accepted (Telegram's are a few KB; files are downloaded separately).
MAX_UPDATE_BYTES = 1 << 20
#: Seconds an update may take before its POST is answered anyway. Telegram gives up on a slow
#: webhook after about a minute and delivers again; an ingest that takes longer keeps running,
#: and its claim makes the redelivery a no-op.
HOLD_SECONDS = 50.0
#: Seconds a stopping replica lets the updates in its hands finish (then Telegram redelivers).
GRACE_SECONDS = 30.0
#: Connections Telegram opens to the webhook at most (setWebhook's max_connections).
MAX_CONNECTIONS = 100
#: Seconds between looks for updates left by a replica that died.
ADOPT_INTERVAL = 1.0
#: Orphaned updates adopted per look.
ADOPT_BATCH = 100
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Sealer:
    """Seals an update for the inbox: AES-GCM under a key derived from the webhook secret.

    The secret lives in the replicas' environment, never in the database: whoever reads the
    database sees ciphertext. Each sealed update is bound to its ``update_id``.
    """

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"citebot inbox").derive(
            secret.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, update_id: int, body: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, body, str(update_id).encode())

    def open(self, update_id: int, sealed: bytes) -> bytes:
        """The update; ``ValueError`` if it was sealed with another secret or tampered with."""
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], str(update_id).encode())
        except InvalidTag as exc:
            raise ValueError("the update was sealed with another webhook secret") from exc


class WebhookServer:
    """Takes Telegram's POSTs and answers each once its update has been handled."""

    def __init__(
        self, application: Application, *, shared: SharedState, secret: str, path: str
    ) -> None:
        self.application = application
        self.shared = shared
        self.secret = secret
        self.path = "/" + path.strip("/")
        self.sealer = Sealer(secret)
        self._runner: web.AppRunner | None = None
        self._unfinished: set[asyncio.Task[None]] = set()
        self._adopter: asyncio.Task[None] | None = None

    async def start(self, *, listen: str, port: int) -> None:
        """Listen on ``listen:port``."""
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(self.path, self._post)
        # For load balancers and orchestrators: listening means ready (post_init has loaded
        # the models and the index before the server starts).
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=GRACE_SECONDS)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()
        if self.shared.keeps_updates:
            self._adopter = asyncio.create_task(self._adopt_loop(), name="citebot-adopt")

    @property
    def port(self) -> int:
        """The port listened on (useful with port 0)."""
        assert self._runner is not None
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening; let the updates in hand finish (at most ``GRACE_SECONDS``).

        What is still unfinished then stays in the inbox, for a live replica to adopt."""
        if self._adopter is not None:
            self._adopter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._adopter
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._unfinished:
            await asyncio.wait(self._unfinished, timeout=GRACE_SECONDS)

    async def _health(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _post(self, request: web.Request) -> web.Response:
        given = request.headers.get(_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=HTTPStatus.FORBIDDEN)
        try:
            data = json.loads(await request.read())
            update_id = int(data["update_id"])
        except (ValueError, TypeError, KeyError):
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        keeps = self.shared.keeps_updates
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            log.exception("an update that is not one; refused")
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        body = self.sealer.seal(update_id, json.dumps(data).encode()) if keeps else None
        try:
            claim = await self.shared.claim_update(update_id, body=body)
        except StoreError:
            log.exception("could not claim an update; Telegram will deliver it again")
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        if claim is Claim.DONE or (claim is Claim.BUSY and keeps):
            return web.Response()
        if claim is Claim.BUSY:
            # Never acknowledged before it is done: if its process dies now, Telegram's next
            # try gets it handled.
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        if claim is Claim.ORPHANED:
            log.info("handling an update whose replica stopped before finishing it")
        task = self._start(update, update_id)
        if keeps:
            return web.Response()  # kept in the inbox: safe to acknowledge now
        # Shielded: Telegram hanging up must not cancel an update half handled.
        done, _ = await asyncio.wait({task}, timeout=HOLD_SECONDS)
        if not done:
            return web.Response()
        try:
            task.result()
        except Exception:
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        return web.Response()

    def _start(self, update: Update, update_id: int) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._handle(update, update_id))
        self._unfinished.add(task)
        task.add_done_callback(self._unfinished.discard)
        return task

    async def _handle(self, update: Update, update_id: int) -> None:
        app = self.application
        try:
            # Through the lanes, as polled updates go: the same concurrency limits.
            await app.update_processor.process_update(update, app.process_update(update))
        except asyncio.CancelledError:
            # Stopping mid-update: kept, it waits for a live replica to adopt it; not kept, it
            # is given back so that Telegram's redelivery is handled.
            if not self.shared.keeps_updates:
                with contextlib.suppress(Exception):
                    await self.shared.release_update(update_id)
            raise
        except Exception:  # the handlers' own errors were handled (and answered) by PTB
            log.exception("an update failed outside its handlers")
        await self.shared.finish_update(update_id)

    async def _adopt_loop(self) -> None:
        """Answer the updates a dead replica had acknowledged but not answered."""
        while True:
            await asyncio.sleep(ADOPT_INTERVAL)
            try:
                orphans = await self.shared.adopt_orphans(limit=ADOPT_BATCH)
            except Exception:  # the database may be back at the next look
                log.exception("could not look for orphaned updates")
                continue
            for update_id, sealed in orphans:
                try:
                    data = json.loads(self.sealer.open(update_id, sealed))
                    update = Update.de_json(data, self.application.bot)
                except ValueError:
                    log.error("dropped an orphaned update sealed with another webhook secret")
                    await self.shared.finish_update(update_id)
                    continue
                log.info("adopted an update whose replica stopped before answering it")
                self._start(update, update_id)


async def serve(
    application: Application,
    *,
    shared: SharedState,
    url: str,
    secret: str,
    listen: str,
    port: int,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the bot on a webhook until SIGTERM or SIGINT (or ``stop``), then shut down cleanly.

    Every replica sets the same webhook (URL and secret), so any of them may start first.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        server = WebhookServer(application, shared=shared, secret=secret, path=urlsplit(url).path)
        await server.start(listen=listen, port=port)
        try:
            await application.bot.set_webhook(
                url=url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                max_connections=MAX_CONNECTIONS,
            )
            log.info("receiving updates on %s:%d", listen, server.port)
            await stop.wait()
        finally:
            await server.stop()
            await application.stop()
    finally:
        if application.post_shutdown:
            await application.post_shutdown(application)
        await application.shutdown()
