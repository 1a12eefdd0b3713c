"""Small fakes of the application's ports, for unit tests of use cases. They don't inherit:
the Protocols in chatd.application.ports are structural."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chatd.domain.errors import Conflict, NotAuthenticated
from chatd.domain.events import RoomEvent
from chatd.domain.model import (
    Credentials,
    Member,
    Message,
    RefreshGrant,
    Room,
    SpentToken,
    TokenState,
    User,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = EPOCH) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class FakeUserRepo:
    def __init__(self) -> None:
        self.credentials: dict[int, Credentials] = {}

    async def add(self, *, username: str, password_hash: bytes) -> User:
        if any(c.user.username.lower() == username.lower() for c in self.credentials.values()):
            raise Conflict("that username is taken", code="username_taken")
        user = User(id=len(self.credentials) + 1, username=username, created_at=EPOCH)
        self.credentials[user.id] = Credentials(user, password_hash)
        return user

    async def get(self, user_id: int) -> User | None:
        found = self.credentials.get(user_id)
        return found.user if found else None

    async def find_credentials(self, username: str) -> Credentials | None:
        for credentials in self.credentials.values():
            if credentials.user.username.lower() == username.lower():
                return credentials
        return None


class FakeRefreshTokenRepo:
    def __init__(self) -> None:
        self.rows: dict[bytes, dict] = {}

    async def add(self, *, token_hash: bytes, user_id: int, family_id: str, expires_at) -> None:
        self.rows[token_hash] = {
            "user_id": user_id,
            "family_id": family_id,
            "spent": False,
            "revoked": False,
        }

    async def spend(self, token_hash: bytes) -> SpentToken | None:
        row = self.rows.get(token_hash)
        if row is None:
            return None
        if row["revoked"]:
            state = TokenState.REVOKED
        elif row["spent"]:
            state = TokenState.SPENT
        else:
            state = TokenState.FRESH
        row["spent"] = True
        return SpentToken(user_id=row["user_id"], family_id=row["family_id"], state=state)

    async def revoke_family(self, family_id: str) -> None:
        for row in self.rows.values():
            if row["family_id"] == family_id:
                row["revoked"] = True


class FakeFailureLimiter:
    """Counts failures per key, without windows: tests move time by calling `forget`."""

    def __init__(self, *, limit: int, retry_after_seconds: int = 900) -> None:
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds
        self.failures: dict[str, int] = {}

    async def retry_after(self, keys: list[str]) -> int:
        blocked = any(self.failures.get(key, 0) >= self.limit for key in keys)
        return self.retry_after_seconds if self.limit and blocked else 0

    async def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            self.failures[key] = self.failures.get(key, 0) + 1

    def forget(self) -> None:
        self.failures.clear()


class FakeRateLimiter:
    """Allows `limit` events per key (0: unlimited), then answers `retry_after_seconds`."""

    def __init__(self, *, limit: int = 0, retry_after_seconds: int = 10) -> None:
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds
        self.counts: dict[str, int] = {}

    async def acquire(self, key: str) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        over = self.limit and self.counts[key] > self.limit
        return self.retry_after_seconds if over else 0


class FakeHasher:
    """Reversible 'hashing', recording every check so tests can see the dummy check happen."""

    def __init__(self) -> None:
        self.checks: list[tuple[str, bytes | None]] = []

    async def hash(self, password: str) -> bytes:
        return b"hashed:" + password.encode()

    async def verify(self, password: str, password_hash: bytes | None) -> bool:
        self.checks.append((password, password_hash))
        return password_hash == b"hashed:" + password.encode()


class FakeTokenCodec:
    """Tokens as readable strings: 'access:<user>:<n>' and 'refresh:<user>:<family>:<n>'."""

    access_ttl = 900
    refresh_ttl = 3600

    def __init__(self) -> None:
        self._issued = 0

    def issue_access(self, user_id: int) -> str:
        self._issued += 1
        return f"access:{user_id}:{self._issued}"

    def issue_refresh(self, user_id: int, family_id: str) -> str:
        self._issued += 1
        return f"refresh:{user_id}:{family_id}:{self._issued}"

    def read_access(self, token: str) -> int:
        kind, user_id, *_ = [*token.split(":"), "", ""]
        if kind != "access" or not user_id.isdigit():
            raise NotAuthenticated("invalid token", code="invalid_token")
        return int(user_id)

    def read_refresh(self, token: str) -> RefreshGrant:
        parts = token.split(":")
        if len(parts) != 4 or parts[0] != "refresh":
            raise NotAuthenticated("invalid token", code="invalid_token")
        return RefreshGrant(user_id=int(parts[1]), family_id=parts[2])


class FakeRoomRepo:
    """Rooms, memberships and every room's messages in memory, seq counted per room like the
    database does. Set `fail_writes` to make the next writes fail as a rolled-back transaction."""

    def __init__(self) -> None:
        self.rooms: dict[int, Room] = {}
        self.memberships: dict[int, dict[int, Member]] = {}
        self.messages: list[Message] = []
        self.fail_writes = False

    async def add(self, *, name: str, topic: str, owner: User) -> Room:
        self._maybe_fail()
        room = Room(len(self.rooms) + 1, name, topic, owner.id, EPOCH, member_count=1)
        self.rooms[room.id] = room
        self.memberships[room.id] = {owner.id: Member(owner, "owner", EPOCH)}
        return room

    async def get(self, room_id: int) -> Room | None:
        room = self.rooms.get(room_id)
        if room is None:
            return None
        return replace(room, member_count=len(self.memberships[room_id]))

    async def list_page(
        self, *, viewer_id: int, limit: int, before_id: int | None
    ) -> list[tuple[Room, bool]]:
        ids = sorted((i for i in self.rooms if before_id is None or i < before_id), reverse=True)
        return [(await self.get(i), viewer_id in self.memberships[i]) for i in ids[:limit]]

    async def add_member(self, *, room_id: int, user: User) -> Message | None:
        self._maybe_fail()
        if room_id not in self.rooms or user.id in self.memberships[room_id]:
            return None
        role = "owner" if self.rooms[room_id].owner_id == user.id else "member"
        self.memberships[room_id][user.id] = Member(user, role, EPOCH)
        return self.store(room_id, "system", None, f"{user.username} joined", None)

    async def remove_member(self, *, room_id: int, user: User) -> Message | None:
        self._maybe_fail()
        if self.memberships.get(room_id, {}).pop(user.id, None) is None:
            return None
        return self.store(room_id, "system", None, f"{user.username} left", None)

    async def members(self, room_id: int) -> list[Member]:
        return list(self.memberships[room_id].values())

    async def room_ids_of(self, user_id: int) -> list[int]:
        return sorted(i for i, members in self.memberships.items() if user_id in members)

    async def is_member(self, room_id: int, user_id: int) -> bool:
        return user_id in self.memberships.get(room_id, {})

    def store(
        self, room_id: int, kind: str, author: User | None, body: str, client_id: str | None
    ) -> Message:
        seq = 1 + max((m.seq for m in self.messages if m.room_id == room_id), default=0)
        message = Message(
            len(self.messages) + 1, room_id, seq, kind, author, body, client_id, EPOCH
        )
        self.messages.append(message)
        return message

    def _maybe_fail(self) -> None:
        if self.fail_writes:
            raise ConnectionError("the database went away mid-transaction")


class FakeMessageRepo:
    """The messages side of a FakeRoomRepo's store."""

    def __init__(self, store: FakeRoomRepo) -> None:
        self.store = store

    async def add(
        self, *, room_id: int, author: User, body: str, client_id: str | None
    ) -> tuple[Message, bool]:
        self.store._maybe_fail()
        for m in self.store.messages if client_id is not None else []:
            if m.room_id == room_id and m.author == author and m.client_id == client_id:
                return m, False
        return self.store.store(room_id, "user", author, body, client_id), True

    async def history(
        self, room_id: int, *, before_seq: int | None, after_seq: int | None, limit: int
    ) -> list[Message]:
        page = [
            m
            for m in self.store.messages
            if m.room_id == room_id
            and (before_seq is None or m.seq < before_seq)
            and (after_seq is None or m.seq > after_seq)
        ]
        return page[:limit] if after_seq is not None else page[-limit:]

    async def list_after(self, room_id: int, after_seq: int, *, limit: int) -> list[Message]:
        return await self.history(room_id, before_seq=None, after_seq=after_seq, limit=limit)

    async def last_seq(self, room_id: int) -> int:
        return max((m.seq for m in self.store.messages if m.room_id == room_id), default=0)


class RecordingBus:
    """Keeps what was published; `on_publish` runs at publish time (to look at the store then)."""

    def __init__(self, on_publish: Callable[[RoomEvent], None] | None = None) -> None:
        self.events: list[RoomEvent] = []
        self._on_publish = on_publish

    async def publish(self, event: RoomEvent) -> None:
        if self._on_publish is not None:
            self._on_publish(event)
        self.events.append(event)
