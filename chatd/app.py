"""create_app: the one place that knows every layer and wires them together."""

import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import aiohttp_jinja2
import asyncpg
import jinja2
import redis.asyncio as redis
from aiohttp import web
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chatd.application.auth import Accounts
from chatd.application.chat_frames import ChatFrames
from chatd.application.direct import DirectMessages
from chatd.application.message_changes import MessageChanges
from chatd.application.messages import Messaging
from chatd.application.moderation import Moderation
from chatd.application.presence import Presence
from chatd.application.reading import ReadMarkers
from chatd.application.realtime import Typing
from chatd.application.rooms import Rooms
from chatd.application.search import Search
from chatd.application.sessions import Sessions
from chatd.config import Settings
from chatd.domain.message_rules import ChangePolicy
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
from chatd.infrastructure.direct import PgDirectRoomRepo
from chatd.infrastructure.fanout import Fanout
from chatd.infrastructure.message_changes import PgMessageChanges
from chatd.infrastructure.messages import PgMessageRepo
from chatd.infrastructure.moderation import PgModerationRepo
from chatd.infrastructure.outbox import Flusher, Outbox
from chatd.infrastructure.presence import RedisPresence
from chatd.infrastructure.rate_limits import RedisFailureLimiter, RedisRateLimiter
from chatd.infrastructure.read_markers import PgReadMarkers
from chatd.infrastructure.readiness import DependencyProbe
from chatd.infrastructure.redis_bus import RedisBus
from chatd.infrastructure.redis_cluster_bus import RedisClusterBus
from chatd.infrastructure.rooms import PgRoomRepo
from chatd.infrastructure.search import PgMessageSearch
from chatd.infrastructure.security import BcryptHasher, JwtCodec
from chatd.infrastructure.typing_gate import RedisTypingGate
from chatd.infrastructure.ws_writer import WebSocketFrames
from chatd.interfaces.auth_routes import add_auth_routes
from chatd.interfaces.chat_routes import add_chat_routes
from chatd.interfaces.draining import add_draining, refuse_while_draining
from chatd.interfaces.errors import error_middleware
from chatd.interfaces.keys import (
    ACCOUNTS,
    DIRECT,
    MESSAGE_CHANGES,
    MESSAGING,
    MODERATION,
    OPEN_OUTBOX,
    READ_MARKERS,
    READINESS,
    ROOMS,
    SEARCH,
    SESSIONS,
    SETTINGS,
)
from chatd.interfaces.metrics import add_metrics_route, http_metrics
from chatd.interfaces.moderation_routes import add_moderation_routes
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
# A Redis command (a publish, a rate-limit count, a presence write) unanswered this long fails
# (503, or a logged publish) instead of hanging while Redis is paused or unreachable; it is
# tried once more (a pooled connection Redis closed meanwhile), not redis-py 8's ten times with
# backoff, which kept a request waiting up to a minute.
REDIS_TIMEOUT = 5.0
REDIS_RETRIES = 1

# The resources, each opened and closed by one cleanup context (in this order, closed in reverse).
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", redis.Redis | RedisCluster)
BUS = web.AppKey("bus", RedisBus | RedisClusterBus)
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
    add_moderation_routes(app)
    add_chat_routes(app)
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
    if app[SETTINGS].redis_cluster:
        # A Redis Cluster (docs/SCALING.md): redis-py's cluster client, its slot table loaded
        # now; a shard that is down leaves the others serving.
        cluster = RedisCluster.from_url(
            app[SETTINGS].redis_url,
            require_full_coverage=False,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )
        await cluster.initialize()
        app[REDIS] = cluster
    else:
        app[REDIS] = redis.Redis.from_url(
            app[SETTINGS].redis_url,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), REDIS_RETRIES),
        )
    yield
    await app[REDIS].aclose()


async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
    """The Redis bus with its subscriber task (one per shard on a Redis Cluster)."""
    settings = app[SETTINGS]
    if settings.redis_cluster:
        app[BUS] = RedisClusterBus(app[REDIS], health_interval=settings.redis_health_interval)
    else:
        app[BUS] = RedisBus(
            publisher=app[REDIS],
            url=settings.redis_url,
            health_interval=settings.redis_health_interval,
        )
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
        cluster = settings.redis_cluster
        clock = overrides.get("clock") or SystemClock()
        counts = Counts()  # read by /metrics (chatd/observe.py)
        events = CountingBus(overrides.get("event_bus") or app[BUS], counts)
        users, rooms, messages = PgUserRepo(pool), PgRoomRepo(pool), PgMessageRepo(pool)

        def limit(per_window: int, window_seconds: int, kind: str) -> CountingRateLimiter:
            """A limit per user, counted in Redis across processes (refusals by kind)."""
            counter = RedisRateLimiter(
                client, limit=per_window, window_seconds=window_seconds, cluster=cluster
            )
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
                    client,
                    limit=settings.login_rate,
                    window_seconds=LOGIN_WINDOW_SECONDS,
                    cluster=cluster,
                ),
                counts,
                kind="login",
            ),
            bus=events,
        )
        # On a cluster the presence frames go out through the bus (SPUBLISH on each room's shard),
        # not from inside the presence scripts, whose keys live on one shard.
        announce = app[BUS].publish_raw if isinstance(app[BUS], RedisClusterBus) else None
        presence_store = RedisPresence(client, announce=announce)
        app[ROOMS] = Rooms(
            rooms=rooms,
            bus=events,
            presence=presence_store,
            creations=limit(settings.room_rate, ROOM_WINDOW_SECONDS, "room"),
            joins=limit(settings.join_rate, JOIN_WINDOW_SECONDS, "join"),
        )
        app[DIRECT] = DirectMessages(
            dms=PgDirectRoomRepo(pool),
            users=users,
            bus=events,
            creations=limit(settings.room_rate, ROOM_WINDOW_SECONDS, "dm"),
        )
        app[MODERATION] = Moderation(moderation=PgModerationRepo(pool), bus=events)
        sends = limit(settings.message_rate, MESSAGE_WINDOW_SECONDS, "message")
        app[MESSAGING] = Messaging(messages=messages, rooms=rooms, bus=events, sends=sends)
        app[MESSAGE_CHANGES] = MessageChanges(
            changes=PgMessageChanges(pool),
            bus=events,
            sends=sends,
            clock=clock,
            policy=change_policy(settings),
        )
        app[READ_MARKERS] = ReadMarkers(markers=PgReadMarkers(pool), rooms=rooms, bus=events)
        app[SEARCH] = Search(search=PgMessageSearch(pool), rooms=rooms)
        fanout = Fanout(bus=app[BUS], messages=messages)
        presence = Presence(store=presence_store, users=users, memberships=rooms)
        app[SESSIONS] = Sessions(
            streams=fanout,
            messages=messages,
            memberships=rooms,
            rooms=app[ROOMS],
            messaging=app[MESSAGING],
            typing=Typing(
                memberships=rooms, gate=RedisTypingGate(client, cluster=cluster), clock=clock
            ),
            accounts=app[ACCOUNTS],
            presence=presence,
            clock=clock,
            chat=ChatFrames(changes=app[MESSAGE_CHANGES], reading=app[READ_MARKERS], clock=clock),
        )
        fanout.on_membership_change(app[SESSIONS].membership_changed)
        fanout.on_sessions_revoked(app[SESSIONS].revoke)
        fanout.on_frame_for_user(app[SESSIONS].tell_user)
        fanout.on_bus_reconnected(app[SESSIONS].recheck)
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


def change_policy(settings: Settings) -> ChangePolicy:
    window = settings.edit_window
    return ChangePolicy(
        edit_window=timedelta(seconds=window) if window else None,
        moderators_delete=settings.moderators_delete,
    )


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
