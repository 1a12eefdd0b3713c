"""One mapping from failures to what a client is told, for HTTP (the error envelope of the
contract, by this middleware) and for WebSocket error frames alike."""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from chatd.domain import errors

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY_AFTER = 2  # seconds a client is asked to wait when a dependency is down

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}

# aiohttp's own HTTP errors (unknown route, wrong method, body too large...) get a code too.
CODE_OF_STATUS = {
    400: ("bad_request", "the request is malformed"),
    404: ("not_found", "no such route"),
    405: ("method_not_allowed", "this route does not take that method"),
    408: ("request_timeout", "the request body did not arrive in time"),
    413: ("body_too_large", "the request body is over 1 MiB"),
}


class BadRequest(errors.DomainError):
    """The request itself is malformed (not JSON, not an object): 400."""

    code = "malformed_json"


STATUS_OF[BadRequest] = 400


def status_of(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def as_domain_error(error: Exception, *, context: str) -> errors.DomainError:
    """What the client is told of any failure: a domain error as it is; anything else is a bug
    of ours, logged here, and an `internal_error` (500)."""
    if isinstance(error, errors.DomainError):
        return error
    log.error("unhandled error on %s", context, exc_info=error)
    return errors.DomainError("the server failed to answer this request", code="internal_error")


def retry_after(error: errors.DomainError) -> int | None:
    if isinstance(error, errors.RateLimited):
        return error.retry_after
    if isinstance(error, errors.Unavailable):
        return UNAVAILABLE_RETRY_AFTER
    return None


def error_response(status: int, code: str, message: str, *, wait: int | None = None):
    headers = {"Retry-After": str(wait)} if wait is not None else None
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Awaitable[web.StreamResponse]:
    if request.path == "/ws":
        # The WebSocket handler answers its own failures (unexpected_error): a frame of this
        # middleware would otherwise stay with every open socket.
        return handler(request)
    return _answering_errors(request, handler)


def unexpected_error(request: web.Request, exc: Exception) -> web.Response:
    """The answer to an exception a handler did not expect: logged, and a documented error."""
    error = as_domain_error(exc, context=f"{request.method} {request.path}")
    return error_response(status_of(error), error.code, error.message, wait=retry_after(error))


async def _answering_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api"):
            raise
        code, message = CODE_OF_STATUS.get(exc.status, ("http_error", exc.reason))
        response = error_response(exc.status, code, message)
        if "Allow" in exc.headers:  # a 405 must say which methods the route takes (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        if exc.status == 408:
            await _answer_and_hang_up(request, response)
        return response
    except Exception as exc:
        return unexpected_error(request, exc)


async def _answer_and_hang_up(request: web.Request, response: web.Response) -> None:
    """Send the response, then close the connection at once: aiohttp would otherwise keep
    reading the rest of a trickled body for its lingering time (10 s) first."""
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()  # what was written still goes out before the close
