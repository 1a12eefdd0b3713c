"""create_app: the one place that knows every layer and wires them together."""

import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp_jinja2
import asyncpg
import jinja2
import redis.asyncio as redis
from aiohttp import web

from chatd.application.auth import Accounts
from chatd.application.messages import Messaging
from chatd.application.presence import Presence
from chatd.application.realtime import Typing
from chatd.application.rooms import Rooms
from chatd.application.sessions import Sessions
from chatd.config import Settings
from chatd.infrastructure.accounts import PgRefreshTokenRepo, PgUserRepo
from chatd.infrastructure.clock import SystemClock
from chatd.infrastructure.counting import (
    CountingBus,
    CountingFailureLimiter,
    CountingRateLimiter,
    CountingSocket,
    Counts,
)
from chatd.infrastructure.db import create_pool
from chatd.infrastructure.fanout import Fanout
from chatd.infrastructure.messages import PgMessageRepo
from chatd.infrastructure.outbox import Flusher, Outbox
from chatd.infrastructure.presence import RedisPresence
from chatd.infrastructure.rate_limits import RedisFailureLimiter, RedisRateLimiter
from chatd.infrastructure.readiness import DependencyProbe
from chatd.infrastructure.redis_bus import RedisBus
from chatd.infrastructure.rooms import PgRoomRepo
from chatd.infrastructure.security import BcryptHasher, JwtCodec
from chatd.infrastructure.typing_gate import RedisTypingGate
from chatd.infrastructure.ws_writer import WebSocketFrames
from chatd.interfaces.auth_routes import add_auth_routes
from chatd.interfaces.draining import add_draining, refuse_while_draining
from chatd.interfaces.errors import error_middleware
from chatd.interfaces.keys import (
    ACCOUNTS,
    MESSAGING,
    OPEN_OUTBOX,
    READINESS,
    ROOMS,
    SESSIONS,
    SETTINGS,
)
from chatd.interfaces.metrics import add_metrics_route, http_metrics
from chatd.interfaces.pages import add_page_routes
from chatd.interfaces.request_context import identify_response, request_context
from chatd.interfaces.room_routes import add_room_routes
from chatd.interfaces.ws import add_ws_routes
from chatd.observe import observe

MAX_BODY_BYTES = 1024 * 1024
HASHING_THREADS = 4
LOGIN_WINDOW_SECONDS = 15 * 60
MESSAGE_WINDOW_SECONDS = 10
ROOM_WINDOW_SECONDS = 60 * 60
JOIN_WINDOW_SECONDS = 60

# The resources, each opened and closed by one cleanup context (in this order, closed in reverse).
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", redis.Redis)
BUS = web.AppKey("bus", RedisBus)
HASHING = web.AppKey("hashing", ThreadPoolExecutor)

# Ports a caller (a test) may replace by name; anything else is a mistake.
OVERRIDABLE = frozenset({"clock", "event_bus", "hasher"})


def create_app(settings: Settings, **overrides: Any) -> web.Application:
    """The application; `overrides` replace ports by name (see OVERRIDABLE)."""
    if not (settings.database_url and settings.redis_url and settings.jwt_secret):
        raise ValueError("create_app needs database_url, redis_url and jwt_secret set")
    if unknown := set(overrides) - OVERRIDABLE:
        raise TypeError(f"create_app cannot override {sorted(unknown)}")
    middlewares = [request_context, http_metrics, error_middleware, refuse_while_draining]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app.on_response_prepare.append(identify_response)
    app[SETTINGS] = settings
    app.cleanup_ctx.extend(
        [postgres_ctx, redis_ctx, bus_ctx, hashing_ctx, use_cases_ctx(overrides)]
    )
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(settings.templates_dir))
    add_auth_routes(app)
    add_room_routes(app)
    add_ws_routes(app)
    add_page_routes(app, settings.static_dir)
    add_metrics_route(app)
    add_draining(app)
    return app


async def postgres_ctx(app: web.Application) -> AsyncIterator[None]:
    app[POOL] = await create_pool(app[SETTINGS].database_url)
    yield
    await app[POOL].close()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    app[REDIS] = redis.Redis.from_url(app[SETTINGS].redis_url)
    yield
    await app[REDIS].aclose()


async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
    """The Redis bus with its one subscriber task."""
    app[BUS] = RedisBus(publisher=app[REDIS], url=app[SETTINGS].redis_url)
    app[BUS].start()
    yield
    await app[BUS].aclose()


async def hashing_ctx(app: web.Application) -> AsyncIterator[None]:
    app[HASHING] = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="bcrypt")
    yield
    app[HASHING].shutdown(wait=False, cancel_futures=True)


def use_cases_ctx(overrides: dict[str, Any]) -> Callable[[web.Application], AsyncIterator[None]]:
    async def use_cases(app: web.Application) -> AsyncIterator[None]:
        """Every adapter built once, the use cases on top, and this process's fan-out."""
        settings, pool, client = app[SETTINGS], app[POOL], app[REDIS]
        clock = overrides.get("clock") or SystemClock()
        counts = Counts()  # read by /metrics (chatd/observe.py)
        events = CountingBus(overrides.get("event_bus") or app[BUS], counts)
        users, rooms, messages = PgUserRepo(pool), PgRoomRepo(pool), PgMessageRepo(pool)

        def limit(per_window: int, window_seconds: int, kind: str) -> CountingRateLimiter:
            """A limit per user, counted in Redis across processes (refusals by kind)."""
            counter = RedisRateLimiter(client, limit=per_window, window_seconds=window_seconds)
            return CountingRateLimiter(counter, counts, kind=kind)

        app[ACCOUNTS] = Accounts(
            users=users,
            refresh_tokens=PgRefreshTokenRepo(pool),
            hasher=overrides.get("hasher")
            or BcryptHasher(rounds=settings.bcrypt_rounds, executor=app[HASHING]),
            tokens=JwtCodec(
                secret=settings.jwt_secret,
                access_ttl=settings.access_ttl,
                refresh_ttl=settings.refresh_ttl,
            ),
            clock=clock,
            login_failures=CountingFailureLimiter(
                RedisFailureLimiter(
                    client, limit=settings.login_rate, window_seconds=LOGIN_WINDOW_SECONDS
                ),
                counts,
                kind="login",
            ),
            bus=events,
        )
        presence_store = RedisPresence(client)
        app[ROOMS] = Rooms(
            rooms=rooms,
            bus=events,
            presence=presence_store,
            creations=limit(settings.room_rate, ROOM_WINDOW_SECONDS, "room"),
            joins=limit(settings.join_rate, JOIN_WINDOW_SECONDS, "join"),
        )
        app[MESSAGING] = Messaging(
            messages=messages,
            rooms=rooms,
            bus=events,
            sends=limit(settings.message_rate, MESSAGE_WINDOW_SECONDS, "message"),
        )
        fanout = Fanout(bus=app[BUS], messages=messages)
        presence = Presence(store=presence_store, users=users, memberships=rooms)
        app[SESSIONS] = Sessions(
            streams=fanout,
            messages=messages,
            memberships=rooms,
            rooms=app[ROOMS],
            messaging=app[MESSAGING],
            typing=Typing(memberships=rooms, gate=RedisTypingGate(client), clock=clock),
            accounts=app[ACCOUNTS],
            presence=presence,
            clock=clock,
        )
        fanout.on_membership_change(app[SESSIONS].membership_changed)
        fanout.on_sessions_revoked(app[SESSIONS].revoke)
        fanout.on_bus_reconnected(app[SESSIONS].recheck_memberships)
        app[BUS].attach(fanout)
        app[READINESS] = DependencyProbe(pool=pool, redis_client=client)
        app[OPEN_OUTBOX] = functools.partial(open_outbox, counts=counts, flusher=Flusher())
        observe(app, counts, pool=pool, bus=app[BUS])
        await presence.start()
        yield
        await presence.aclose()
        await app[SESSIONS].aclose()
        await fanout.close()

    return use_cases


def open_outbox(
    socket: web.WebSocketResponse,
    *,
    user_id: int,
    abort: Callable[[], None],
    counts: Counts,
    flusher: Flusher,
) -> Outbox:
    frames = CountingSocket(WebSocketFrames(socket), counts)
    return Outbox(frames, user_id=user_id, flusher=flusher, abort=abort)
