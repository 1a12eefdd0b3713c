"""Adapters speak the domain's language when PostgreSQL or Redis is down: Unavailable (503, or
an `unavailable` error frame), whatever the driver raised."""

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TypeVar

import asyncpg
import redis.exceptions

from chatd.domain.errors import Unavailable

log = logging.getLogger(__name__)

# The server is unreachable, restarting, or the connection broke mid-operation (asyncpg's
# InternalClientError "cannot switch to state ..." is a connection terminated under a query).
OUTAGES = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.OperatorInterventionError,  # server shutting down or starting up
    asyncpg.TooManyConnectionsError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

T = TypeVar("T")


def unavailable_on_outage(cls: type[T]) -> type[T]:
    """Class decorator: every public coroutine method raises Unavailable on an outage."""
    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(method):
            setattr(cls, name, _guarded(method))
    return cls


def _guarded(method: Callable) -> Callable:
    @functools.wraps(method)
    async def guarded(*args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except OUTAGES as error:
            log.warning("%s: dependency unavailable: %r", method.__qualname__, error)
            raise Unavailable("a service chatd depends on is unavailable") from error

    return guarded
