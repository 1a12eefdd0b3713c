"""Draining: from SIGTERM on, /readyz answers 503 and /ws refuses new sockets (503, so that a
proxy tries another process), while the open sockets get their queues drained and 1001; other
requests are still answered, on connections that are then closed (chatd/server.py closes the
port after that)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from chatd.interfaces.errors import error_response
from chatd.interfaces.ws import close_websockets

log = logging.getLogger(__name__)

DRAINING = web.AppKey("draining", asyncio.Event)
RECONNECT_AFTER = 1  # seconds (Retry-After of a refused socket): another process is up


@web.middleware
def refuse_while_draining(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Awaitable[web.StreamResponse]:
    if not request.app[DRAINING].is_set():
        # Handed on, not awaited: no frame of this middleware stays with every open socket.
        return handler(request)
    return _while_draining(request, handler)


async def _while_draining(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.path == "/readyz":
        response = web.json_response({"status": "draining"}, status=503)
    elif request.path == "/ws":
        message = "this process is shutting down; connect again"
        response = error_response(503, "unavailable", message, wait=RECONNECT_AFTER)
    else:
        response = await handler(request)
    if not isinstance(response, web.WebSocketResponse):
        response.force_close()  # no keep-alive: the next request goes to another process
    return response


async def drain(app: web.Application) -> None:
    """Readiness off and new sockets refused, then every socket closed with 1001 once its queue
    is sent. The server still listens meanwhile; stopping it is the runner's next step."""
    app[DRAINING].set()
    log.info("draining: /readyz answers 503, new sockets are refused")
    await close_websockets(app)


def add_draining(app: web.Application) -> None:
    app[DRAINING] = asyncio.Event()
