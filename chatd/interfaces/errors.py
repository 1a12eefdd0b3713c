"""One middleware turns every failure into the error envelope of the contract."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import redis.exceptions
from aiohttp import web

from chatd.domain import errors

log = logging.getLogger(__name__)

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


# PostgreSQL or Redis is down or unreachable: the client may retry later (503), it did no wrong.
DEPENDENCY_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,  # server shutting down or starting up
    asyncpg.TooManyConnectionsError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def error_response(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers or None
    )


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.DomainError as error:
        headers = {}
        if isinstance(error, errors.RateLimited):
            headers["Retry-After"] = str(error.retry_after)
        return error_response(status_of(error), error.code, error.message, **headers)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api"):
            raise
        code, message = CODE_OF_STATUS.get(exc.status, ("http_error", exc.reason))
        return error_response(exc.status, code, message)
    except DEPENDENCY_ERRORS as error:
        log.warning("dependency unavailable on %s %s: %r", request.method, request.path, error)
        return error_response(503, "unavailable", "a service chatd depends on is unavailable")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed to answer this request")
