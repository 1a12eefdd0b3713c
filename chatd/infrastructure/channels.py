"""What travels on the bus: channel names, the envelope a receiving process routes by, and the
two sides that meet there (the subscriptions a bus offers, the sink that fans frames out)."""

import asyncio
from dataclasses import dataclass
from typing import Protocol

from chatd.application.frames import event_frame, read_frame
from chatd.domain.events import (
    BusEvent,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PresenceChanged,
    ReadMarkerMoved,
    SessionsRevoked,
    UserTyping,
)

ROOM_PREFIX = "chatd:room:"
USER_PREFIX = "chatd:user:"


def room_channel(room_id: int) -> str:
    return f"{ROOM_PREFIX}{room_id}"


def user_channel(user_id: int) -> str:
    """Membership changes of one user, so every connection of theirs learns of them."""
    return f"{USER_PREFIX}{user_id}"


def channels_of(event: BusEvent) -> list[str]:
    if isinstance(event, SessionsRevoked | ReadMarkerMoved):
        return [user_channel(event.user_id)]
    if isinstance(event, MemberJoined | MemberLeft):
        return [room_channel(event.room_id), user_channel(event.user.id)]
    return [room_channel(event.room_id)]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a receiving process needs to route a frame, plus the frame itself."""

    type: str
    room_id: int
    seq: int | None  # positions of the room's stream only (messages, edits, deletes)
    user_id: int | None  # the author, the member who joined/left, the one typing
    text: str


def bus_payload(event: BusEvent) -> str:
    """What is published for an event: a one-line routing header, then the client frame.

    The header ("<type> <room_id> <seq|0> <user_id|0>") lets a receiving process route the frame
    without parsing its JSON; the frame text is passed on to sockets as it is. (SessionsRevoked
    is no client frame: its text is the reason the sockets are closed with.)
    """
    if isinstance(event, SessionsRevoked):
        return f"sessions_revoked 0 0 {event.user_id}\n{event.reason}"
    if isinstance(event, ReadMarkerMoved):
        return f"read {event.room_id} 0 {event.user_id}\n{read_frame(event.room_id, event.seq)}"
    text = event_frame(event)
    match event:
        case MessagePosted(message=m):
            kind = "new_message" if m.kind == "user" else "system_message"
            header = f"{kind} {m.room_id} {m.seq} {m.author.id if m.author else 0}"
        case MessageEdited(room_id=room_id, seq=seq):
            header = f"message_edited {room_id} {seq} 0"
        case MessageDeleted(room_id=room_id, seq=seq):
            header = f"message_deleted {room_id} {seq} 0"
        case MemberJoined(room_id=room_id, user=user):
            header = f"join_room {room_id} 0 {user.id}"
        case MemberLeft(room_id=room_id, user=user):
            header = f"leave_room {room_id} 0 {user.id}"
        case UserTyping(room_id=room_id, user=user):
            header = f"typing {room_id} 0 {user.id}"
        case PresenceChanged(room_id=room_id, user=user):
            header = f"presence {room_id} 0 {user.id}"
        case _:
            raise TypeError(f"not a room event: {event!r}")
    return f"{header}\n{text}"


def read_payload(payload: str) -> Envelope:
    header, _, text = payload.partition("\n")
    kind, room_id, seq, user_id = header.split(" ")
    return Envelope(kind, int(room_id), int(seq) or None, int(user_id) or None, text)


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


def route(sink: BusSink | None, channel: str, payload: str) -> None:
    """Hand one received payload to the sink, its header read once."""
    if sink is None:
        return
    if channel.startswith(ROOM_PREFIX):
        sink.on_room_frame(read_payload(payload))
    elif channel.startswith(USER_PREFIX):
        sink.on_user_frame(int(channel[len(USER_PREFIX) :]), read_payload(payload))
