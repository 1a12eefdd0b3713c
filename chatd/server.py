"""One `chatd serve` process: the app on its port until SIGTERM or SIGINT, then a bounded drain.

On the signal: /readyz answers 503 and new sockets are refused at once; every socket gets what
was queued for it, then 1001; after SIGTERM the port stays open a second more, so that a load
balancer polling /readyz sees the 503 (requests are still answered meanwhile); then the port
closes, requests in flight are answered, and the resources close. All of it within
CHATD_SHUTDOWN_TIMEOUT; whatever is left then is cut off.
"""

import asyncio
import logging
import signal

from aiohttp import web

from chatd.app import create_app
from chatd.config import Settings
from chatd.interfaces.draining import drain
from chatd.logs import AccessLog

log = logging.getLogger("chatd")

SIGNALS = (signal.SIGTERM, signal.SIGINT)
READINESS_GRACE = 1.0  # seconds the port stays open after SIGTERM (not after Ctrl-C)


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then shut down within the timeout."""
    app = create_app(settings)
    # A handler still running at a quarter of the timeout is cancelled, and that gets another
    # quarter: aiohttp's runner waits twice. The socket drain before it takes at most a half.
    runner = web.AppRunner(
        app,
        access_log_class=AccessLog,
        handle_signals=False,
        shutdown_timeout=settings.shutdown_timeout / 4,
        # aiohttp's own default (3630 s) would let a client that never finishes its request
        # headers (slowloris) hold a connection for an hour.
        keepalive_timeout=settings.http_idle_timeout,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("serving on http://%s:%s", settings.host, settings.port)
        received = await _signalled()
    except BaseException:
        await runner.cleanup()
        raise
    grace = READINESS_GRACE if received == signal.SIGTERM else 0.0
    await _shut_down(app, runner, settings.shutdown_timeout, grace=grace)


async def _signalled() -> signal.Signals:
    """The first SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()
    for number in SIGNALS:
        loop.add_signal_handler(number, _resolve, received, number)
    try:
        return await received
    finally:
        for number in SIGNALS:
            loop.remove_signal_handler(number)
        # A second Ctrl-C or SIGTERM during the drain changes nothing: it is bounded anyway.
        for number in SIGNALS:
            loop.add_signal_handler(number, lambda: log.info("already shutting down"))


def _resolve(future: asyncio.Future[signal.Signals], number: signal.Signals) -> None:
    if not future.done():
        future.set_result(number)


async def _shut_down(
    app: web.Application, runner: web.AppRunner, seconds: float, *, grace: float
) -> None:
    log.info("shutting down (at most %ss)", seconds)
    started = asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(seconds / 2):
            await asyncio.gather(drain(app), asyncio.sleep(min(grace, seconds / 4)))
    except TimeoutError:
        log.warning("sockets still draining after %ss; closing the port anyway", seconds / 2)
    try:
        async with asyncio.timeout_at(started + seconds):
            await runner.cleanup()
    except TimeoutError:
        log.warning("shutdown took over %ss; exiting with work left undone", seconds)
        return
    log.info("stopped")
