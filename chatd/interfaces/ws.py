"""GET /ws: authenticate, open a session, answer client frames with one use-case call each.

Only this handler reads its socket; everything sent goes through the session's outbox, so
replies and events keep one order. Frames are answered in the order received (ws_answers.py).
"""

import asyncio
import logging
import weakref
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from chatd.application.session_rules import UNAUTHENTICATED, Session
from chatd.domain.errors import DomainError, NotAuthenticated, Unavailable
from chatd.domain.model import User
from chatd.interfaces.errors import unexpected_error
from chatd.interfaces.keys import ACCOUNTS, OPEN_OUTBOX, SESSIONS, SETTINGS, WEBSOCKETS
from chatd.interfaces.ws_answers import FrameAnswers
from chatd.interfaces.ws_frames import parse_frame

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024  # aiohttp closes with 1009 past this
UNSUPPORTED_DATA = 1003
INTERNAL_ERROR = 1011
SHUTDOWN_DRAIN = 2.0
ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)  # what ends `async for msg in ws`


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


async def websocket(request: web.Request) -> web.StreamResponse:
    """The socket's whole life in this one coroutine: a coroutine awaited for as long as the
    socket is open (a helper, `async for`'s __anext__, a middleware) would cost every idle socket
    its frame. So it answers its own unexpected failures too (error_middleware passes /ws by)."""
    try:
        if not origin_allowed(request):
            raise web.HTTPForbidden(text="origin not allowed")
        ws = web.WebSocketResponse(
            max_msg_size=MAX_FRAME_BYTES,
            heartbeat=request.app[SETTINGS].ws_heartbeat,
            compress=request.app[SETTINGS].ws_compression,
        )
        await ws.prepare(request)
        request.app[WEBSOCKETS].add(ws)
        try:
            session = await _open_session(request, ws, await _authenticate(request, ws))
            if session is None:
                return ws
            sessions, outbox = request.app[SESSIONS], session.outbox
            answers = FrameAnswers(sessions, session)
            try:
                while (msg := await ws.receive()).type not in ENDED:
                    if msg.type is WSMsgType.TEXT:
                        await answers.answer(msg.data)
                    elif msg.type is WSMsgType.BINARY:
                        await ws.close(code=UNSUPPORTED_DATA, message=b"text frames only")
                    if outbox.closed:
                        # Let the close the outbox began (1013 for a full queue, 4401...) go
                        # out: returning first would have aiohttp close with 1000 before it.
                        await outbox.close(code=INTERNAL_ERROR)  # the code of a close not begun
                        break
            finally:
                try:
                    await answers.drain()
                    sessions.close(session)
                finally:
                    outbox.stop()
        finally:
            request.app[WEBSOCKETS].discard(ws)
        return ws
    except web.HTTPException:
        raise  # (as error_middleware does outside /api)
    except Exception as exc:
        return unexpected_error(request, exc)


async def _authenticate(
    request: web.Request, ws: web.WebSocketResponse
) -> tuple[User, datetime, dict[int, int], Any] | None:
    """The user, their token's expiry, and the auth frame's resume positions and ref: not the
    frame itself, whose token would otherwise stay in memory as long as the socket."""
    timeout = request.app[SETTINGS].ws_auth_timeout
    try:
        msg = await ws.receive(timeout=timeout)
    except TimeoutError:
        await ws.close(code=UNAUTHENTICATED, message=f"no auth frame within {timeout:g} s".encode())
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
        user, expires_at = await request.app[ACCOUNTS].authenticate_until(frame.token)
        return user, expires_at, frame.positions, frame.ref
    except Unavailable:
        await ws.close(code=INTERNAL_ERROR, message=b"try again later")
    except DomainError as error:
        await ws.close(code=UNAUTHENTICATED, message=error.message.encode()[:120])
    except Exception:
        log.exception("cannot authenticate a socket")
        await ws.close(code=INTERNAL_ERROR, message=b"try again later")
    return None


async def _open_session(
    request: web.Request,
    ws: web.WebSocketResponse,
    signed_in: tuple[User, datetime, dict[int, int], Any] | None,
) -> Session | None:
    """The user's session on this socket, or None (not signed in; or it could not be opened,
    and the socket is closed with 1011)."""
    if signed_in is None:
        return None
    user, expires_at, resume, ref = signed_in
    transport = request.transport
    abort = transport.abort if transport else lambda: None
    outbox = request.app[OPEN_OUTBOX](ws, user_id=user.id, abort=abort)
    try:
        return await request.app[SESSIONS].open(
            user=user, outbox=outbox, resume=resume, ref=ref, expires_at=expires_at
        )
    except Exception:
        log.exception("cannot open the session of user %s", user.id)
        try:
            await ws.close(code=INTERNAL_ERROR, message=b"try again later")
        finally:
            outbox.stop()
        return None
    except BaseException:
        outbox.stop()
        raise


async def close_websockets(app: web.Application) -> None:
    """on_shutdown (the server no longer accepts): let every session's queue drain, then close
    it with 1001; then the sockets that never authenticated."""
    outboxes = [session.outbox for session in app[SESSIONS].open_sessions]
    await asyncio.gather(
        *(o.close(code=1001, drain=SHUTDOWN_DRAIN, message=b"server shutdown") for o in outboxes),
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
