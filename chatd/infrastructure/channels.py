"""What travels on the bus: channel names, the envelope a receiving process routes by, and the
two sides that meet there (the subscriptions a bus offers, the sink that fans frames out)."""

import asyncio
import json
from dataclasses import dataclass
from typing import Protocol

from chatd.domain.events import MemberJoined, MemberLeft, RoomEvent

ROOM_PREFIX = "chatd:room:"
USER_PREFIX = "chatd:user:"
MESSAGE_TYPES = frozenset({"new_message", "system_message"})


def room_channel(room_id: int) -> str:
    return f"{ROOM_PREFIX}{room_id}"


def user_channel(user_id: int) -> str:
    """Membership changes of one user, so every connection of theirs learns of them."""
    return f"{USER_PREFIX}{user_id}"


def channels_of(event: RoomEvent) -> list[str]:
    if isinstance(event, MemberJoined | MemberLeft):
        return [room_channel(event.room_id), user_channel(event.user.id)]
    return [room_channel(event.room_id)]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a receiving process needs to route a frame, read once, plus the frame itself."""

    type: str
    room_id: int
    seq: int | None  # messages only
    user_id: int | None  # the author, the member who joined/left, the one typing
    text: str


def read_frame(text: str) -> Envelope:
    data = json.loads(text)
    kind = data["type"]
    if kind in MESSAGE_TYPES:
        message = data["message"]
        author = message["author"]
        return Envelope(
            kind, message["room_id"], message["seq"], author["id"] if author else None, text
        )
    return Envelope(kind, data["room_id"], None, data["user"]["id"], text)


class BusSink(Protocol):
    """Whoever fans frames out to this process's connections (the Fanout)."""

    def on_room_frame(self, envelope: Envelope) -> None: ...

    def on_user_frame(self, user_id: int, envelope: Envelope) -> None: ...

    def on_reconnected(self) -> None:
        """Frames may have been lost while the bus was away: check every room."""


class Subscriptions(Protocol):
    """The subscribing side of a bus."""

    def attach(self, sink: BusSink) -> None: ...

    def subscribe(self, channel: str) -> asyncio.Future[None]:
        """Ask for a channel; the future resolves once the subscription is confirmed."""

    def unsubscribe(self, channel: str) -> None: ...


def route(sink: BusSink | None, channel: str, text: str) -> None:
    """Hand one received frame to the sink, read once."""
    if sink is None:
        return
    if channel.startswith(ROOM_PREFIX):
        sink.on_room_frame(read_frame(text))
    elif channel.startswith(USER_PREFIX):
        sink.on_user_frame(int(channel[len(USER_PREFIX) :]), read_frame(text))
