"""What happens in a room, as published on the event bus and delivered to connections."""

from dataclasses import dataclass

from chatd.domain.model import Message, User


@dataclass(frozen=True, slots=True)
class MessagePosted:
    """A user or system message was stored (delivered as new_message / system_message)."""

    message: Message

    @property
    def room_id(self) -> int:
        return self.message.room_id


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


RoomEvent = MessagePosted | MemberJoined | MemberLeft | UserTyping | PresenceChanged


@dataclass(frozen=True, slots=True)
class SessionsRevoked:
    """The user's login ended (logout, or a refresh token replayed): every socket of theirs,
    on every process, is closed."""

    user_id: int
    reason: str


BusEvent = RoomEvent | SessionsRevoked
