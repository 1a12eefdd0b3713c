"""Real-time sessions: what one WebSocket connection is allowed to see, and when.

A session streams every room its user is a member of. It starts on open (resuming rooms from
the positions the client names), changes with the connection's own join/leave, follows
membership changes made elsewhere (another connection or process, REST), and ends on close:
the client's, or ours when its access token expires unrenewed, its login ends (logout, a
replayed refresh token) or it floods (session_rules.py). Its user counts as online meanwhile.
The fan-out machinery is behind RoomStreams; each method here is one client frame's work.
"""

import asyncio
import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from chatd.application.auth import Accounts
from chatd.application.chat_frames import ChatFrames
from chatd.application.delivery import RoomCursor
from chatd.application.expiries import Expiries
from chatd.application.frames import (
    error_frame,
    event_frame,
    ready_frame,
    resumed_frame,
    resync_frame,
)
from chatd.application.messages import Messaging
from chatd.application.ports import Clock, MembershipReader, MessageReader, Outbox, RoomStreams
from chatd.application.presence import Presence
from chatd.application.realtime import Typing
from chatd.application.replay import REPLAY_PAGE, RESYNC_LIMIT, replay
from chatd.application.rooms import Rooms
from chatd.application.session_rules import UNAUTHENTICATED, Session, within_limits
from chatd.domain.errors import Forbidden, NotAuthenticated, Unavailable
from chatd.domain.events import MemberJoined
from chatd.domain.model import Message, Room, User

log = logging.getLogger(__name__)


class Sessions:
    def __init__(
        self,
        *,
        streams: RoomStreams,
        messages: MessageReader,
        memberships: MembershipReader,
        rooms: Rooms,
        messaging: Messaging,
        typing: Typing,
        accounts: Accounts,
        presence: Presence,
        clock: Clock,
        chat: ChatFrames | None = None,
        resync_limit: int = RESYNC_LIMIT,
        replay_page: int = REPLAY_PAGE,
    ) -> None:
        self._streams = streams
        self._messages = messages
        self._memberships = memberships
        self._rooms = rooms
        self._messaging = messaging
        self._typing = typing
        self._accounts = accounts
        self._presence = presence
        self._clock = clock
        self._chat = chat
        self._resync_limit = resync_limit
        self._replay_page = replay_page
        self._by_user: dict[int, set[Session]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._expiries: Expiries[Session] = Expiries(self._expired)

    async def open(
        self,
        *,
        user: User,
        outbox: Outbox,
        resume: dict[int, int],
        ref: Any,
        expires_at: datetime,
    ) -> Session:
        """Stream the user's rooms (those in `resume` from the named position on), then `ready`;
        until `expires_at` (the access token's expiry) unless renewed."""
        session = Session(user, outbox, self._clock.now())
        self._by_user.setdefault(user.id, set()).add(session)
        self._expire_at(session, expires_at)
        try:
            # Membership changes are followed before the rooms are read, so none falls between.
            await self._streams.follow_user(user.id)
            room_ids = await self._memberships.room_ids_of(user.id)
            await asyncio.gather(*(self._watch(session, r, hold=r in resume) for r in room_ids))
            outbox.send(ready_frame(user, room_ids))
            self._presence.connected(user)
            session.present = True
            for room_id, last_seq in resume.items():
                await self._replay(session, room_id, last_seq, ref=ref)
        except BaseException:
            self.close(session)
            raise
        return session

    async def join(self, session: Session, room_id: int) -> Room:
        async with session.lock:
            # Watch first, so this connection gets the "joined" message and all that follows.
            watched = room_id in session.cursors
            if not watched:
                await self._watch(session, room_id)
            try:
                return await within_limits(
                    session,
                    "join_room",
                    self._clock.now(),
                    lambda: self._rooms.join(room_id=room_id, user=session.user),
                )
            except BaseException:
                if not watched:
                    self._unwatch(session, room_id)
                raise

    async def leave(self, session: Session, room_id: int) -> None:
        async with session.lock:
            await self._rooms.leave(room_id=room_id, user=session.user)
            self._unwatch(session, room_id)

    async def send_message(
        self, session: Session, *, room_id: int, body: str, client_id: str | None
    ) -> Message:
        message, _ = await within_limits(
            session,
            "send_message",
            self._clock.now(),
            lambda: self._messaging.post(
                room_id=room_id, author=session.user, body=body, client_id=client_id
            ),
        )
        return message

    async def typing(self, session: Session, room_id: int) -> bool:
        return await self._typing.typing(room_id=room_id, user=session.user)

    @property
    def chat(self) -> ChatFrames:
        """The chat features' frames (edit, delete, read)."""
        if self._chat is None:
            raise RuntimeError("Sessions was built without the chat features")
        return self._chat

    def tell_user(self, user_id: int, frame: str) -> None:
        """A frame for every connection of the user here (the bus's word: a read marker)."""
        for session in self._by_user.get(user_id, ()):
            session.outbox.send(frame)

    async def resume(self, session: Session, positions: dict[int, int], *, ref: Any) -> None:
        """The messages after each position this connection has not been sent, then `resumed`."""
        for room_id, last_seq in positions.items():
            await self._replay(session, room_id, last_seq, ref=ref)
        session.outbox.send(resumed_frame(ref, list(positions)))

    async def renew(self, session: Session, token: str) -> None:
        """A fresh access token of the same user: the socket lives until it expires."""
        user, expires_at = await self._accounts.authenticate_until(token)
        if user.id != session.user.id:
            raise NotAuthenticated("that token is another user's", code="invalid_token")
        self._expire_at(session, expires_at)

    def revoke(self, user_id: int, reason: str) -> None:
        """The user's login ended (the bus's word for it): close their sockets here."""
        for session in list(self._by_user.get(user_id, ())):
            self._end(session, UNAUTHENTICATED, reason)

    def membership_changed(self, user_id: int, room_id: int, *, joined: bool, frame: str) -> None:
        """The user joined or left a room elsewhere (the bus's word for it)."""
        for session in self._by_user.get(user_id, ()):
            self._spawn(self._follow(session, room_id, joined=joined, frame=frame))

    def recheck(self) -> None:
        """Notices may have been lost (the bus was away): follow what the database says now, on
        every open session. Memberships, one query per user (a room joined meanwhile gets its
        `join_room` frame), and logins ended meanwhile, one query for all (those sockets are
        closed with 4401, as the lost notice would have)."""
        # Only opened sessions: one still opening reads the database itself.
        opened = {
            user_id: present
            for user_id, sessions in self._by_user.items()
            if (present := [session for session in sessions if session.present])
        }
        for user_id, sessions in opened.items():
            self._spawn(self._recheck(user_id, sessions))
        if opened:
            self._spawn(self._end_revoked(opened))

    def close(self, session: Session) -> None:
        """The connection is gone: stop every stream of it."""
        if session.closed:
            return
        session.closed = True
        self._expiries.cancel(session)
        if session.present:
            self._presence.disconnected(session.user)
        for room_id in list(session.cursors):
            self._unwatch(session, room_id)
        sessions = self._by_user.get(session.user.id)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._by_user[session.user.id]
        self._streams.unfollow_user(session.user.id)

    @property
    def open_sessions(self) -> list[Session]:
        return [session for sessions in self._by_user.values() for session in sessions]

    async def aclose(self) -> None:
        self._expiries.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _expire_at(self, session: Session, expires_at: datetime) -> None:
        delay = max(0.0, (expires_at - self._clock.now()).total_seconds())
        self._expiries.set(session, delay)

    def _expired(self, session: Session) -> None:
        self._end(session, UNAUTHENTICATED, "access token expired")

    def _end(self, session: Session, code: int, reason: str) -> None:
        if not session.closed and not session.outbox.closed:
            self._spawn(session.outbox.close(code=code, message=reason.encode()[:120]))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, session: Session, room_id: int, *, joined: bool, frame: str) -> None:
        """Stream the room here too, or stop, as the database says now: the event alone could be
        stale (a leave that arrives after the user joined again must not cut the stream)."""
        async with session.lock:
            watching = room_id in session.cursors
            if watching == joined or session.closed:
                return  # nothing the event could change
            try:
                member = await self._memberships.is_member(room_id, session.user.id)
            except Exception:
                log.warning("room %s: membership unknown; going by the event", room_id)
                member = joined
            if not member:
                self._unwatch(session, room_id)
            elif not watching and await self._watch(session, room_id) is not None:
                session.outbox.send(frame)

    async def _end_revoked(self, opened: dict[int, list[Session]]) -> None:
        try:
            revoked = await self._accounts.last_revocations(list(opened))
        except Unavailable:
            log.warning("cannot check for logins ended while the bus was away")
            return
        for user_id, when in revoked.items():
            for session in opened[user_id]:
                if session.opened_at < when:
                    self._end(session, UNAUTHENTICATED, "login ended")

    async def _recheck(self, user_id: int, sessions: list[Session]) -> None:
        room_ids = set(await self._memberships.room_ids_of(user_id))
        for session in sessions:
            for room_id in sorted(set(session.cursors) - room_ids):  # the leaves first
                await self._follow(session, room_id, joined=False, frame="")
            for room_id in sorted(room_ids - set(session.cursors)):
                frame = event_frame(MemberJoined(room_id=room_id, user=session.user))
                await self._follow(session, room_id, joined=True, frame=frame)

    async def _watch(
        self, session: Session, room_id: int, *, hold: bool = False
    ) -> RoomCursor | None:
        cursor = await self._streams.watch(room_id, session.outbox, hold=hold)
        if cursor is None:
            return None
        if session.closed or room_id in session.cursors:
            self._streams.unwatch(cursor)  # closed, or started meanwhile by another path
            return session.cursors.get(room_id)
        session.cursors[room_id] = cursor
        return cursor

    def _unwatch(self, session: Session, room_id: int) -> None:
        cursor = session.cursors.pop(room_id, None)
        if cursor is not None:
            self._streams.unwatch(cursor)

    async def _replay(self, session: Session, room_id: int, last_seq: int, *, ref: Any) -> None:
        cursor = session.cursors.get(room_id)
        if cursor is None:
            refusal = Forbidden(f"not a member of room {room_id}", code="not_a_member")
            session.outbox.send(error_frame(ref, refusal))
            return
        resumed = await replay(
            cursor,
            after_seq=last_seq,
            messages=self._messages,
            watching=lambda: session.cursors.get(room_id) is cursor,
            limit=self._resync_limit,
            page=self._replay_page,
        )
        if not resumed:
            session.outbox.send(resync_frame(room_id))
