"""Typed keys for what the handlers share (aiohttp's "no singletons"); create_app fills them."""

import weakref
from collections.abc import Callable

from aiohttp import web

from chatd.application.auth import Accounts
from chatd.application.direct import DirectMessages
from chatd.application.message_changes import MessageChanges
from chatd.application.messages import Messaging
from chatd.application.moderation import Moderation
from chatd.application.ports import Outbox, Readiness
from chatd.application.reading import ReadMarkers
from chatd.application.rooms import Rooms
from chatd.application.search import Search
from chatd.application.sessions import Sessions
from chatd.config import Settings

SETTINGS = web.AppKey("settings", Settings)
ACCOUNTS = web.AppKey("accounts", Accounts)
ROOMS = web.AppKey("rooms", Rooms)
MESSAGING = web.AppKey("messaging", Messaging)
MODERATION = web.AppKey("moderation", Moderation)
DIRECT = web.AppKey("direct", DirectMessages)
SESSIONS = web.AppKey("sessions", Sessions)
MESSAGE_CHANGES = web.AppKey("message_changes", MessageChanges)
READ_MARKERS = web.AppKey("read_markers", ReadMarkers)
SEARCH = web.AppKey("search", Search)
READINESS = web.AppKey("readiness", Readiness)
# (socket, user_id, abort) -> a started Outbox writing to that socket
OPEN_OUTBOX = web.AppKey("open_outbox", Callable[..., Outbox])
WEBSOCKETS = web.AppKey("websockets", weakref.WeakSet[web.WebSocketResponse])
