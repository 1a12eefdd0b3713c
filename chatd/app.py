"""create_app: the one place that knows every layer and wires them together."""

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import aiohttp_jinja2
import jinja2
import redis.asyncio as redis
from aiohttp import web

from chatd.application.auth import Accounts
from chatd.application.messages import Messaging
from chatd.application.realtime import Typing
from chatd.application.rooms import Rooms
from chatd.config import Settings
from chatd.infrastructure.accounts import PgRefreshTokenRepo, PgUserRepo
from chatd.infrastructure.clock import SystemClock
from chatd.infrastructure.db import create_pool
from chatd.infrastructure.hub import Hub
from chatd.infrastructure.messages import PgMessageRepo
from chatd.infrastructure.rate_limits import RedisFailureLimiter, RedisRateLimiter
from chatd.infrastructure.redis_bus import RedisBus
from chatd.infrastructure.rooms import PgRoomRepo
from chatd.infrastructure.security import BcryptHasher, JwtCodec
from chatd.interfaces.auth_routes import add_auth_routes
from chatd.interfaces.errors import error_middleware
from chatd.interfaces.keys import (
    ACCOUNTS,
    EVENT_BUS,
    HUB,
    MEMBERSHIPS,
    MESSAGING,
    POOL,
    REDIS,
    ROOMS,
    SETTINGS,
    TYPING,
)
from chatd.interfaces.pages import add_page_routes
from chatd.interfaces.room_routes import add_room_routes
from chatd.interfaces.ws import add_ws_routes

MAX_BODY_BYTES = 1024 * 1024
HASHING_THREADS = 4
LOGIN_WINDOW_SECONDS = 15 * 60
MESSAGE_WINDOW_SECONDS = 10


def create_app(settings: Settings) -> web.Application:
    if not (settings.database_url and settings.redis_url and settings.jwt_secret):
        raise ValueError("create_app needs database_url, redis_url and jwt_secret set")
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.cleanup_ctx.extend([postgres_ctx, redis_ctx, event_bus_ctx, accounts_ctx, rooms_ctx])
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(settings.templates_dir))
    add_auth_routes(app)
    add_room_routes(app)
    add_ws_routes(app)
    add_page_routes(app, settings.static_dir)
    return app


async def postgres_ctx(app: web.Application) -> AsyncIterator[None]:
    app[POOL] = await create_pool(app[SETTINGS].database_url)
    yield
    await app[POOL].close()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    app[REDIS] = redis.Redis.from_url(app[SETTINGS].redis_url)
    yield
    await app[REDIS].aclose()


async def event_bus_ctx(app: web.Application) -> AsyncIterator[None]:
    """The Redis bus, this process's Hub and its one subscriber task."""
    bus = RedisBus(publisher=app[REDIS], url=app[SETTINGS].redis_url)
    app[EVENT_BUS] = bus
    app[MEMBERSHIPS] = PgRoomRepo(app[POOL])
    app[HUB] = Hub(bus=bus, messages=PgMessageRepo(app[POOL]), memberships=app[MEMBERSHIPS])
    app[TYPING] = Typing(memberships=app[MEMBERSHIPS], bus=bus, clock=SystemClock())
    bus.start()
    yield
    await app[HUB].close()
    await bus.aclose()


async def accounts_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    executor = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="bcrypt")
    app[ACCOUNTS] = Accounts(
        users=PgUserRepo(app[POOL]),
        refresh_tokens=PgRefreshTokenRepo(app[POOL]),
        hasher=BcryptHasher(rounds=settings.bcrypt_rounds, executor=executor),
        tokens=JwtCodec(
            secret=settings.jwt_secret,
            access_ttl=settings.access_ttl,
            refresh_ttl=settings.refresh_ttl,
        ),
        clock=SystemClock(),
        login_failures=RedisFailureLimiter(
            app[REDIS], limit=settings.login_rate, window_seconds=LOGIN_WINDOW_SECONDS
        ),
    )
    yield
    executor.shutdown(wait=False, cancel_futures=True)


async def rooms_ctx(app: web.Application) -> AsyncIterator[None]:
    rooms = PgRoomRepo(app[POOL])
    app[ROOMS] = Rooms(rooms=rooms, bus=app[EVENT_BUS])
    app[MESSAGING] = Messaging(
        messages=PgMessageRepo(app[POOL]),
        rooms=rooms,
        bus=app[EVENT_BUS],
        sends=RedisRateLimiter(
            app[REDIS], limit=app[SETTINGS].message_rate, window_seconds=MESSAGE_WINDOW_SECONDS
        ),
    )
    yield
