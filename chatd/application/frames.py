"""The contract's JSON shapes and server frames. An event is encoded once, as the exact text
every socket receives; REST encodes users and messages with the same functions."""

import json
from functools import lru_cache
from typing import Any

from chatd.domain.errors import DomainError
from chatd.domain.events import (
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Position,
    PresenceChanged,
    RoomEvent,
    UserTyping,
)
from chatd.domain.model import Message, User


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
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted,
    }


def edit_json(edit: MessageEdited) -> dict[str, Any]:
    return {
        "room_id": edit.room_id,
        "seq": edit.seq,
        "target_seq": edit.target_seq,
        "body": edit.body,
        "edited_at": edit.edited_at.isoformat(),
    }


@lru_cache(maxsize=4096)
def message_text(message: Message) -> str:
    """A message's JSON, encoded once for its live frame and again for the sender's ack only
    when it has left this small cache (a sender's ack follows the publish closely)."""
    return dumps(message_json(message))


def message_frame(message: Message) -> str:
    kind = "new_message" if message.kind == "user" else "system_message"
    return f'{{"type":"{kind}","message":{message_text(message)}}}'


def ack_frame(ref: Any, fields: dict[str, Any]) -> str:
    return dumps({"type": "ack", "ref": ref, **fields})


def message_ack(ref: Any, message: Message) -> str:
    """The `ack` of a stored message, its JSON reused from the live frame's encoding."""
    return f'{{"type":"ack","ref":{dumps(ref)},"message":{message_text(message)}}}'


def position_frame(position: Position) -> str:
    """The frame of a stream position read back from storage: the same text as when it was
    live (an edit of a message deleted since: with its body gone)."""
    if isinstance(position, Message):
        return message_frame(position)
    return event_frame(position)


def event_frame(event: RoomEvent) -> str:
    """The exact text a client receives for this event."""
    match event:
        case MessagePosted(message=message):
            return message_frame(message)
        case MessageEdited():
            return dumps({"type": "message_edited", **edit_json(event)})
        case MessageDeleted(room_id=room_id, seq=seq, target_seq=target_seq):
            frame = {"type": "message_deleted", "room_id": room_id, "seq": seq}
            return dumps({**frame, "target_seq": target_seq})
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


def read_frame(room_id: int, seq: int) -> str:
    return dumps({"type": "read", "room_id": room_id, "seq": seq})


def ready_frame(user: User, room_ids: list[int]) -> str:
    return dumps({"type": "ready", "user": user_json(user), "rooms": room_ids})


def error_frame(ref: Any, error: DomainError, *, retry_after: int | None = None) -> str:
    frame = {"type": "error", "ref": ref, "code": error.code, "message": error.message}
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return dumps(frame)


def resync_frame(room_id: int) -> str:
    return dumps({"type": "resync_required", "room_id": room_id})


def resumed_frame(ref: Any, room_ids: list[int]) -> str:
    return dumps({"type": "resumed", "ref": ref, "rooms": room_ids})
