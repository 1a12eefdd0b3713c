"""Typed keys for everything the application shares (aiohttp's "no singletons")."""

import weakref

import asyncpg
import redis.asyncio as redis
from aiohttp import web

from chatd.application.auth import Accounts
from chatd.application.messages import Messaging
from chatd.application.ports import EventBus, MembershipReader
from chatd.application.realtime import Typing
from chatd.application.rooms import Rooms
from chatd.config import Settings
from chatd.infrastructure.hub import Hub

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", redis.Redis)
ACCOUNTS = web.AppKey("accounts", Accounts)
EVENT_BUS = web.AppKey("event_bus", EventBus)
ROOMS = web.AppKey("rooms", Rooms)
MESSAGING = web.AppKey("messaging", Messaging)
MEMBERSHIPS = web.AppKey("memberships", MembershipReader)
HUB = web.AppKey("hub", Hub)
TYPING = web.AppKey("typing", Typing)
WEBSOCKETS = web.AppKey("websockets", weakref.WeakSet[web.WebSocketResponse])
