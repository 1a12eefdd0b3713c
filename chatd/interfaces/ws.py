"""GET /ws: authenticate, stream the user's rooms, act on client frames.

Only this handler reads its socket; everything sent goes through the connection's queue, so
replies and events keep one order. Frames are answered one at a time, in the order received.
"""

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from chatd.domain.errors import DomainError, NotAuthenticated, RateLimited
from chatd.domain.model import User
from chatd.infrastructure.connections import Connection
from chatd.infrastructure.wire import dumps, message_json
from chatd.interfaces.errors import DEPENDENCY_ERRORS
from chatd.interfaces.http import to_json
from chatd.interfaces.keys import (
    ACCOUNTS,
    HUB,
    MEMBERSHIPS,
    MESSAGING,
    ROOMS,
    SETTINGS,
    TYPING,
    WEBSOCKETS,
)
from chatd.interfaces.ws_frames import ClientFrame, FrameError, parse_frame

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0
MAX_FRAME_BYTES = 64 * 1024  # aiohttp closes with 1009 past this
HEARTBEAT = 30.0
UNAUTHENTICATED = 4401
UNSUPPORTED_DATA = 1003
INTERNAL_ERROR = 1011
SHUTDOWN_DRAIN = 2.0


def origin_allowed(request: web.Request) -> bool:
    """No Origin (a script, curl, a server): allowed. Else CHATD_ALLOWED_ORIGINS, or when it is
    unset only the server's own origin (the host the request was addressed to)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = request.app[SETTINGS].allowed_origins
    if allowed:
        return origin.rstrip("/") in allowed
    parts = urlsplit(origin)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == request.host.lower()


async def websocket(request: web.Request) -> web.WebSocketResponse:
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    ws = web.WebSocketResponse(
        max_msg_size=MAX_FRAME_BYTES,
        heartbeat=HEARTBEAT,
        compress=request.app[SETTINGS].ws_compression,
    )
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    try:
        first = await _authenticate(request, ws)
        if first is not None:
            user, frame = first
            await Session(request, ws, user).run(frame)
    finally:
        request.app[WEBSOCKETS].discard(ws)
    return ws


async def _authenticate(
    request: web.Request, ws: web.WebSocketResponse
) -> tuple[User, ClientFrame] | None:
    try:
        msg = await ws.receive(timeout=AUTH_TIMEOUT)
    except TimeoutError:
        await ws.close(code=UNAUTHENTICATED, message=b"no auth frame within 10 s")
        return None
    if msg.type is WSMsgType.BINARY:
        await ws.close(code=UNSUPPORTED_DATA, message=b"text frames only")
        return None
    if msg.type is not WSMsgType.TEXT:
        return None
    try:
        frame = parse_frame(msg.data)
        if frame.type != "auth":
            raise NotAuthenticated("the first frame must be auth")
        return await request.app[ACCOUNTS].authenticate(frame.token), frame
    except DomainError as error:
        await ws.close(code=UNAUTHENTICATED, message=error.message.encode()[:120])
        return None
    except Exception:
        log.exception("cannot authenticate a socket")
        await ws.close(code=INTERNAL_ERROR, message=b"try again later")
        return None


class Session:
    """One authenticated connection: its queue, its rooms, its client frames."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, user: User) -> None:
        self.app = request.app
        self.ws = ws
        self.user = user
        self.hub = self.app[HUB]
        transport = request.transport
        self.connection = Connection(
            ws, user=user, abort=transport.abort if transport else lambda: None
        )

    async def run(self, auth: ClientFrame) -> None:
        self.connection.start()
        try:
            try:
                await self._open(auth)
            except Exception:
                log.exception("cannot open the session of user %s", self.user.id)
                await self.ws.close(code=INTERNAL_ERROR, message=b"try again later")
                return
            await self._serve()
        finally:
            self.hub.detach(self.connection)
            self.connection.stop()

    async def _open(self, auth: ClientFrame) -> None:
        await self.hub.attach(self.connection)
        rooms = await self.app[MEMBERSHIPS].room_ids_of(self.user.id)
        await asyncio.gather(
            *(self.hub.watch(self.connection, r, hold=r in auth.positions) for r in rooms)
        )
        self.send({"type": "ready", "user": to_json(self.user), "rooms": rooms})
        for room_id, last_seq in auth.positions.items():
            await self._replay(room_id, last_seq, ref=auth.ref)

    async def _serve(self) -> None:
        async for msg in self.ws:
            if msg.type is WSMsgType.TEXT:
                await self._answer(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await self.ws.close(code=UNSUPPORTED_DATA, message=b"text frames only")
            if self.connection.closed:
                break

    async def _answer(self, text: str) -> None:
        ref = None
        try:
            frame = parse_frame(text)
            ref = frame.ref
            handler = HANDLERS.get(frame.type)
            if handler is None:
                raise FrameError("already authenticated", code="unexpected_auth", ref=ref)
            reply = await handler(self, frame)
            if reply is not None:
                self.send({"type": "ack", "ref": ref, **reply})
        except FrameError as error:
            self._error(error.ref, error)
        except DomainError as error:
            self._error(ref, error)
        except DEPENDENCY_ERRORS as error:
            log.warning("dependency unavailable on a ws frame: %r", error)
            message = "a service chatd depends on is unavailable"
            self._error(ref, DomainError(message, code="unavailable"))
        except Exception:
            log.exception("ws frame of user %s failed", self.user.id)
            self._error(ref, DomainError("the server failed on this frame", code="internal_error"))

    def send(self, frame: dict[str, Any]) -> None:
        self.connection.send(dumps(frame))

    def _error(self, ref: Any, error: DomainError) -> None:
        frame = {"type": "error", "ref": ref, "code": error.code, "message": error.message}
        if isinstance(error, RateLimited):
            frame["retry_after"] = error.retry_after
        self.send(frame)

    async def _replay(self, room_id: int, last_seq: int, *, ref: Any) -> None:
        if not self.connection.watching(room_id):
            message = f"not a member of room {room_id}"
            self._error(ref, DomainError(message, code="not_a_member"))
            return
        if not await self.hub.replay(self.connection, room_id, last_seq):
            self.send({"type": "resync_required", "room_id": room_id})

    # Client frames.

    async def join_room(self, frame: ClientFrame) -> dict:
        async with self.connection.membership_lock:
            # Watch first, so this connection gets the "joined" message and all that follows.
            watched = self.connection.watching(frame.room_id)
            if not watched:
                await self.hub.watch(self.connection, frame.room_id)
            try:
                room = await self.app[ROOMS].join(room_id=frame.room_id, user=self.user)
            except BaseException:
                if not watched:
                    self.hub.unwatch(self.connection, frame.room_id)
                raise
        return {"room": to_json(room)}

    async def leave_room(self, frame: ClientFrame) -> dict:
        async with self.connection.membership_lock:
            await self.app[ROOMS].leave(room_id=frame.room_id, user=self.user)
            self.hub.unwatch(self.connection, frame.room_id)
        return {}

    async def send_message(self, frame: ClientFrame) -> dict:
        message, _ = await self.app[MESSAGING].post(
            room_id=frame.room_id, author=self.user, body=frame.body, client_id=frame.client_id
        )
        return {"message": message_json(message)}

    async def typing(self, frame: ClientFrame) -> dict | None:
        await self.app[TYPING].typing(room_id=frame.room_id, user=self.user)
        return {} if frame.ref is not None else None

    async def resume(self, frame: ClientFrame) -> None:
        for room_id, last_seq in frame.positions.items():
            await self._replay(room_id, last_seq, ref=frame.ref)
        self.send({"type": "resumed", "ref": frame.ref, "rooms": list(frame.positions)})


HANDLERS: dict[str, Callable[[Session, ClientFrame], Awaitable[dict | None]]] = {
    "join_room": Session.join_room,
    "leave_room": Session.leave_room,
    "send_message": Session.send_message,
    "typing": Session.typing,
    "resume": Session.resume,
}


async def close_websockets(app: web.Application) -> None:
    """on_shutdown (the server no longer accepts): let every connection's queue drain, then
    close it with 1001; then the sockets that never authenticated."""
    await asyncio.gather(
        *(c.close(drain=SHUTDOWN_DRAIN, message=b"server shutdown") for c in app[HUB].connections),
        return_exceptions=True,
    )
    await asyncio.gather(
        *(ws.close(code=1001, message=b"server shutdown") for ws in list(app[WEBSOCKETS])),
        return_exceptions=True,
    )


def add_ws_routes(app: web.Application) -> None:
    app[WEBSOCKETS] = weakref.WeakSet()
    app.router.add_get("/ws", websocket)
    app.on_shutdown.append(close_websockets)
