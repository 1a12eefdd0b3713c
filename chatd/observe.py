"""What /metrics reads, and where from: create_app's companion, like it knowing every layer.

Every value here is read when /metrics is scraped, from the object that keeps it: the socket
sets, the sessions, the pool, the bus, the feeds' totals and the counting ports (Counts).
"""

import asyncio
from collections.abc import Mapping

import asyncpg
from aiohttp import web

from chatd.infrastructure import feeds
from chatd.infrastructure.counting import Counts
from chatd.infrastructure.redis_bus import RedisBus
from chatd.interfaces.draining import DRAINING
from chatd.interfaces.keys import SESSIONS, WEBSOCKETS
from chatd.interfaces.metrics import METRICS
from chatd.logs import INSTANCE


def with_zeros(counter: Mapping[str, int], *keys: str) -> dict[str, int]:
    """The known label values always present, so that rate() has a series from the start."""
    return {**dict.fromkeys(keys, 0), **counter}


def observe(app: web.Application, counts: Counts, *, pool: asyncpg.Pool, bus: RedisBus) -> None:
    read = app[METRICS].read_at_scrape
    read.gauge("chatd_info", "This process", lambda: {INSTANCE: 1}, label="instance")
    read.gauge("chatd_draining", "1 from SIGTERM on", lambda: int(app[DRAINING].is_set()))
    read.gauge("chatd_ws_connections", "Open WebSocket connections", lambda: len(app[WEBSOCKETS]))
    read.gauge(
        "chatd_ws_sessions",
        "Authenticated WebSocket sessions",
        lambda: len(app[SESSIONS].open_sessions),
    )
    read.counter(
        "chatd_messages_stored",
        "Messages stored by this process, by kind",
        lambda: with_zeros(counts.messages, "user", "system"),
        label="kind",
    )
    read.counter(
        "chatd_events_published",
        "Events published on the bus by this process, by type",
        lambda: counts.events,
        label="type",
    )
    read.counter(
        "chatd_ws_frames_delivered",
        "Frames written to WebSocket connections",
        lambda: counts.frames_delivered,
    )
    read.counter(
        "chatd_ws_queue_overflows",
        "Connections closed with 1013 because their queue filled",
        lambda: counts.queue_overflows,
    )
    read.counter(
        "chatd_rate_limit_refusals",
        "Requests refused by a rate limit, by kind",
        lambda: with_zeros(counts.refusals, "login", "message"),
        label="kind",
    )
    read.gauge(
        "chatd_asyncio_tasks",
        "asyncio tasks alive in this process",
        lambda: len(asyncio.all_tasks()),
    )
    read.counter("chatd_bus_reconnects", "Event bus reconnections", lambda: bus.reconnects)
    read.counter(
        "chatd_feed_gap_fills",
        "Reads of a room's missed messages from PostgreSQL (a hole, or after a reconnect)",
        lambda: feeds.TOTALS["gap_fills"],
    )
    read.counter(
        "chatd_feed_messages_filled",
        "Messages delivered from PostgreSQL by gap fills",
        lambda: feeds.TOTALS["filled"],
    )
    read.counter(
        "chatd_feed_holes_stepped_over",
        "Holes in a room's seqs that never filled and were stepped over",
        lambda: feeds.TOTALS["holes"],
    )
    read.gauge(
        "chatd_pg_pool_connections",
        "PostgreSQL pool connections, by state",
        lambda: {"in_use": pool.get_size() - pool.get_idle_size(), "idle": pool.get_idle_size()},
        label="state",
    )
    read.gauge("chatd_pg_pool_max", "PostgreSQL pool size limit", pool.get_max_size)
