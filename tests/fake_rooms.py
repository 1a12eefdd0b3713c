"""Fakes of the rooms and messages ports for unit tests: one in-memory store, numbered per room
as the database does."""

import asyncio
from collections.abc import Callable
from dataclasses import replace

from chatd.domain.errors import Forbidden, NotFound
from chatd.domain.model import Member, Message, Room, Standing, User
from chatd.domain.permissions import can_see, check_join
from tests.fakes import ALICE, BOB, EPOCH


def message(room_id: int, seq: int) -> Message:
    """A message of alice's, as stored (id derived from room and seq)."""
    return Message(room_id * 100_000 + seq, room_id, seq, "user", ALICE, f"m{seq}", None, EPOCH)


class FakeRoomRepo:
    """Rooms, memberships and every room's messages in memory, seq counted per room like the
    database does. Set `fail_writes` to make the next writes fail as a rolled-back transaction."""

    def __init__(self) -> None:
        self.rooms: dict[int, Room] = {}
        self.memberships: dict[int, dict[int, Member]] = {}
        self.messages: list[Message] = []
        self.users: dict[int, User] = {u.id: u for u in (ALICE, BOB)}  # the signed-up users
        self.bans: dict[int, dict[int, tuple[User, User]]] = {}  # room: user: (user, by)
        self.invitations: dict[int, dict[int, tuple[User, User]]] = {}  # room: user: (user, by)
        self.fail_writes = False
        self.membership_checks = 0

    async def add(self, *, name: str, topic: str, owner: User, private: bool = False) -> Room:
        self._maybe_fail()
        room = Room(len(self.rooms) + 1, name, topic, owner.id, EPOCH, 1, private=private)
        self.rooms[room.id] = room
        self.memberships[room.id] = {owner.id: Member(owner, "owner", EPOCH)}
        self.users[owner.id] = owner
        return room

    async def standing(self, room_id: int, user_id: int) -> Standing | None:
        user = self.users.get(user_id)
        if user is None:
            return None
        member = self.memberships.get(room_id, {}).get(user_id)
        return Standing(
            user,
            member.role if member else None,
            invited=user_id in self.invitations.get(room_id, {}),
            banned=user_id in self.bans.get(room_id, {}),
        )

    async def get(self, room_id: int) -> Room | None:
        room = self.rooms.get(room_id)
        if room is None:
            return None
        return replace(room, member_count=len(self.memberships[room_id]))

    async def list_page(
        self, *, viewer_id: int, limit: int, before_id: int | None
    ) -> list[tuple[Room, bool]]:
        ids = sorted((i for i in self.rooms if before_id is None or i < before_id), reverse=True)
        listed = [i for i in ids if await self._listed(i, viewer_id)]
        return [(await self.get(i), viewer_id in self.memberships[i]) for i in listed[:limit]]

    async def _listed(self, room_id: int, viewer_id: int) -> bool:
        standing = await self.standing(room_id, viewer_id)
        room = self.rooms[room_id]
        return room.kind == "room" and standing is not None and can_see(room, standing)

    async def add_member(self, *, room_id: int, user: User) -> Message | None:
        self._maybe_fail()
        if room_id not in self.rooms:
            raise NotFound(f"there is no room {room_id}", code="room_not_found")
        self.users.setdefault(user.id, user)
        if user.id in self.memberships[room_id]:
            return None
        room = self.rooms[room_id]
        check_join(room, await self.standing(room_id, user.id))
        role = "owner" if room.owner_id == user.id and room.kind == "room" else "member"
        self.memberships[room_id][user.id] = Member(user, role, EPOCH)
        self.invitations.get(room_id, {}).pop(user.id, None)
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
        self.users.setdefault(user.id, user)

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
        if room_id not in self.store.rooms:
            raise NotFound(f"there is no room {room_id}", code="room_not_found")
        if author.id not in self.store.memberships.get(room_id, {}):
            raise Forbidden("only members of the room may do this", code="not_a_member")
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
