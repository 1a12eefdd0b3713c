"""The ports the use cases need; infrastructure implements them, tests fake them."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chatd.domain.events import BusEvent, MessageDeleted, MessageEdited, Position, UserTyping
from chatd.domain.message_rules import ChangeTarget
from chatd.domain.model import (
    AccessGrant,
    Ban,
    Credentials,
    Invitation,
    Member,
    Message,
    RefreshGrant,
    Room,
    RoomReading,
    SpentToken,
    Standing,
    User,
)

if TYPE_CHECKING:
    from chatd.application.delivery import RoomCursor


class Clock(Protocol):
    def now(self) -> datetime: ...


class UserReader(Protocol):
    async def get(self, user_id: int) -> User | None: ...


class UserRepo(UserReader, Protocol):
    async def add(self, *, username: str, password_hash: bytes) -> User:
        """Store a new user; raises Conflict(username_taken) if the name is in use."""

    async def find_credentials(self, username: str) -> Credentials | None: ...


class RefreshTokenRepo(Protocol):
    async def add(
        self, *, token_hash: bytes, user_id: int, family_id: str, expires_at: datetime
    ) -> None: ...

    async def spend(self, token_hash: bytes) -> SpentToken | None:
        """Mark the token spent, atomically; None if it was never stored."""

    async def revoke_family(self, family_id: str) -> None: ...

    async def last_revocations(self, user_ids: Collection[int]) -> dict[int, datetime]:
        """When each of these users last had a login revoked (logout, reuse); none: absent."""


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> bytes: ...

    async def verify(self, password: str, password_hash: bytes | None) -> bool:
        """Check a password; with no hash, spend the same time and answer False."""


class TokenCodec(Protocol):
    access_ttl: int
    refresh_ttl: int

    def issue_access(self, user_id: int) -> str: ...

    def issue_refresh(self, user_id: int, family_id: str) -> str: ...

    def read_access(self, token: str) -> int:
        """The user id of a valid access token; raises NotAuthenticated otherwise."""

    def read_access_grant(self, token: str) -> AccessGrant:
        """The user id and expiry of a valid access token; raises NotAuthenticated otherwise."""

    def read_refresh(self, token: str) -> RefreshGrant:
        """The grant of a valid refresh token; raises NotAuthenticated otherwise."""


class FailureLimiter(Protocol):
    """Counts failures per key in a fixed window, shared by every process."""

    async def retry_after(self, keys: list[str]) -> int:
        """Seconds until all the keys are under their limit again; 0 if they are now."""

    async def record_failure(self, keys: list[str]) -> None: ...


class RateLimiter(Protocol):
    """Counts events per key in a fixed window, shared by every process."""

    async def acquire(self, key: str) -> int:
        """Count one event: 0 if it is within the limit, else seconds until the window ends."""


class EventBus(Protocol):
    """Carries room and user events to every process. Publish only after the change has
    committed."""

    async def publish(self, event: BusEvent) -> None: ...


class TypingGate(Protocol):
    """Typing notices, at most one per user and room per interval across every process."""

    async def forward(self, event: UserTyping, *, interval: timedelta) -> timedelta:
        """Publish the notice unless one of the same user and room went out, from any process,
        less than `interval` ago: zero if published, else how long until the next may go."""


class MessageReader(Protocol):
    """What the real-time layer needs from stored messages (gap filling and resume)."""

    async def list_after(self, room_id: int, after_seq: int, *, limit: int) -> list[Position]:
        """The room's stream positions (messages, edits, deletes) with seq > after_seq,
        ascending, at most `limit`."""

    async def last_seq(self, room_id: int) -> int:
        """The highest seq in the room (0 if none)."""


class MembershipReader(Protocol):
    async def room_ids_of(self, user_id: int) -> list[int]: ...

    async def is_member(self, room_id: int, user_id: int) -> bool: ...


class RoomRepo(MembershipReader, Protocol):
    """Rooms and memberships. Each method is one transaction, committed when it returns."""

    async def add(self, *, name: str, topic: str, owner: User, private: bool = False) -> Room:
        """Store the room with its owner as first member."""

    async def get(self, room_id: int) -> Room | None: ...

    async def standing(self, room_id: int, user_id: int) -> Standing | None:
        """The user's role, invitation and ban in the room; None if there is no such user."""

    async def list_page(
        self, *, viewer_id: int, limit: int, before_id: int | None
    ) -> list[tuple[Room, bool]]:
        """Rooms newest first (id below before_id) that the viewer may see (DMs never), each
        with whether the viewer is a member."""

    async def add_member(self, *, room_id: int, user: User) -> Message | None:
        """Make the user a member and post "<name> joined", spending their invitation; None, and
        no change, if already one. Refuses as permissions.check_join says, under the room's
        lock; NotFound (room_not_found) for no room."""

    async def remove_member(self, *, room_id: int, user: User) -> Message | None:
        """End the membership and post "<name> left"; None, and no change, if not a member."""

    async def members(self, room_id: int) -> list[Member]: ...


class DirectRoomRepo(Protocol):
    async def find_dm(self, user_id: int, other_id: int) -> Room | None: ...

    async def add_dm(self, *, creator: User, other: User) -> tuple[Room, bool]:
        """The one DM room of the two users, both members, and whether this call created it;
        of two concurrent calls for one pair, from any process, exactly one creates it."""


class ModerationRepo(Protocol):
    """Roles, kicks, bans and invitations. Each write is one transaction under the room row's
    lock, refusing as chatd.domain.permissions says of the state it changes."""

    async def set_role(
        self, *, room_id: int, actor_id: int, target_id: int, role: str
    ) -> tuple[Standing, Message | None]:
        """The target with the role; the system message if it changed (None: it had it)."""

    async def kick(self, *, room_id: int, actor_id: int, target_id: int) -> tuple[User, Message]:
        """End the target's membership and post "<name> was kicked"."""

    async def ban(
        self, *, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Ban, Message | None, bool]:
        """Ban the target (ending any membership and invitation) and post "<name> was banned":
        the ban, the message (None if the ban was there already), whether they were a member."""

    async def unban(self, *, room_id: int, actor_id: int, target_id: int) -> tuple[User, Message]:
        """Lift the ban and post "<name> was unbanned"."""

    async def bans(self, *, room_id: int, viewer_id: int) -> list[Ban]: ...

    async def invite(
        self, *, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Invitation, bool]:
        """The target's invitation, and whether this call made it."""

    async def invitations(self, *, room_id: int, viewer_id: int) -> list[Invitation]: ...

    async def revoke(self, *, room_id: int, actor_id: int, target_id: int) -> None:
        """Withdraw (a moderator) or decline (its user) an invitation."""

    async def invitations_of(self, user_id: int) -> list[Invitation]:
        """The user's pending invitations, newest first."""


class MessageRepo(MessageReader, Protocol):
    async def add(
        self, *, room_id: int, author: User, body: str, client_id: str | None
    ) -> tuple[Message, bool]:
        """Store a user message with the room's next seq; committed when it returns.

        If the author already posted `client_id` in the room: that message and False, nothing
        stored. Otherwise the new message and True. NotFound (room_not_found) for an unknown
        room, Forbidden (not_a_member) if the author is not a member of it.
        """

    async def history(
        self, room_id: int, *, before_seq: int | None, after_seq: int | None, limit: int
    ) -> list[Message]:
        """At most `limit` messages ascending by seq: just above after_seq if given (and below
        before_seq if given too), else just below before_seq, else the latest."""


class MessageChangeRepo(Protocol):
    """Edits and deletes: each change and its event (the room's next seq) in one transaction."""

    async def target(self, *, room_id: int, seq: int, actor_id: int) -> ChangeTarget: ...

    async def edit(
        self,
        *,
        room_id: int,
        seq: int,
        editor_id: int,
        body: str,
        not_before: datetime | None,
    ) -> MessageEdited | None:
        """Replace the body of the editor's own message, not deleted, written at or after
        not_before, while the editor is a member; None (and no change) otherwise."""

    async def delete(
        self, *, room_id: int, seq: int, actor_id: int, as_moderator: bool
    ) -> MessageDeleted | None:
        """Delete the user message (its body, and those of its edits, gone from storage): the
        actor's own while a member, or, as_moderator, anyone's while the actor's role in the
        room is owner or moderator. None (and no change) otherwise, or if deleted already."""


class MessageSearch(Protocol):
    async def search(
        self, room_id: int, query: str, *, before_seq: int | None, limit: int
    ) -> list[Message]:
        """The room's user messages whose body matches the words, newest first, below
        before_seq if given, at most `limit`."""


class ReadMarkerRepo(Protocol):
    async def move(self, *, room_id: int, user_id: int, seq: int) -> tuple[int, bool] | None:
        """Move the member's marker forwards to seq (at most the room's last seq): the marker
        now and whether it moved; None if the user is not a member of the room."""

    async def readings(self, user_id: int) -> list[RoomReading]:
        """Every room of the user, with its marker and unread count, by room id."""


class Outbox(Protocol):
    """One connection's outbound frames: a bounded queue a writer drains. Never waits."""

    user_id: int
    capacity: int  # frames queued (or held for a replay) before the connection is dropped
    closed: bool

    def send(self, text: str) -> None:
        """Queue a frame; a full queue closes the connection (a slow consumer)."""

    def overflow(self) -> None:
        """Close the connection as a slow consumer."""

    async def close(self, *, code: int, message: bytes = b"", drain: float = 0) -> None:
        """Close the socket, first letting the queue drain for up to `drain` seconds."""

    def stop(self) -> None:
        """The socket is gone: stop writing."""


class RoomStreams(Protocol):
    """This process's live streams of rooms and of users' membership changes."""

    async def follow_user(self, user_id: int) -> None:
        """Receive the user's membership changes made anywhere, until unfollow_user."""

    def unfollow_user(self, user_id: int) -> None: ...

    async def watch(self, room_id: int, outbox: Outbox, *, hold: bool) -> "RoomCursor | None":
        """Stream the room's messages from now on to the outbox (held back while `hold`, for a
        replay to go first); None if the outbox closed meanwhile or the room's stream stopped."""

    def unwatch(self, cursor: "RoomCursor") -> None: ...


class Readiness(Protocol):
    async def check(self) -> dict[str, bool]:
        """Each dependency by name, and whether it answers now."""


class PresenceReader(Protocol):
    async def online(self, user_ids: list[int]) -> set[int]:
        """Those of the users who have a connection open on a live process."""


@dataclass(frozen=True, slots=True)
class Renewal:
    lost: bool  # this process's claims had expired: they may be gone, make them again
    expired: list[str]  # processes whose claims expired, each handed to one renewer to sweep


class PresenceStore(PresenceReader, Protocol):
    """Who is online, shared by every process. A process claims each user it holds connections
    of, under its own name, and keeps its claims alive by renewing them; the claims of a
    process that stops renewing (a crash) expire. Each change that makes a user online or
    offline announces it (presence frames to the user's rooms) in the same atomic step, so
    announcements are ordered as the changes are."""

    async def claim(self, user: User, room_ids: list[int]) -> bool:
        """Claim the user for this process; True if nobody held them: announced online."""

    async def release(self, user: User, room_ids: list[int], *, process: str = "") -> bool:
        """Drop the claim of this process (or of the expired `process`); True if nobody holds
        the user now: announced offline. A process that came back keeps its claims."""

    async def renew(self) -> Renewal: ...

    async def orphans(self, process: str) -> list[int]:
        """The users an expired process claimed."""

    async def forget(self, process: str) -> None:
        """Drop what is left of an expired process (unless it came back)."""
