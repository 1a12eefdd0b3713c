"""The Hub: this process's connections, the room feeds they need, and the bus subscriptions.

A room's channel is subscribed when its first local connection starts watching it and dropped
with the last one; a user's channel likewise, so joins made on another connection or process
reach every connection of that user.
"""

import asyncio
import logging
from typing import Protocol

from chatd.application.ports import MembershipReader, MessageReader
from chatd.infrastructure.connections import Connection
from chatd.infrastructure.feeds import RoomFeed
from chatd.infrastructure.memory_bus import BusSink
from chatd.infrastructure.wire import Envelope, message_frame, room_channel, user_channel

log = logging.getLogger(__name__)

RESYNC_LIMIT = 1000  # more missed messages than this in a room: resync_required instead
REPLAY_PAGE = 200
CONFIRM_WITHIN = 5.0  # seconds to wait for Redis to confirm a subscription


class Subscriptions(Protocol):
    def attach(self, sink: BusSink) -> None: ...

    def subscribe(self, channel: str) -> asyncio.Future[None]: ...

    def unsubscribe(self, channel: str) -> None: ...


class Hub:
    def __init__(
        self, *, bus: Subscriptions, messages: MessageReader, memberships: MembershipReader
    ) -> None:
        self._bus = bus
        self._messages = messages
        self._memberships = memberships
        self._feeds: dict[int, RoomFeed] = {}
        self._users: dict[int, set[Connection]] = {}
        self._tasks: set[asyncio.Task] = set()
        bus.attach(self)

    # What the bus hands over (BusSink).

    def on_room_frame(self, envelope: Envelope) -> None:
        feed = self._feeds.get(envelope.room_id)
        if feed is not None:
            feed.on_frame(envelope)

    def on_user_frame(self, user_id: int, envelope: Envelope) -> None:
        if envelope.type in {"join_room", "leave_room"}:
            for connection in list(self._users.get(user_id, ())):
                self._spawn(self._follow_membership(connection, envelope))

    def on_reconnected(self) -> None:
        for feed in self._feeds.values():
            feed.check()

    # Connections.

    async def attach(self, connection: Connection) -> None:
        """Follow the user's membership changes; call before reading their rooms."""
        connections = self._users.setdefault(connection.user.id, set())
        connections.add(connection)
        if len(connections) == 1:
            await self._confirmed(self._bus.subscribe(user_channel(connection.user.id)))

    def detach(self, connection: Connection) -> None:
        for room_id in connection.rooms:
            self.unwatch(connection, room_id)
        connections = self._users.get(connection.user.id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._users[connection.user.id]
                self._bus.unsubscribe(user_channel(connection.user.id))

    @property
    def connections(self) -> list[Connection]:
        return [c for connections in self._users.values() for c in connections]

    async def watch(self, connection: Connection, room_id: int, *, hold: bool = False) -> None:
        """Stream the room to the connection from the feed's position on (live frames held
        back until release() when `hold`, for a replay to go first)."""
        feed = self._feeds.get(room_id)
        if feed is None:
            feed = self._feeds[room_id] = RoomFeed(room_id, messages=self._messages)
            self._spawn(self._start(feed))
        feed.waiters += 1
        try:
            await feed.ready()
        finally:
            feed.waiters -= 1
        current = self._feeds.get(room_id) is feed
        if connection.closed or connection.watching(room_id) or not current:
            self._release_if_idle(feed)
            return
        assert feed.last_seq is not None
        connection.begin_room(room_id, after_seq=feed.last_seq, hold=hold)
        feed.connections.add(connection)

    async def _follow_membership(self, connection: Connection, envelope: Envelope) -> None:
        """The user joined or left elsewhere: stream the room here too, or stop, as the
        database says now. The event alone could be stale: a leave that arrives after the
        user already joined again must not cut the stream."""
        room_id = envelope.room_id
        async with connection.membership_lock:
            try:
                member = await self._memberships.is_member(room_id, connection.user.id)
            except Exception:
                log.warning("room %s: membership unknown; going by the event", room_id)
                member = envelope.type == "join_room"
            if not member:
                self.unwatch(connection, room_id)
            elif not connection.watching(room_id):
                await self.watch(connection, room_id)
                if connection.watching(room_id) and envelope.type == "join_room":
                    connection.send(envelope.text)

    def unwatch(self, connection: Connection, room_id: int) -> None:
        connection.end_room(room_id)
        feed = self._feeds.get(room_id)
        if feed is not None:
            feed.connections.discard(connection)
            self._release_if_idle(feed)

    async def replay(self, connection: Connection, room_id: int, after_seq: int) -> bool:
        """Send the room's messages after `after_seq` that the connection has not been sent, in
        seq order; False (and nothing sent) past RESYNC_LIMIT, the stream then goes on live."""
        first, sent = connection.first_seq(room_id), connection.sent_seq(room_id)
        assert first is not None and sent is not None, "watch the room first"
        connection.hold(room_id)
        try:
            last = await self._messages.last_seq(room_id)
            after_seq = min(after_seq, last)  # a position from the future means "up to date"
            older = max(0, first - after_seq)
            if older + last - max(sent, after_seq) > RESYNC_LIMIT:
                return False
            if after_seq < first:
                await self._send_range(connection, room_id, after_seq, first, replayed=True)
                connection.rewind(room_id, after_seq)
            connection.advance(room_id, after_seq)
            await self._send_range(connection, room_id, connection.sent_seq(room_id) or 0, None)
            return True
        finally:
            connection.release(room_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for feed in self._feeds.values():
            feed.close()
        self._feeds.clear()

    # Inside.

    async def _send_range(
        self, connection: Connection, room_id: int, after: int, upto: int | None, *, replayed=False
    ) -> None:
        while upto is None or after < upto:
            page = await self._messages.list_after(room_id, after, limit=REPLAY_PAGE)
            for message in page:
                if (upto is not None and message.seq > upto) or not connection.watching(room_id):
                    return  # done, or the user left the room meanwhile
                if replayed:
                    connection.push_replayed(message_frame(message))
                else:
                    connection.push_message(
                        room_id, message.seq, message_frame(message), live=False
                    )
                after = message.seq
            if len(page) < REPLAY_PAGE:
                return

    async def _start(self, feed: RoomFeed) -> None:
        try:
            await feed.start(self._bus.subscribe(room_channel(feed.room_id)))
        except Exception:
            log.exception("room %s: cannot start its feed", feed.room_id)
            if self._feeds.get(feed.room_id) is feed:
                del self._feeds[feed.room_id]
                self._bus.unsubscribe(room_channel(feed.room_id))

    def _release_if_idle(self, feed: RoomFeed) -> None:
        if feed.connections or feed.waiters or not feed.is_ready:
            return
        if self._feeds.get(feed.room_id) is feed:
            del self._feeds[feed.room_id]
            self._bus.unsubscribe(room_channel(feed.room_id))
        feed.close()

    async def _confirmed(self, subscribed: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(subscribed), CONFIRM_WITHIN)
        except TimeoutError:
            log.warning("subscription not confirmed; the bus is reconnecting")

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
