"""Receiving updates by webhook, on as many replicas as the database allows.

Telegram posts each update to one URL; a load balancer spreads the posts over the replicas. A
replica answers Telegram's POST only once the update has been handled: if it dies mid-update,
Telegram gets no answer and delivers the update again (to another replica), so nothing that was
acknowledged is lost. Each update is claimed in the shared state before it is handled: a
redelivery of an update already handled is acknowledged and dropped, so it is answered once;
one still being handled by a live replica is refused for now (Telegram tries again); one whose
replica died (its liveness lock went with its connection) is handled by whoever gets it.

PTB's own webhook server acknowledges an update as soon as it is queued, which would lose every
update in flight on a replica that is killed: hence this small server (aiohttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from http import HTTPStatus
from urllib.parse import urlsplit

from aiohttp import web
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
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Takes Telegram's POSTs and answers each once its update has been handled."""

    def __init__(
        self, application: Application, *, shared: SharedState, secret: str, path: str
    ) -> None:
        self.application = application
        self.shared = shared
        self.secret = secret
        self.path = "/" + path.strip("/")
        self._runner: web.AppRunner | None = None
        self._unfinished: set[asyncio.Task[None]] = set()

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

    @property
    def port(self) -> int:
        """The port listened on (useful with port 0)."""
        assert self._runner is not None
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening; let the updates in hand finish (at most ``GRACE_SECONDS``)."""
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
        try:
            claim = await self.shared.claim_update(update_id)
        except StoreError:
            log.exception("could not claim an update; Telegram will deliver it again")
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        if claim is Claim.DONE:
            return web.Response()
        if claim is Claim.BUSY:
            # Never acknowledged before it is done: if its replica dies now, Telegram's next
            # try finds it orphaned and it is handled then.
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        if claim is Claim.ORPHANED:
            log.info("handling an update whose replica stopped before finishing it")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            await self.shared.release_update(update_id)
            log.exception("an update that is not one; refused")
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        task = asyncio.ensure_future(self._handle(update, update_id))
        # Shielded: Telegram hanging up must not cancel an update half handled.
        done, _ = await asyncio.wait({task}, timeout=HOLD_SECONDS)
        if not done:
            self._unfinished.add(task)
            task.add_done_callback(self._unfinished.discard)
            return web.Response()
        try:
            task.result()
        except Exception:
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        return web.Response()

    async def _handle(self, update: Update, update_id: int) -> None:
        app = self.application
        try:
            # Through the lanes, as polled updates go: the same concurrency limits.
            await app.update_processor.process_update(update, app.process_update(update))
        except BaseException:
            # Not handled: give it back, so that Telegram's redelivery is handled.
            with contextlib.suppress(Exception):
                await self.shared.release_update(update_id)
            raise
        await self.shared.finish_update(update_id)


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
