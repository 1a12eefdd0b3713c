"""Typed keys for everything the application shares (aiohttp's "no singletons")."""

import asyncpg
import redis.asyncio as redis
from aiohttp import web

from chatd.application.auth import Accounts
from chatd.application.messages import Messaging
from chatd.application.ports import EventBus
from chatd.application.rooms import Rooms
from chatd.config import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", redis.Redis)
ACCOUNTS = web.AppKey("accounts", Accounts)
EVENT_BUS = web.AppKey("event_bus", EventBus)
ROOMS = web.AppKey("rooms", Rooms)
MESSAGING = web.AppKey("messaging", Messaging)
