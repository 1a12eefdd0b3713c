"""This process's live streams: the room feeds its connections watch and the bus channels behind
them (implements RoomStreams; the bus hands it every frame it receives).

A room's channel is subscribed when its first local connection starts watching it and dropped
with the last one; a user's channel likewise while any session of theirs is open here, so joins
made on another connection or process reach every connection of that user.
"""

import asyncio
import logging
from collections.abc import Collection
from typing import Protocol

from chatd.application.delivery import RoomCursor
from chatd.application.ports import MessageReader, Outbox
from chatd.infrastructure.channels import Envelope, Subscriptions, room_channel, user_channel
from chatd.infrastructure.feeds import FILL_PATIENCE, FILL_RETRY, PENDING_LIMIT, RoomFeed

log = logging.getLogger(__name__)

CONFIRM_WITHIN = 5.0  # seconds to wait for the bus to confirm a subscription


class MembershipListener(Protocol):
    def __call__(self, user_id: int, room_id: int, *, joined: bool, frame: str) -> None: ...


class RevocationListener(Protocol):
    def __call__(self, user_id: int, reason: str) -> None: ...


class UserFrameListener(Protocol):
    def __call__(self, user_id: int, frame: str) -> None: ...


class ReconnectListener(Protocol):
    def __call__(self) -> None: ...


class Fanout:
    def __init__(
        self,
        *,
        bus: Subscriptions,
        messages: MessageReader,
        confirm_within: float = CONFIRM_WITHIN,
        fill_retry: float = FILL_RETRY,
        fill_patience: float = FILL_PATIENCE,
        pending_limit: int = PENDING_LIMIT,
    ) -> None:
        self._bus = bus
        self._messages = messages
        self._confirm_within = confirm_within
        self._feed_options = {
            "fill_retry": fill_retry,
            "fill_patience": fill_patience,
            "pending_limit": pending_limit,
        }
        self._feeds: dict[int, RoomFeed] = {}
        self._followers: dict[int, int] = {}  # user_id -> sessions following the user here
        self._tasks: set[asyncio.Task] = set()
        self._on_membership: MembershipListener | None = None
        self._on_revoked: RevocationListener | None = None
        self._on_user_frame: UserFrameListener | None = None
        self._on_reconnected: ReconnectListener | None = None

    def on_membership_change(self, listener: MembershipListener) -> None:
        """Who hears of a user's joins and leaves made elsewhere (the Sessions use case)."""
        self._on_membership = listener

    def on_sessions_revoked(self, listener: RevocationListener) -> None:
        """Who closes the sockets of a user whose login ended (the Sessions use case)."""
        self._on_revoked = listener

    def on_frame_for_user(self, listener: UserFrameListener) -> None:
        """Who passes a frame meant for every connection of a user on to them (read markers)."""
        self._on_user_frame = listener

    def on_bus_reconnected(self, listener: ReconnectListener) -> None:
        """Who checks the users' memberships after the bus was away (the Sessions use case):
        the joins and leaves published meanwhile were lost with it."""
        self._on_reconnected = listener

    # What the bus hands over (BusSink).

    def on_room_frame(self, envelope: Envelope) -> None:
        feed = self._feeds.get(envelope.room_id)
        if feed is not None:
            feed.on_frame(envelope)

    def on_user_frame(self, user_id: int, envelope: Envelope) -> None:
        if envelope.type in {"join_room", "leave_room"} and self._on_membership is not None:
            joined = envelope.type == "join_room"
            self._on_membership(user_id, envelope.room_id, joined=joined, frame=envelope.text)
        elif envelope.type == "sessions_revoked" and self._on_revoked is not None:
            self._on_revoked(user_id, envelope.text)
        elif envelope.type == "read" and self._on_user_frame is not None:
            self._on_user_frame(user_id, envelope.text)

    def on_reconnected(self, room_ids: Collection[int] | None = None) -> None:
        for room_id, feed in self._feeds.items():
            if room_ids is None or room_id in room_ids:
                feed.check()
        if self._on_reconnected is not None:
            self._on_reconnected()

    # RoomStreams.

    async def follow_user(self, user_id: int) -> None:
        self._followers[user_id] = self._followers.get(user_id, 0) + 1
        if self._followers[user_id] == 1:
            await self._confirmed(self._bus.subscribe(user_channel(user_id)))

    def unfollow_user(self, user_id: int) -> None:
        count = self._followers.get(user_id, 0) - 1
        if count > 0:
            self._followers[user_id] = count
        elif self._followers.pop(user_id, None) is not None:
            self._bus.unsubscribe(user_channel(user_id))

    async def watch(self, room_id: int, outbox: Outbox, *, hold: bool) -> RoomCursor | None:
        feed = self._feeds.get(room_id)
        if feed is None:
            feed = self._feeds[room_id] = RoomFeed(
                room_id, messages=self._messages, **self._feed_options
            )
            self._spawn(self._start(feed))
        await feed.ready()
        if outbox.closed or self._feeds.get(room_id) is not feed:
            self._release_if_idle(feed)
            return None
        return feed.add(outbox, hold=hold)

    def unwatch(self, cursor: RoomCursor) -> None:
        feed = self._feeds.get(cursor.room_id)
        if feed is not None:
            feed.remove(cursor)
            self._release_if_idle(feed)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for feed in self._feeds.values():
            feed.close()
        self._feeds.clear()

    # Inside.

    async def _start(self, feed: RoomFeed) -> None:
        subscribed = self._bus.subscribe(room_channel(feed.room_id))
        try:
            await feed.start(subscribed, confirm_within=self._confirm_within)
        except Exception:
            log.exception("room %s: cannot start its feed", feed.room_id)
            if self._feeds.get(feed.room_id) is feed:
                del self._feeds[feed.room_id]
                self._bus.unsubscribe(room_channel(feed.room_id))

    def _release_if_idle(self, feed: RoomFeed) -> None:
        if not feed.idle:
            return
        if self._feeds.get(feed.room_id) is feed:
            del self._feeds[feed.room_id]
            self._bus.unsubscribe(room_channel(feed.room_id))
        feed.close()

    async def _confirmed(self, subscribed: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(subscribed), self._confirm_within)
        except TimeoutError:
            log.warning("subscription not confirmed; the bus is reconnecting")

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
