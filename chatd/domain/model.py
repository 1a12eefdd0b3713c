"""The entities of chatd as plain, immutable dataclasses."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

MessageKind = Literal["user", "system"]
Role = Literal["owner", "moderator", "member"]
RoomKind = Literal["room", "dm"]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user with the stored password hash; never leaves the application layer."""

    user: User
    password_hash: bytes


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """What a valid access token claims: whose it is and until when."""

    user_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a decoded refresh token claims: whose it is and which login it descends from."""

    user_id: int
    family_id: str


class TokenState(StrEnum):
    FRESH = "fresh"
    SPENT = "spent"  # used once already: presenting it again is a replay
    REVOKED = "revoked"  # its login was logged out or its family revoked
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class SpentToken:
    """A stored refresh token, as it was at the moment it was presented (and then spent)."""

    user_id: int
    family_id: str
    state: TokenState


@dataclass(frozen=True, slots=True)
class Room:
    id: int
    name: str
    topic: str
    owner_id: int
    created_at: datetime
    member_count: int
    kind: RoomKind = "room"  # "dm": the direct-message room of two users
    private: bool = False  # seen and joined only by members, the owner and those invited


@dataclass(frozen=True, slots=True)
class Member:
    user: User
    role: Role
    joined_at: datetime
    online: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    room_id: int
    seq: int
    kind: MessageKind
    author: User | None
    body: str | None  # None: deleted (a tombstone)
    client_id: str | None
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Standing:
    """What one user is in one room, as the store says at that moment."""

    user: User
    role: Role | None  # None: not a member
    invited: bool = False
    banned: bool = False


@dataclass(frozen=True, slots=True)
class Ban:
    user: User
    banned_by: User
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invitation:
    room: Room
    user: User
    invited_by: User
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RoomReading:
    """One of a user's rooms, with how far they have read it."""

    room: Room
    last_read_seq: int
    unread: int  # user messages after last_read_seq, not deleted, not the reader's own
