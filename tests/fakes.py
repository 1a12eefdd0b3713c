"""The one set of fakes of the application's ports, for unit tests. They don't inherit: the
Protocols in chatd.application.ports are structural."""

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chatd.application.frames import event_frame
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
from chatd.infrastructure.channels import BusSink, channels_of, route

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ALICE = User(id=1, username="alice", created_at=EPOCH)
BOB = User(id=2, username="bob", created_at=EPOCH)


def message(room_id: int, seq: int) -> Message:
    """A message of alice's, as stored (id derived from room and seq)."""
    return Message(room_id * 100_000 + seq, room_id, seq, "user", ALICE, f"m{seq}", None, EPOCH)


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
        self.membership_checks = 0

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
        await asyncio.sleep(0)  # a query: other tasks run meanwhile
        self.membership_checks += 1
        return user_id in self.memberships.get(room_id, {})

    def enroll(self, room_id: int, user: User) -> None:
        """Make the user a member directly, as if it happened on another process."""
        self.memberships.setdefault(room_id, {})[user.id] = Member(user, "member", EPOCH)

    def expel(self, room_id: int, user: User) -> None:
        self.memberships.get(room_id, {}).pop(user.id, None)

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
    """The messages side of a FakeRoomRepo's store. `fail` makes the next reads raise; reads
    take their snapshot when the query starts and answer a step later, as a database does."""

    def __init__(self, store: FakeRoomRepo | None = None) -> None:
        self.store = store or FakeRoomRepo()
        self.fail = 0
        self.reads = 0
        self.on_read: Callable[[], None] | None = None  # runs once, as the next read starts

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
        self.reads += 1
        if self.on_read is not None:
            self.on_read, on_read = None, self.on_read
            on_read()
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database down")
        rows = await self.history(room_id, before_seq=None, after_seq=after_seq, limit=limit)
        await asyncio.sleep(0)
        return rows

    async def last_seq(self, room_id: int) -> int:
        await asyncio.sleep(0)
        return max((m.seq for m in self.store.messages if m.room_id == room_id), default=0)

    def post(self, room_id: int, count: int) -> list[Message]:
        """Store `count` messages of alice's in the room (as another process would)."""
        return [self.store.store(room_id, "user", ALICE, "m", None) for _ in range(count)]

    def lose(self, room_id: int, seq: int) -> None:
        """A stored message vanishes (never happens with PostgreSQL's counter)."""
        self.store.messages = [
            m for m in self.store.messages if (m.room_id, m.seq) != (room_id, seq)
        ]


class InMemoryBus:
    """The event bus inside one process: keeps every published event in `events` (`on_publish`
    looks at the world at publish time), and routes each, encoded, to the channels subscribed."""

    def __init__(self, on_publish: Callable[[RoomEvent], None] | None = None) -> None:
        self.events: list[RoomEvent] = []
        self._on_publish = on_publish
        self._channels: set[str] = set()
        self._sink: BusSink | None = None

    def attach(self, sink: BusSink) -> None:
        self._sink = sink

    def subscribe(self, channel: str) -> asyncio.Future[None]:
        self._channels.add(channel)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    async def publish(self, event: RoomEvent) -> None:
        if self._on_publish is not None:
            self._on_publish(event)
        self.events.append(event)
        text = event_frame(event)
        for channel in channels_of(event):
            if channel in self._channels:
                route(self._sink, channel, text)


class FakeOutbox:
    """A connection's outbox that keeps what it was sent, at once (no writer task)."""

    def __init__(self, user: User = ALICE, *, capacity: int = 1024) -> None:
        self.user_id = user.id
        self.capacity = capacity
        self.sent: list[str] = []
        self.closed = False
        self.close_code: int | None = None

    def send(self, text: str) -> None:
        if not self.closed:
            self.sent.append(text)

    def overflow(self) -> None:
        self.closed, self.close_code = True, 1013

    async def close(self, *, code: int, message: bytes = b"", drain: float = 0) -> None:
        self.closed, self.close_code = True, code

    def stop(self) -> None:
        self.closed = True


class FakeSocket:
    """Records what is sent; `blocked` makes send_str wait forever (a client not reading)."""

    def __init__(self, *, blocked: bool = False) -> None:
        self.sent: list[str] = []
        self.blocked = blocked
        self.closed_with: int | None = None
        self.aborted = asyncio.Event()
        self._changed = asyncio.Event()

    async def send_str(self, data: str) -> None:
        if self.blocked:
            await asyncio.Event().wait()
        self.sent.append(data)
        self._changed.set()

    async def close(self, *, code: int, message: bytes) -> bool:
        if self.blocked:
            await asyncio.Event().wait()
        self.closed_with = code
        self._changed.set()
        return True

    def abort(self) -> None:
        self.aborted.set()

    async def received(self, count: int, within: float = 2.0) -> list[str]:
        """Wait until `count` frames were written; all of them."""
        async with asyncio.timeout(within):
            while len(self.sent) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.sent


async def until(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Wait, bounded, for a condition on state that no event announces (a background task's
    work, such as a gap fill or a retry after a delay), looking again every millisecond."""
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.001)
