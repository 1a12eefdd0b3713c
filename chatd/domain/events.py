"""What happens in a room, as published on the event bus and delivered to connections."""

from dataclasses import dataclass
from datetime import datetime

from chatd.domain.model import Message, User


@dataclass(frozen=True, slots=True)
class MessagePosted:
    """A user or system message was stored (delivered as new_message / system_message)."""

    message: Message

    @property
    def room_id(self) -> int:
        return self.message.room_id


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """A message's body was changed; `seq` is the edit's own position in the room's stream.
    `body` is None when read back after the message was deleted."""

    room_id: int
    seq: int
    target_seq: int
    body: str | None
    edited_at: datetime


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """A message was deleted; `seq` is the delete's own position in the room's stream."""

    room_id: int
    seq: int
    target_seq: int


# What occupies a seq of a room's stream, as read back from storage by resume, replay and gap
# filling: a message (user or system), an edit or a delete.
Position = Message | MessageEdited | MessageDeleted


@dataclass(frozen=True, slots=True)
class MemberJoined:
    room_id: int
    user: User


@dataclass(frozen=True, slots=True)
class MemberLeft:
    room_id: int
    user: User


@dataclass(frozen=True, slots=True)
class UserTyping:
    room_id: int
    user: User


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """The user's first connection opened, or their last one closed, on any process."""

    room_id: int
    user: User
    online: bool


RoomEvent = (
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | MemberJoined
    | MemberLeft
    | UserTyping
    | PresenceChanged
)


@dataclass(frozen=True, slots=True)
class SessionsRevoked:
    """The user's login ended (logout, or a refresh token replayed): every socket of theirs,
    on every process, is closed."""

    user_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ReadMarkerMoved:
    """The user's read marker in the room moved forwards: every connection of theirs is told."""

    user_id: int
    room_id: int
    seq: int


BusEvent = RoomEvent | SessionsRevoked | ReadMarkerMoved
