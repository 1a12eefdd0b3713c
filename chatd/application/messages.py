"""Messaging: post a message (idempotent by client_id) and read a room's history."""

from chatd.application.ports import EventBus, MessageRepo, RateLimiter, RoomRepo
from chatd.application.rooms import ensure_member
from chatd.domain.errors import Forbidden, RateLimited
from chatd.domain.events import MessagePosted
from chatd.domain.model import Message, User
from chatd.domain.rules import DEFAULT_PAGE, check_body, check_client_id, check_limit


class Messaging:
    def __init__(
        self, *, messages: MessageRepo, rooms: RoomRepo, bus: EventBus, sends: RateLimiter
    ) -> None:
        self._messages = messages
        self._rooms = rooms
        self._bus = bus
        self._sends = sends  # per author, across processes

    async def post(
        self, *, room_id: int, author: User, body: str, client_id: str | None = None
    ) -> tuple[Message, bool]:
        """The stored message and whether this call stored it (False: a client_id repeat)."""
        body = check_body(body)
        if client_id is not None:
            check_client_id(client_id)
        retry_after = await self._sends.acquire(f"send:{author.id}")
        if retry_after:
            raise RateLimited("too many messages; slow down", retry_after=retry_after)
        # Membership is checked by the store, in the same round trip as the insert.
        try:
            message, created = await self._messages.add(
                room_id=room_id, author=author, body=body, client_id=client_id
            )
        except Forbidden:
            await ensure_member(self._rooms, room_id=room_id, user=author)  # 404 if hidden
            raise
        if created:
            await self._bus.publish(MessagePosted(message))
        return message, created

    async def history(
        self,
        *,
        room_id: int,
        reader: User,
        before_seq: int | None = None,
        after_seq: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> list[Message]:
        """Ascending by seq; see MessageRepo.history for which page."""
        check_limit(limit)
        await ensure_member(self._rooms, room_id=room_id, user=reader)
        return await self._messages.history(
            room_id, before_seq=before_seq, after_seq=after_seq, limit=limit
        )
