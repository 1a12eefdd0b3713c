"""Read markers: how far a user has read each room, and what is unread."""

from chatd.application.ports import EventBus, ReadMarkerRepo, RoomRepo
from chatd.application.rooms import ensure_member
from chatd.domain.errors import Forbidden, InvalidInput
from chatd.domain.events import ReadMarkerMoved
from chatd.domain.model import RoomReading, User

MAX_SEQ = 2**63 - 1


class ReadMarkers:
    def __init__(self, *, markers: ReadMarkerRepo, rooms: RoomRepo, bus: EventBus) -> None:
        self._markers = markers
        self._rooms = rooms
        self._bus = bus

    async def mark_read(self, *, room_id: int, user: User, seq: int) -> int:
        """Move the user's marker forwards to seq (clamped to the room's last seq); a lower seq
        changes nothing. The marker now; every connection of the user hears of a move."""
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
            raise InvalidInput("'seq' must be an integer >= 0", code="invalid_field")
        moved = await self._markers.move(room_id=room_id, user_id=user.id, seq=seq)
        if moved is None:
            await ensure_member(self._rooms, room_id=room_id, user=user)
            raise Forbidden("only members of the room may do this", code="not_a_member")
        marker, changed = moved
        if changed:
            await self._bus.publish(ReadMarkerMoved(user_id=user.id, room_id=room_id, seq=marker))
        return marker

    async def my_rooms(self, *, user: User) -> list[RoomReading]:
        return await self._markers.readings(user.id)
