"""A connection's client frames: each is one use-case call, and its reply (if any) the `ack`."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from chatd.application.frames import ack_frame, edit_json, error_frame, message_ack
from chatd.application.sessions import Session, Sessions
from chatd.interfaces.errors import as_domain_error, retry_after
from chatd.interfaces.http import to_json
from chatd.interfaces.metrics import timed_handlers
from chatd.interfaces.ws_frames import ClientFrame, FrameError, parse_frame

MAX_SENDS_IN_FLIGHT = 64  # send_message frames of one connection being answered at once


class FrameAnswers:
    """A connection's client frames, answered in the order received.

    `send_message` frames overlap, up to MAX_SENDS_IN_FLIGHT: each enters every stage of the send
    path (rate count, store, publish; each a queue shared by the process) in the order received,
    so they are stored, acknowledged and delivered in that order, and a client that sends without
    waiting for acks is not held to one round trip per message. Any other frame waits for them.
    """

    __slots__ = ("_sends", "_session", "_sessions")

    def __init__(self, sessions: Sessions, session: Session) -> None:
        self._sessions = sessions
        self._session = session
        self._sends: set[asyncio.Task[None]] | None = None  # made by the first send_message

    async def answer(self, text: str) -> None:
        try:
            frame = parse_frame(text)
        except FrameError as error:
            self._refuse(error.ref, error)
            return
        if frame.type != "send_message":
            await self.drain()
            await self._answer(frame)
            return
        sends = self._sends
        if sends is None:
            sends = self._sends = set()
        if len(sends) >= MAX_SENDS_IN_FLIGHT:
            await asyncio.wait(sends, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(self._answer(frame))
        sends.add(task)
        task.add_done_callback(sends.discard)

    async def drain(self) -> None:
        """Until every send in flight has been answered."""
        if self._sends:
            await asyncio.wait(self._sends)

    async def _answer(self, frame: ClientFrame) -> None:
        try:
            ack = await HANDLERS[frame.type](self._sessions, self._session, frame)
            if ack is not None:
                self._session.outbox.send(ack)
        except Exception as exc:
            self._refuse(frame.ref, exc)

    def _refuse(self, ref: Any, exc: Exception) -> None:
        user_id = self._session.user.id
        error = as_domain_error(exc, context=f"a ws frame of user {user_id}")
        self._session.outbox.send(error_frame(ref, error, retry_after=retry_after(error)))


# Each handler answers with its `ack` frame's text, or None when the frame gets no ack.


async def join_room(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    return ack_frame(frame.ref, {"room": to_json(await sessions.join(session, frame.room_id))})


async def leave_room(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    await sessions.leave(session, frame.room_id)
    return ack_frame(frame.ref, {})


async def send_message(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    message = await sessions.send_message(
        session, room_id=frame.room_id, body=frame.body, client_id=frame.client_id
    )
    return message_ack(frame.ref, message)


async def typing(sessions: Sessions, session: Session, frame: ClientFrame) -> str | None:
    await sessions.typing(session, frame.room_id)
    return ack_frame(frame.ref, {}) if frame.ref is not None else None


async def resume(sessions: Sessions, session: Session, frame: ClientFrame) -> None:
    await sessions.resume(session, frame.positions, ref=frame.ref)


async def read(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    seq = await sessions.chat.mark_read(session, room_id=frame.room_id, seq=frame.seq)
    return ack_frame(frame.ref, {"room_id": frame.room_id, "seq": seq})


async def edit_message(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    edited = await sessions.chat.edit_message(
        session, room_id=frame.room_id, seq=frame.seq, body=frame.body
    )
    return ack_frame(frame.ref, {"edit": edit_json(edited)})


async def delete_message(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    await sessions.chat.delete_message(session, room_id=frame.room_id, seq=frame.seq)
    return ack_frame(frame.ref, {})


async def auth(sessions: Sessions, session: Session, frame: ClientFrame) -> str:
    """A fresh access token for the open socket (its `resume`, if any, is not read)."""
    await sessions.renew(session, frame.token)
    return ack_frame(frame.ref, {})


HANDLERS: dict[str, Callable[[Sessions, Session, ClientFrame], Awaitable[str | None]]] = {
    "auth": auth,
    "join_room": join_room,
    "leave_room": leave_room,
    "send_message": send_message,
    "typing": typing,
    "resume": resume,
    "read": read,
    "edit_message": edit_message,
    "delete_message": delete_message,
}
HANDLERS = timed_handlers(HANDLERS)  # chatd_ws_frame_duration_seconds, by frame type
