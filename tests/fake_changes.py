"""Fakes of the edit/delete, read marker and search ports over a FakeRoomRepo's store, each
guarding its write as the SQL functions do (sql/0004, sql/0005). They don't inherit."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from chatd.domain.events import MessageDeleted, MessageEdited
from chatd.domain.message_rules import MODERATING_ROLES, ChangeTarget
from chatd.domain.model import Member, Message, RoomReading
from tests.fake_rooms import FakeRoomRepo
from tests.fakes import EPOCH


class FakeMessageChanges:
    """Edits and deletes of the store's messages. Each event takes the room's next seq: it is
    kept in `events`, and its position in the store as a row of kind 'edit' or 'delete'.
    `before_write` runs once, just before the next write: a change made by someone else
    between the read and the write."""

    def __init__(self, store: FakeRoomRepo) -> None:
        self.store = store
        self.events: list[MessageEdited | MessageDeleted] = []
        self.writes: list[tuple[str, dict]] = []
        self.before_write: Callable[[], None] | None = None

    async def target(self, *, room_id: int, seq: int, actor_id: int) -> ChangeTarget:
        if room_id not in self.store.rooms:
            return ChangeTarget(False, None, None, None, None, False)
        member = self.store.memberships[room_id].get(actor_id)
        found = self._message(room_id, seq)
        if found is None:
            return ChangeTarget(True, member and member.role, None, None, None, False)
        author_id = found.author.id if found.author else None
        return ChangeTarget(
            True, member and member.role, found.kind, author_id, found.created_at, found.deleted
        )

    async def edit(
        self, *, room_id: int, seq: int, editor_id: int, body: str, not_before: datetime | None
    ) -> MessageEdited | None:
        self._about_to_write("edit", locals())
        found = self._message(room_id, seq)
        member = self.store.memberships.get(room_id, {}).get(editor_id)
        if (
            found is None
            or found.kind != "user"
            or found.deleted
            or found.author is None
            or found.author.id != editor_id
            or member is None
            or (not_before is not None and found.created_at < not_before)
        ):
            return None
        at = EPOCH + timedelta(seconds=len(self.events) + 1)
        self._replace(found, replace(found, body=body, edited_at=at))
        event = MessageEdited(room_id, self._next_seq(room_id, "edit"), seq, body, at)
        self.events.append(event)
        return event

    async def delete(
        self, *, room_id: int, seq: int, actor_id: int, as_moderator: bool
    ) -> MessageDeleted | None:
        self._about_to_write("delete", locals())
        found = self._message(room_id, seq)
        member: Member | None = self.store.memberships.get(room_id, {}).get(actor_id)
        if found is None or found.kind != "user" or found.deleted or member is None:
            return None
        if as_moderator and member.role not in MODERATING_ROLES:
            return None
        if not as_moderator and (found.author is None or found.author.id != actor_id):
            return None
        self._replace(found, replace(found, body=None, deleted=True))
        event = MessageDeleted(room_id, self._next_seq(room_id, "delete"), seq)
        self.events.append(event)
        return event

    def delete_now(self, room_id: int, seq: int) -> None:
        """Someone deletes the message (between a read and a write)."""
        found = self._message(room_id, seq)
        assert found is not None
        self._replace(found, replace(found, body=None, deleted=True))

    def _about_to_write(self, kind: str, arguments: dict) -> None:
        self.writes.append((kind, {k: v for k, v in arguments.items() if k != "self"}))
        if self.before_write is not None:
            self.before_write, before_write = None, self.before_write
            before_write()

    def _message(self, room_id: int, seq: int) -> Message | None:
        for m in self.store.messages:
            if (m.room_id, m.seq) == (room_id, seq):
                return m
        return None

    def _replace(self, old: Message, new: Message) -> None:
        self.store.messages[self.store.messages.index(old)] = new

    def _next_seq(self, room_id: int, kind: str) -> int:
        return self.store.store(room_id, kind, None, None, None).seq


class FakeReadMarkers:
    """Markers per (room, user), only forwards and at most the room's last seq."""

    def __init__(self, store: FakeRoomRepo) -> None:
        self.store = store
        self.markers: dict[tuple[int, int], int] = {}

    async def move(self, *, room_id: int, user_id: int, seq: int) -> tuple[int, bool] | None:
        if user_id not in self.store.memberships.get(room_id, {}):
            return None
        last = max((m.seq for m in self.store.messages if m.room_id == room_id), default=0)
        current = self.markers.get((room_id, user_id), 0)
        target = min(seq, last)
        if target <= current:
            return current, False
        self.markers[(room_id, user_id)] = target
        return target, True

    async def readings(self, user_id: int) -> list[RoomReading]:
        readings = []
        for room_id in await self.store.room_ids_of(user_id):
            marker = self.markers.get((room_id, user_id), 0)
            unread = sum(
                1
                for m in self.store.messages
                if m.room_id == room_id
                and m.seq > marker
                and m.kind == "user"
                and not m.deleted
                and m.author is not None
                and m.author.id != user_id
            )
            readings.append(RoomReading(await self.store.get(room_id), marker, unread))
        return readings


class FakeSearch:
    """Every user message whose body has all the query's words, newest first."""

    def __init__(self, store: FakeRoomRepo) -> None:
        self.store = store
        self.queries: list[str] = []

    async def search(
        self, room_id: int, query: str, *, before_seq: int | None, limit: int
    ) -> list[Message]:
        self.queries.append(query)
        words = query.lower().split()
        found = [
            m
            for m in self.store.messages
            if m.room_id == room_id
            and m.kind == "user"
            and m.body is not None
            and (before_seq is None or m.seq < before_seq)
            and all(w in m.body.lower().split() for w in words)
        ]
        return sorted(found, key=lambda m: -m.seq)[:limit]
