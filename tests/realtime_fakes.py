"""Fakes for the real-time machinery: stored messages, a socket, a recording sink."""

import asyncio
from datetime import UTC, datetime

from chatd.domain.model import Message, User

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ALICE = User(id=1, username="alice", created_at=EPOCH)
BOB = User(id=2, username="bob", created_at=EPOCH)


def message(room_id: int, seq: int, body: str | None = None) -> Message:
    return Message(
        id=room_id * 100_000 + seq,
        room_id=room_id,
        seq=seq,
        kind="user",
        author=ALICE,
        body=body or f"m{seq}",
        client_id=None,
        created_at=EPOCH,
    )


class FakeMessages:
    """MessageReader over a dict; `fail` makes the next reads raise."""

    def __init__(self) -> None:
        self.rooms: dict[int, list[Message]] = {}
        self.fail = 0
        self.reads = 0

    def store(self, room_id: int, count: int) -> list[Message]:
        stored = self.rooms.setdefault(room_id, [])
        new = [message(room_id, len(stored) + n + 1) for n in range(count)]
        stored.extend(new)
        return new

    async def list_after(self, room_id: int, after_seq: int, *, limit: int) -> list[Message]:
        self.reads += 1
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database down")
        rows = [m for m in self.rooms.get(room_id, []) if m.seq > after_seq][:limit]
        await asyncio.sleep(0)  # the snapshot is taken when the query starts
        return rows

    async def last_seq(self, room_id: int) -> int:
        await asyncio.sleep(0)
        stored = self.rooms.get(room_id, [])
        return stored[-1].seq if stored else 0


class FakeMemberships:
    """MembershipReader over a set of (room_id, user_id)."""

    def __init__(self) -> None:
        self.pairs: set[tuple[int, int]] = set()

    async def room_ids_of(self, user_id: int) -> list[int]:
        return sorted(room for room, user in self.pairs if user == user_id)

    async def is_member(self, room_id: int, user_id: int) -> bool:
        await asyncio.sleep(0)
        return (room_id, user_id) in self.pairs


class FakeSocket:
    """Records what is sent; `blocked` makes send_str wait forever (a client not reading)."""

    def __init__(self, *, blocked: bool = False) -> None:
        self.sent: list[str] = []
        self.blocked = blocked
        self.closed_with: int | None = None
        self.aborted = False

    async def send_str(self, data: str) -> None:
        if self.blocked:
            await asyncio.Event().wait()
        self.sent.append(data)

    async def close(self, *, code: int, message: bytes) -> bool:
        if self.blocked:
            await asyncio.Event().wait()
        self.closed_with = code
        return True

    def abort(self) -> None:
        self.aborted = True


async def settle(rounds: int = 20) -> None:
    """Let the tasks that are ready run (bounded)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
