"""Server frames as JSON text. An event is encoded once; the same text goes to every socket."""

import json
from dataclasses import dataclass
from typing import Any

from chatd.domain.events import (
    MemberJoined,
    MemberLeft,
    MessagePosted,
    PresenceChanged,
    RoomEvent,
    UserTyping,
)
from chatd.domain.model import Message, User

MESSAGE_TYPES = frozenset({"new_message", "system_message"})


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "created_at": user.created_at.isoformat()}


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "room_id": message.room_id,
        "seq": message.seq,
        "kind": message.kind,
        "author": user_json(message.author) if message.author else None,
        "body": message.body,
        "client_id": message.client_id,
        "created_at": message.created_at.isoformat(),
    }


def message_frame(message: Message) -> str:
    kind = "new_message" if message.kind == "user" else "system_message"
    return dumps({"type": kind, "message": message_json(message)})


def event_frame(event: RoomEvent) -> str:
    """The exact text a client receives for this event."""
    match event:
        case MessagePosted(message=message):
            return message_frame(message)
        case MemberJoined(room_id=room_id, user=user):
            return dumps({"type": "join_room", "room_id": room_id, "user": user_json(user)})
        case MemberLeft(room_id=room_id, user=user):
            return dumps({"type": "leave_room", "room_id": room_id, "user": user_json(user)})
        case UserTyping(room_id=room_id, user=user):
            return dumps({"type": "typing", "room_id": room_id, "user": user_json(user)})
        case PresenceChanged(room_id=room_id, user=user, online=online):
            frame = {"type": "presence", "room_id": room_id, "user": user_json(user)}
            return dumps({**frame, "online": online})
    raise TypeError(f"not a room event: {event!r}")


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


ROOM_PREFIX = "chatd:room:"
USER_PREFIX = "chatd:user:"


def room_channel(room_id: int) -> str:
    return f"{ROOM_PREFIX}{room_id}"


def user_channel(user_id: int) -> str:
    """Membership changes of one user, so every connection of theirs learns of them."""
    return f"{USER_PREFIX}{user_id}"


def channels_of(event: RoomEvent) -> list[str]:
    if isinstance(event, MemberJoined | MemberLeft):
        return [room_channel(event.room_id), user_channel(event.user.id)]
    return [room_channel(event.room_id)]
