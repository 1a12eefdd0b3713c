"""What every request carries for the logs: a request id (the caller's X-Request-Id, or a new
one) and the client's address; every response says which process answered (X-Chatd-Instance)."""

import re
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from chatd.interfaces.http import client_address
from chatd.logs import INSTANCE, REQUEST_ID, REQUEST_ID_KEY, USER_ID

REQUEST_ID_HEADER = "X-Request-Id"
INSTANCE_HEADER = "X-Chatd-Instance"
# A request id from outside is kept only if it is short and plain, so it is safe in any log line.
GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@web.middleware
def request_context(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Awaitable[web.StreamResponse]:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request[REQUEST_ID_KEY] = given if GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
    REQUEST_ID.set(request[REQUEST_ID_KEY])  # in the request's task: the handler's context
    USER_ID.set(None)
    client_address(request)
    # Handed on, not awaited: no frame of this middleware stays with every open socket.
    return handler(request)


async def identify_response(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: also reaches WebSocket handshakes and error pages."""
    response.headers[INSTANCE_HEADER] = INSTANCE
    if REQUEST_ID_KEY in request:
        response.headers[REQUEST_ID_HEADER] = request[REQUEST_ID_KEY]
