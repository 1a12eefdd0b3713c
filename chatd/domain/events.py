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


RoomEvent = MessagePosted | MemberJoined | MemberLeft | UserTyping
